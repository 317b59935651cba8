// The cloud app: an Azure Functions app on Linux in a Flex Consumption (FC1) plan, running the
// .NET isolated worker (functions/ServerlessImaging.FunctionApp, dotnet publish output) with the
// Durable Functions extension on the Azure Storage backend. System-assigned identity for every
// data-plane call; no connection strings, no keys, basic publishing credentials off.

import { auditAnchorKeyName } from '../types.bicep'

@description('Azure region.')
param location string

@description('Name of the Flex Consumption plan.')
param planName string

@description('Name of the function app.')
param appName string

@description('Blob endpoint of the storage account holding the deployment container.')
param deploymentBlobEndpoint string

@description('Container the platform reads the function package from.')
param deploymentContainerName string

@description('Name of the storage account the Functions host uses (AzureWebJobsStorage, identity-based).')
param hostStorageAccountName string

@description('Most instances the plan may scale out to.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Subnet for outbound VNet integration; empty for none.')
param vnetIntegrationSubnetId string

@description('Application Insights connection string (not a secret: ingestion requires Entra auth).')
param appInsightsConnectionString string

@description('Settings the app itself reads (CloudAppSettings), already resolved to values.')
param appSettings {
  @description('Storage__QueueServiceUri')
  queueServiceUri: string
  @description('Storage__BlobServiceUri')
  blobServiceUri: string
  @description('Storage__TableServiceUri (the Durable Functions task hub\'s tables)')
  tableServiceUri: string
  @description('Cosmos__AccountEndpoint')
  cosmosAccountEndpoint: string
  @description('Cosmos__DatabaseName')
  cosmosDatabaseName: string
  @description('DicomWeb__BaseUrl')
  dicomWebBaseUrl: string
  @description('DicomWeb__TokenScope')
  dicomWebTokenScope: string
  @description('Auth__Authority')
  authAuthority: string
  @description('Auth__Audience')
  authAudience: string
  @description('Smtp__Host')
  smtpHost: string
  @description('Smtp__Port')
  smtpPort: int
  @description('Smtp__Security')
  smtpSecurity: string
  @description('Smtp__From')
  smtpFrom: string
  @description('Smtp__UserName; empty when the relay accepts the app without credentials.')
  smtpUserName: string
  @description('Key Vault URI holding the smtp-password secret (used only with a user name).')
  vaultUri: string
  @description('Viewer__StudyUrlTemplate')
  viewerStudyUrlTemplate: string
  @description('Sites__Ids: comma-separated site ids. The app searches these sites and registers one queue trigger per site on relay-events-<site>.')
  siteIds: string
  @description('Audit__Atna__Host: the ATNA collector the audit trail is exported to; empty: no export.')
  atnaHost: string
  @description('Audit__Atna__Port')
  atnaPort: int
}

@description('Browser origins allowed to call the API (the web console\'s); no credentials (bearer tokens, not cookies).')
param corsAllowedOrigins string[]

@description('Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

@description('Tags applied to every resource.')
param tags object

var hostSettings = [
  // The Functions host's own storage, through the app's identity (no AzureWebJobsStorage key).
  { name: 'AzureWebJobsStorage__accountName', value: hostStorageAccountName }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: appInsightsConnectionString }
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: 'Authorization=AAD' }
]

// Connection "Storage", one set of settings for three readers: the app's own queue and blob clients, the
// per-site relay-events-<site> queue triggers (Connection = "Storage") and the Durable extension's task hub
// (storageProvider.connectionName "Storage": blobs, queues and tables). The host looks connection properties up
// case-insensitively (Storage__QueueServiceUri is its queueServiceUri), and App Service refuses two settings whose
// names differ only in case, so each endpoint appears once, spelled as CloudAppSettings spells it.
var storageConnectionSettings = [
  { name: 'Storage__QueueServiceUri', value: appSettings.queueServiceUri }
  { name: 'Storage__BlobServiceUri', value: appSettings.blobServiceUri }
  { name: 'Storage__TableServiceUri', value: appSettings.tableServiceUri }
  { name: 'Storage__credential', value: 'managedidentity' }
]

