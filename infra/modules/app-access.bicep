// Least-privilege data-plane access for the function app's system-assigned identity.
// Each role is scoped to the narrowest resource the app needs it on: queues one by one, blob containers one by one,
// Cosmos DB containers one by one. Two storage grants are at account scope: tables (see the tables grant below) and the
// blob delegator, which carries no data access (see the delegator grant below).

import { roles, cosmosBuiltInDataContributor, cosmosDatabase, cosmosContainers, auditContainer, cosmosAuditAppenderSeed, cosmosAuditAppenderDataActions, commandQueuePrefix, eventsQueuePrefix, poisonQueueSuffix, stagingContainerPrefix, messageBodiesContainer, instanceListsContainer, deploymentContainer, functionsHostContainers, durableTaskHubContainers, durableTaskHubQueues } from '../types.bicep'

@description('Resource id of the function app: seeds the role assignment names, known before deployment.')
param appResourceId string

@description('Object id of the function app\'s system-assigned identity.')
param principalId string

@description('Name of the storage account.')
param storageAccountName string

@description('Ids of the PACS sites: the app sends to each one\'s command queue, reads each one\'s events queue and reads, lists and deletes in each one\'s staging container.')
param siteIds string[]

@description('Name of the Cosmos DB account.')
param cosmosAccountName string

@description('Name of the Health Data Services workspace.')
param healthWorkspaceName string

@description('Name of the DICOM service.')
param dicomServiceName string

@description('Name of the Key Vault.')
param vaultName string

@description('Name of the Application Insights component.')
param appInsightsName string

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName

  resource queueService 'queueServices' existing = {
    name: 'default'
  }

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource messageBodies 'containers' existing = {
      name: messageBodiesContainer
    }

    resource instanceLists 'containers' existing = {
      name: instanceListsContainer
    }

    resource deployment 'containers' existing = {
      name: deploymentContainer
    }
  }
}

resource stagingContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = [
  for id in siteIds: {
    parent: storage::blobService
    name: '${stagingContainerPrefix}${id}'
  }
]

resource hostContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = [
  for name in functionsHostContainers: {
    parent: storage::blobService
    name: name
  }
]

resource taskHubContainers 'Microsoft.Storage/storageAccounts/blobServices/containers@2025-01-01' existing = [
  for name in durableTaskHubContainers: {
    parent: storage::blobService
    name: name
  }
]

resource cosmos 'Microsoft.DocumentDB/databaseAccounts@2025-04-15' existing = {
  name: cosmosAccountName
}

resource healthWorkspace 'Microsoft.HealthcareApis/workspaces@2024-03-31' existing = {
  name: healthWorkspaceName

  resource dicom 'dicomservices' existing = {
    name: dicomServiceName
  }
}

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: vaultName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

// Queues, each granted on its own (no queue role on the account):
// - relay-commands-<site>: Message Sender — the app only adds commands; the site's relay receives them;
// - relay-events-<site>: Queue Data Contributor — the per-site queue trigger receives, deletes, and updates a message's
//   visibility (renewal while the function runs, release on failure: Update Message needs messages/write, which
//   Message Processor lacks) and reads the queue's properties (message count, for scaling);
// - relay-events-<site>-poison: Message Sender — the app quarantines unreadable or unwanted events there, the Functions
//   host moves events that failed maxDequeueCount times (it sends; the queue exists, so it never creates it);
// - the task hub's control and work-item queues: Queue Data Contributor — the provider creates them if missing (create
//   on an existing queue), receives, updates, deletes, peeks and counts messages.
// The relays' own poison queues (relay-poison-<site>) get nothing: the relay reports a quarantined command as an event.
var queueGrants = concat(
  map(siteIds, id => { queue: '${commandQueuePrefix}${id}', role: roles.storageQueueDataMessageSender }),
  map(siteIds, id => { queue: '${eventsQueuePrefix}${id}', role: roles.storageQueueDataContributor }),
  map(siteIds, id => { queue: '${eventsQueuePrefix}${id}${poisonQueueSuffix}', role: roles.storageQueueDataMessageSender }),
  map(durableTaskHubQueues, name => { queue: name, role: roles.storageQueueDataContributor })
)

resource grantedQueues 'Microsoft.Storage/storageAccounts/queueServices/queues@2025-01-01' existing = [
  for grant in queueGrants: {
    parent: storage::queueService
    name: grant.queue
  }
]

