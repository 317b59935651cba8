// The web console and the study viewer as a storage static website (the `$web` container of an account of their own):
// static files only, no data in them; the API (function app) and the DICOM service stay behind Entra ID. A separate
// account keeps the anonymous website endpoint away from the account holding queues, staging and the task hub.
// Static website hosting itself is switched on by a data-plane call (not an ARM property): infra/README.md, "Console".

@description('Azure region.')
param location string

@description('Name of the storage account (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param accountName string

@description('Private networking: the website answers through its private endpoint (sub-resource web) only.')
param restrictPublicNetworkAccess bool

@description('Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

@description('Tags applied to every resource.')
param tags object

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: accountName
  location: location
  // The tag tells this account from the app's (tests and operators alike).
  tags: union(tags, { purpose: 'console-static-site' })
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  properties: {
    accessTier: 'Hot'
    // The website endpoint serves $web anonymously whatever this says; the blob endpoint stays Entra ID only.
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: restrictPublicNetworkAccess ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'None'
      defaultAction: restrictPublicNetworkAccess ? 'Deny' : 'Allow'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: { enabled: true, keyType: 'Account' }
        file: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    // A bad upload can be rolled back by hand for a week.
    deleteRetentionPolicy: { enabled: true, days: 7 }
  }
}

resource accountDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

output accountId string = account.id
output accountName string = account.name

@description('The website\'s origin (https://<account>.<zone>.web.<suffix>, no trailing slash): what CORS allows.')
output origin string = take(account.properties.primaryEndpoints.web, length(account.properties.primaryEndpoints.web) - 1)
