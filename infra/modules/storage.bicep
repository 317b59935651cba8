// The storage account where the cloud app and the relays meet: per site, a command queue and its
// poison queue, an events queue and its poison queue, and a staging container (instances in transit to the DICOM
// service, deleted by a lifecycle rule); message bodies too large for a queue, the function package and the
// Functions host's own containers. It also holds the Durable Functions task hub (Azure Storage
// backend): its tables are created by the app at start; its queues and blob containers are created here so the
// app's queue and blob roles can be scoped to each of them.
// Entra ID only: shared keys are disabled.

import { site, commandQueuePrefix, poisonQueuePrefix, eventsQueuePrefix, poisonQueueSuffix, stagingContainerPrefix, messageBodiesContainer, instanceListsContainer, deploymentContainer, functionsHostContainers, durableTaskHubContainers, durableTaskHubQueues } from '../types.bicep'

@description('Azure region.')
param location string

@description('Name of the storage account (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param accountName string

@description('PACS sites; each gets its own command and events queues, each with its poison queue, and its own staging container.')
param sites site[]

@description('Days after its last modification a staging blob is deleted (the working copy only lives until the DICOM service holds it).')
@minValue(1)
param stagingRetentionDays int

@description('Days after its last modification a message body is deleted (queue messages expire after 7 days).')
@minValue(7)
param messageBodiesRetentionDays int

@description('Days deleted blobs and containers stay recoverable.')
@minValue(1)
@maxValue(365)
param softDeleteRetentionDays int

@description('Private networking: refuse public traffic except from the listed relay egress ranges.')
param restrictPublicNetworkAccess bool

@description('Public egress IPv4 ranges (CIDR) of the hospitals\' relays, allowed through the firewall when public access is restricted. Empty: private endpoint only.')
param relayEgressIpRanges string[]

@description('Encrypt with the customer-managed key below instead of platform-managed keys.')
param useCustomerManagedKey bool

@description('Versionless customer-managed key URI; empty for Microsoft-managed keys.')
param cmkKeyUri string

@description('Name of the customer-managed key (with cmkKeyUri).')
param cmkKeyName string

@description('Resource id of the user-assigned identity that can unwrap the customer-managed key.')
param cmkIdentityId string

@description('Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

@description('Tags applied to every resource.')
param tags object

resource account 'Microsoft.Storage/storageAccounts@2025-01-01' = {
  name: accountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: 'Standard_ZRS' }
  identity: useCustomerManagedKey
    ? { type: 'UserAssigned', userAssignedIdentities: { '${cmkIdentityId}': {} } }
    : { type: 'None' }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: restrictPublicNetworkAccess && empty(relayEgressIpRanges) ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: restrictPublicNetworkAccess ? 'Deny' : 'Allow'
      ipRules: [for range in (restrictPublicNetworkAccess ? relayEgressIpRanges : []): { value: range, action: 'Allow' }]
    }
    encryption: {
      keySource: useCustomerManagedKey ? 'Microsoft.Keyvault' : 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      identity: useCustomerManagedKey ? { userAssignedIdentity: cmkIdentityId } : null
      keyvaultproperties: useCustomerManagedKey
        ? { keyname: cmkKeyName, keyvaulturi: split(cmkKeyUri, '/keys/')[0] }
        : null
      services: {
        blob: { enabled: true, keyType: 'Account' }
        file: { enabled: true, keyType: 'Account' }
        queue: { enabled: true, keyType: 'Account' }
        table: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: softDeleteRetentionDays }
    containerDeleteRetentionPolicy: { enabled: true, days: softDeleteRetentionDays }
  }
}

// The host's and the task hub's containers are created up front so the app's blob roles can be scoped to them alone.
resource appContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [
  for name in concat([messageBodiesContainer, instanceListsContainer, deploymentContainer], functionsHostContainers, durableTaskHubContainers): {
    parent: blobService
    name: name
    properties: { publicAccess: 'None' }
  }
]

// Per site: staging-<site> receives the instances that site's relay retrieved. One container per site, so that the SAS
// the app gives a relay (create and write only) names its own site's container and nothing else.
resource stagingContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' = [
  for s in sites: {
    parent: blobService
    name: '${stagingContainerPrefix}${s.id}'
    properties: { publicAccess: 'None' }
  }
]

resource queueService 'Microsoft.Storage/storageAccounts/queueServices@2025-01-01' = {
  parent: account
  name: 'default'
}