resource queueAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (grant, i) in queueGrants: {
    name: guid(grantedQueues[i].id, appResourceId, grant.role)
    scope: grantedQueues[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', grant.role)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Blob data: only the app's containers, each on its own.
// staging-<site>: the store activity reads and lists what the site's relay staged, the activity, deletion and purge
// delete it; and a user-delegation SAS never grants more than its signer holds on the container it names, so the relay's
// create + write SAS rests on this grant.
resource stagingAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (id, i) in siteIds: {
    name: guid(stagingContainers[i].id, appResourceId, roles.storageBlobDataContributor)
    scope: stagingContainers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

resource messageBodiesAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::messageBodies.id, appResourceId, roles.storageBlobDataContributor)
  scope: storage::blobService::messageBodies
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The app's lists of staged instances: written from relay events, read by the store, deleted with the study.
resource instanceListsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::instanceLists.id, appResourceId, roles.storageBlobDataContributor)
  scope: storage::blobService::instanceLists
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Flex Consumption deployment storage (functionAppConfig.deployment.storage, SystemAssignedIdentity): the platform reads
// the package with the app's identity to start instances, and a deployment (az functionapp deploy, One Deploy) has the
// platform write the uploaded package into this container with that same identity. Hence Blob Data Contributor (not
// Reader); on this one container, where the CLI would assign it on the whole account. Not Owner: no ACLs needed.
resource deploymentAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::deployment.id, appResourceId, roles.storageBlobDataContributor)
  scope: storage::blobService::deployment
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The Functions host takes blob leases and stores its keys: owner of those two containers only.
resource hostContainerAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in functionsHostContainers: {
    name: guid(hostContainers[i].id, appResourceId, roles.storageBlobDataOwner)
    scope: hostContainers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Durable Functions task hub (Azure Storage backend, identity-based connection "Storage").
// Blobs: partition and app leases, large message payloads; only the task hub's own containers.
resource taskHubContainerAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for (name, i) in durableTaskHubContainers: {
    name: guid(taskHubContainers[i].id, appResourceId, roles.storageBlobDataContributor)
    scope: taskHubContainers[i]
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// Tables, at account scope, for two readers that name their tables at run time:
// - the task hub's Instances, History and Partitions tables: created at start, then queried, inserted, merged and
//   deleted (purge); and the provider (and the scale controller, through it) checks whether the Partitions table
//   exists with Query Tables, an operation on the account's table list that no table-scoped grant authorizes;
// - the Functions host's diagnostic events (AzureFunctionsDiagnosticEvents<yyyyMM>, a new table each month).
// The app's own data is in Cosmos DB, and no other principal holds a table role.
resource tableAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appResourceId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Lets the app mint user-delegation SAS for relays (create + write, one site's staging container, short-lived).
// Get User Delegation Key is an account-level operation: its action
// (Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action) counts only when assigned at the
// account or above, so the Blob Data Contributor grants on single containers do not provide it. Storage Blob Delegator
// holds that one action and no data action: the key reads nothing by itself, and a SAS signed with it never exceeds the
// app's own rights on the container it names.
resource delegatorAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appResourceId, roles.storageBlobDelegator)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDelegator)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Cosmos DB data plane (Cosmos roles, not Azure roles), each assigned on one container.
// audit: a custom role that adds and reads records only (no replace, upsert, patch or delete), so the trail is
// append-only for the app's identity. The app writes audit records with Create Item and reads them with queries.
resource auditAppender 'Microsoft.DocumentDB/databaseAccounts/sqlRoleDefinitions@2025-04-15' = {
  parent: cosmos
  name: guid(cosmos.id, cosmosAuditAppenderSeed)
  properties: {
    roleName: 'ServerlessImaging audit appender'
    type: 'CustomRole'
    assignableScopes: ['${cosmos.id}/dbs/${cosmosDatabase}/colls/${auditContainer}']
    // Cosmos DB's own RBAC has no notDataActions: what is not listed is denied.
    permissions: [
      {
        dataActions: cosmosAuditAppenderDataActions
      }
    ]
  }
}

resource auditAccess 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-04-15' = {
  parent: cosmos
  name: guid(cosmos.id, appResourceId, auditContainer)
  properties: {
    roleDefinitionId: auditAppender.id
    principalId: principalId
    scope: '${cosmos.id}/dbs/${cosmosDatabase}/colls/${auditContainer}'
  }
}

// The other containers (meetings, registrations, sites, idempotency): the built-in Data Contributor (items read, written,
// replaced, deleted; queries), each on its own container rather than the whole database.
// One at a time, after the audit assignment: Cosmos DB refuses a role assignment while another one on the same account
// is in progress (412, "another user operation in progress which requires an exclusive lock").
var contributorContainers = filter(map(cosmosContainers, c => c.name), name => name != auditContainer)

@batchSize(1)
resource containerAccess 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-04-15' = [
  for name in contributorContainers: {
    parent: cosmos
    name: guid(cosmos.id, appResourceId, name)
    properties: {
      roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosBuiltInDataContributor}'
      principalId: principalId
      scope: '${cosmos.id}/dbs/${cosmosDatabase}/colls/${name}'
    }
    dependsOn: [auditAccess]
  }
]

resource dicomAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(healthWorkspace::dicom.id, appResourceId, roles.dicomDataOwner)
  scope: healthWorkspace::dicom
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.dicomDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Key Vault references (SMTP password) resolve with the app's identity.
resource vaultAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, appResourceId, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Telemetry ingestion with Entra auth (local auth is disabled on Application Insights).
resource telemetryAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, appResourceId, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}
