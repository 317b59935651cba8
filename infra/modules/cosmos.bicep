// Cosmos DB for NoSQL: the app's database and containers (meetings, registrations, sites,
// idempotency keys, the audit trail). Entra ID only (local keys disabled), continuous backup
// for point-in-time restore, and no TTL on the audit container so no record can expire.

import { cosmosDatabase, cosmosContainers } from '../types.bicep'

@description('Azure region.')
param location string

@description('Name of the Cosmos DB account.')
@minLength(3)
@maxLength(44)
param accountName string

@description('Serverless capacity (pay per request; dev and small networks) instead of autoscale throughput.')
param serverless bool

@description('Autoscale ceiling in RU/s for the shared database throughput when not serverless.')
@minValue(1000)
param autoscaleMaxThroughput int

@description('Continuous backup tier: Continuous7Days or Continuous30Days (point-in-time restore window).')
@allowed(['Continuous7Days', 'Continuous30Days'])
param continuousBackupTier string

@description('Zone redundancy in the primary region.')
param zoneRedundant bool

@description('Refuse traffic from public networks (private endpoint only).')
param disablePublicNetworkAccess bool

@description('Encrypt with the customer-managed key below instead of platform-managed keys.')
param useCustomerManagedKey bool

@description('Versionless customer-managed key URI; empty for service-managed keys.')
param cmkKeyUri string

@description('Resource id of the user-assigned identity that can unwrap the customer-managed key.')
param cmkIdentityId string

@description('Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

@description('Tags applied to every resource.')
param tags object

resource account 'Microsoft.DocumentDB/databaseAccounts@2025-04-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  identity: useCustomerManagedKey
    ? { type: 'UserAssigned', userAssignedIdentities: { '${cmkIdentityId}': {} } }
    : { type: 'None' }
  properties: {
    databaseAccountOfferType: 'Standard'
    locations: [{ locationName: location, failoverPriority: 0, isZoneRedundant: zoneRedundant }]
    consistencyPolicy: { defaultConsistencyLevel: 'Session' }
    capabilities: serverless ? [{ name: 'EnableServerless' }] : []
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    publicNetworkAccess: disablePublicNetworkAccess ? 'Disabled' : 'Enabled'
    networkAclBypass: 'None'
    backupPolicy: {
      type: 'Continuous'
      continuousModeProperties: { tier: continuousBackupTier }
    }
    keyVaultKeyUri: useCustomerManagedKey ? cmkKeyUri : null
    defaultIdentity: useCustomerManagedKey ? 'UserAssignedIdentity=${cmkIdentityId}' : 'FirstPartyIdentity'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2025-04-15' = {
  parent: account
  name: cosmosDatabase
  properties: {
    resource: { id: cosmosDatabase }
    options: serverless ? {} : { autoscaleSettings: { maxThroughput: autoscaleMaxThroughput } }
  }
}

resource containers 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2025-04-15' = [
  for c in cosmosContainers: {
    parent: database
    name: c.name
    properties: {
      resource: union(
        {
          id: c.name
          partitionKey: { paths: [c.partitionKeyPath], kind: 'Hash', version: 2 }
        },
        c.?defaultTtl == null ? {} : { defaultTtl: c.?defaultTtl }
      )
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: account
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logAnalyticsDestinationType: 'Dedicated'
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'Requests', enabled: true }]
  }
}

output accountId string = account.id
output accountName string = account.name
output endpoint string = account.properties.documentEndpoint
output databaseName string = database.name
output containerNames string[] = [for (c, i) in cosmosContainers: containers[i].name]