// Per site: the app sends commands to relay-commands-<site>, the site's relay posts events to relay-events-<site>.
// One events queue per site, so that a relay's send right names its own site's queue only and the app takes the site
// of an event from the queue it read.
resource commandQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for s in sites: {
    parent: queueService
    name: '${commandQueuePrefix}${s.id}'
  }
]

resource eventsQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for s in sites: {
    parent: queueService
    name: '${eventsQueuePrefix}${s.id}'
  }
]

// Quarantine, raw text kept so an operator can inspect and re-send it: a relay moves commands it cannot read (or keeps
// failing on) to relay-poison-<site>; the app, and the Functions host after maxDequeueCount, move that site's bad
// events to relay-events-<site>-poison. Neither the Messaging channel nor the host needs to create them in Azure.
resource commandPoisonQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for s in sites: {
    parent: queueService
    name: '${poisonQueuePrefix}${s.id}'
  }
]

resource eventsPoisonQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for s in sites: {
    parent: queueService
    name: '${eventsQueuePrefix}${s.id}${poisonQueueSuffix}'
  }
]

// Durable Functions task hub queues (<hub>-control-NN, <hub>-workitems): the provider's CreateIfNotExists finds them at
// start; creating them here lets the app's queue role be scoped to each of them instead of the whole account.
resource taskHubQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' = [
  for name in durableTaskHubQueues: {
    parent: queueService
    name: name
  }
]

// Durable Functions task hub tables (<hub>Instances, <hub>History, <hub>Partitions): orchestration inputs, outputs
// and history, which include patient identity. Created by the Durable extension; encrypted with the account key
// (customer-managed when enabled), reached over the table private endpoint with private networking.
resource tableService 'Microsoft.Storage/storageAccounts/tableServices@2025-01-01' = {
  parent: account
  name: 'default'
}

// Staging, the instance lists that name what was staged, and message bodies are transient: delete them once nothing can
// still need them (the app deletes a study's staging and lists itself; these rules catch what a failure left).
// Each site's staging container has its own prefix, 'staging-<site>/' (that container only, not every name starting the
// same way). A rule takes at most 10 prefixes, so the sites are split into rules of 10 (a policy takes up to 100 rules).
var stagingRuleSize = 10
var stagingRules = map(range(0, (length(sites) + stagingRuleSize - 1) / stagingRuleSize), i => {
  name: 'delete-old-staging-blobs-${i + 1}'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: {
      blobTypes: ['blockBlob']
      prefixMatch: map(take(skip(sites, i * stagingRuleSize), stagingRuleSize), s => '${stagingContainerPrefix}${s.id}/')
    }
    actions: {
      baseBlob: { delete: { daysAfterModificationGreaterThan: stagingRetentionDays } }
      snapshot: { delete: { daysAfterCreationGreaterThan: stagingRetentionDays } }
    }
  }
})

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2025-01-01' = {
  parent: account
  name: 'default'
  properties: {
    policy: {
      rules: concat(stagingRules, [
        {
          name: 'delete-old-instance-lists'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['${instanceListsContainer}/'] }
            actions: {
              baseBlob: { delete: { daysAfterModificationGreaterThan: stagingRetentionDays } }
            }
          }
        }
        {
          name: 'delete-old-message-bodies'
          enabled: true
          type: 'Lifecycle'
          definition: {
            filters: { blobTypes: ['blockBlob'], prefixMatch: ['${messageBodiesContainer}/'] }
            actions: {
              baseBlob: { delete: { daysAfterModificationGreaterThan: messageBodiesRetentionDays } }
            }
          }
        }
      ])
    }
  }
  dependsOn: [appContainers, stagingContainers]
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

resource queueDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: queueService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

resource tableDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: tableService
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'Transaction', enabled: true }]
  }
}

output accountId string = account.id
output accountName string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output queueEndpoint string = account.properties.primaryEndpoints.queue
output tableEndpoint string = account.properties.primaryEndpoints.table
output commandQueueNames string[] = [for (s, i) in sites: commandQueues[i].name]
output eventsQueueNames string[] = [for (s, i) in sites: eventsQueues[i].name]
output stagingContainerNames string[] = [for (s, i) in sites: stagingContainers[i].name]
output messageBodiesContainerName string = messageBodiesContainer
output deploymentContainerName string = deploymentContainer
