// One relay's access: take messages from its own site's command queue, post to the events
// queue, nothing else. Blob uploads to staging use a create-only user-delegation SAS the
// app issues with each retrieval command, so relays hold no standing blob rights.

import { roles, relayEventsQueue, commandQueuePrefix } from '../types.bicep'

@description('Site id the relay serves.')
param siteId string

@description('Object id of the relay\'s service principal.')
param relayPrincipalId string

@description('Name of the storage account.')
param storageAccountName string

resource storage 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName

  resource queueService 'queueServices' existing = {
    name: 'default'

    resource commandQueue 'queues' existing = {
      name: '${commandQueuePrefix}${siteId}'
    }

    resource eventsQueue 'queues' existing = {
      name: relayEventsQueue
    }
  }
}

resource commandAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::commandQueue.id, relayPrincipalId, roles.storageQueueDataMessageProcessor)
  scope: storage::queueService::commandQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageProcessor)
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource eventsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::eventsQueue.id, relayPrincipalId, roles.storageQueueDataMessageSender)
  scope: storage::queueService::eventsQueue
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}