var applicationSettings = [
  { name: 'Cosmos__AccountEndpoint', value: appSettings.cosmosAccountEndpoint }
  { name: 'Cosmos__DatabaseName', value: appSettings.cosmosDatabaseName }
  { name: 'DicomWeb__BaseUrl', value: appSettings.dicomWebBaseUrl }
  { name: 'DicomWeb__TokenScope', value: appSettings.dicomWebTokenScope }
  { name: 'Auth__Authority', value: appSettings.authAuthority }
  { name: 'Auth__Audience', value: appSettings.authAudience }
  { name: 'Smtp__Host', value: appSettings.smtpHost }
  { name: 'Smtp__Port', value: string(appSettings.smtpPort) }
  { name: 'Smtp__Security', value: appSettings.smtpSecurity }
  { name: 'Smtp__From', value: appSettings.smtpFrom }
  { name: 'Viewer__StudyUrlTemplate', value: appSettings.viewerStudyUrlTemplate }
  // The site list: which PACS a registration searches, and which events queues get a trigger (RelayEvents-<site> on
  // relay-events-<site>). A site left out here is never read from, whatever its relay sends.
  { name: 'Sites__Ids', value: appSettings.siteIds }
  // Pseudonymous patient keys in logs and audit must be stable across instances and restarts: one secret, kept in Key Vault
  // (created by the operator, never in a template or deployment history; see infra/README.md).
  { name: 'Identity__PseudonymisationSecret', value: '@Microsoft.KeyVault(SecretUri=${appSettings.vaultUri}secrets/pseudonymisation-secret)' }
  // The audit chain's anchors are signed with this key (audit-anchor-key.bicep); the app may only sign with it.
  { name: 'Audit__AnchorKeyId', value: '${appSettings.vaultUri}keys/${auditAnchorKeyName}' }
  // Deliveries to a meeting site's PACS: relays read the study through the app's delivery source (one study per token),
  // at this address; the tokens' HMAC key stays in Key Vault (created by the operator, see infra/README.md).
  { name: 'Delivery__SourceBaseUrl', value: 'https://${appName}.azurewebsites.net/' }
  { name: 'Delivery__SourceTokenSecret', value: '@Microsoft.KeyVault(SecretUri=${appSettings.vaultUri}secrets/delivery-source-token-secret)' }
]

// SMTP credentials only when the relay needs them; the password stays in Key Vault and the
// platform resolves the reference with the app's identity.
var smtpCredentialSettings = empty(appSettings.smtpUserName)
  ? []
  : [
      { name: 'Smtp__UserName', value: appSettings.smtpUserName }
      { name: 'Smtp__Password', value: '@Microsoft.KeyVault(SecretUri=${appSettings.vaultUri}secrets/smtp-password)' }
    ]

// The audit trail's export to a SIEM (IHE ATNA over syslog/TLS) only when a collector is named; its CA certificate
// (PEM, public but it decides whom the app trusts) stays in Key Vault, created by an operator like smtp-password.
var atnaSettings = empty(appSettings.atnaHost)
  ? []
  : [
      { name: 'Audit__Atna__Host', value: appSettings.atnaHost }
      { name: 'Audit__Atna__Port', value: string(appSettings.atnaPort) }
      { name: 'Audit__Atna__CaCertificatePem', value: '@Microsoft.KeyVault(SecretUri=${appSettings.vaultUri}secrets/atna-collector-ca)' }
    ]

resource plan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource app 'Microsoft.Web/sites@2024-11-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: { type: 'SystemAssigned' }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientCertEnabled: false
    virtualNetworkSubnetId: empty(vnetIntegrationSubnetId) ? null : vnetIntegrationSubnetId
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${deploymentBlobEndpoint}${deploymentContainerName}'
          authentication: { type: 'SystemAssignedIdentity' }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      // .NET 10 isolated worker (the app targets net10.0); check the region's list before deploying (infra/README.md).
      runtime: { name: 'dotnet-isolated', version: '10.0' }
    }
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      cors: { allowedOrigins: corsAllowedOrigins, supportCredentials: false }
      appSettings: concat(hostSettings, storageConnectionSettings, applicationSettings, smtpCredentialSettings, atnaSettings)
    }
  }
}

// Deployments authenticate with Entra ID only.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'ftp'
  properties: { allow: false }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-11-01' = {
  parent: app
  name: 'scm'
  properties: { allow: false }
}

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: app
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

output appId string = app.id
output appName string = app.name
output principalId string = app.identity.principalId
output defaultHostName string = app.properties.defaultHostName
