// Least-privilege data-plane access for the function app's system-assigned identity.
// Each role is scoped to the narrowest resource the app needs it on.

import { roles, cosmosBuiltInDataContributor, cosmosDatabase, stagingContainer, messageBodiesContainer, deploymentContainer, functionsHostContainers, durableTaskHubContainers } from '../types.bicep'

@description('Resource id of the function app: seeds the role assignment names, known before deployment.')
param appResourceId string

@description('Object id of the function app\'s system-assigned identity.')
param principalId string

@description('Name of the storage account.')
param storageAccountName string

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

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource staging 'containers' existing = {
      name: stagingContainer
    }

    resource messageBodies 'containers' existing = {
      name: messageBodiesContainer
    }

    resource deployment 'containers' existing = {
      name: deploymentContainer
    }
  }
}

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

// Queues: send commands to every site, receive events, the host's own trigger queues, and the Durable task
// hub's control and work-item queues (created by the extension at start, so not known per queue beforehand).
resource queueAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appResourceId, roles.storageQueueDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Blob data: only the app's containers, each on its own.
resource stagingAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::staging.id, appResourceId, roles.storageBlobDataContributor)
  scope: storage::blobService::staging
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource messageBodiesAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::messageBodies.id, appResourceId, roles.storageBlobDataContributor)
  scope: storage::blobService::messageBodies
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The platform reads the package with the app's identity (Flex Consumption deployment storage).
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

// Tables: the task hub's Instances, History and Partitions tables, which the extension creates at start. Account
// scope, yet in effect the task hub only: nothing else on this account uses tables (the app's data is in Cosmos DB)
// and no other principal is granted table access.
resource tableAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appResourceId, roles.storageTableDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageTableDataContributor)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Lets the app mint user-delegation SAS for relays (create-only, one container, short-lived).
// The delegator role grants no data access by itself; the SAS never exceeds the app's own rights.
resource delegatorAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, appResourceId, roles.storageBlobDelegator)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDelegator)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// Cosmos DB data plane (a Cosmos role, not an Azure role), scoped to the app's database.
resource cosmosAccess 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2025-04-15' = {
  parent: cosmos
  name: guid(cosmos.id, appResourceId, cosmosBuiltInDataContributor)
  properties: {
    roleDefinitionId: '${cosmos.id}/sqlRoleDefinitions/${cosmosBuiltInDataContributor}'
    principalId: principalId
    scope: '${cosmos.id}/dbs/${cosmosDatabase}'
  }
}

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
