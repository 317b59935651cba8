// One relay's access, each grant scoped to a single queue or container; every queue is its own site's:
// - relay-commands-<site>: receive, peek, update (lease renewal/abandon) — custom role, no add, no clear;
// - relay-poison-<site> and relay-events-<site>: send only;
// - message-bodies: create new blobs only (events over the 48 KiB queue limit) — custom role.
// Nothing at account scope, nothing on other sites' queues, nothing on the events poison queue (the app and the
// Functions host fill it). Nothing on any staging container, its own site's included: uploads use the user-delegation
// SAS (create + write on staging-<site> only) the app puts in each RetrieveStudy command.

import { roles, relayCustomRoleSeeds, commandQueuePrefix, poisonQueuePrefix, eventsQueuePrefix, messageBodiesContainer } from '../types.bicep'

@description('Site id the relay serves: every queue granted below is this site\'s.')
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

    resource poisonQueue 'queues' existing = {
      name: '${poisonQueuePrefix}${siteId}'
    }

    resource eventsQueue 'queues' existing = {
      name: '${eventsQueuePrefix}${siteId}'
    }
  }

  resource blobService 'blobServices' existing = {
    name: 'default'

    resource messageBodies 'containers' existing = {
      name: messageBodiesContainer
    }
  }
}

var messageSender = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageQueueDataMessageSender)

// Custom roles of modules/relay-roles.bicep (deployed first by main.bicep), named the same way here.
var commandQueueConsumerRoleId = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', guid(resourceGroup().id, relayCustomRoleSeeds.commandQueueConsumer))
var messageBodyCreatorRoleId = subscriptionResourceId('Microsoft.Authorization/roleDefinitions', guid(resourceGroup().id, relayCustomRoleSeeds.messageBodyCreator))

resource commandAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::commandQueue.id, relayPrincipalId, commandQueueConsumerRoleId)
  scope: storage::queueService::commandQueue
  properties: {
    roleDefinitionId: commandQueueConsumerRoleId
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource poisonAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::poisonQueue.id, relayPrincipalId, roles.storageQueueDataMessageSender)
  scope: storage::queueService::poisonQueue
  properties: {
    roleDefinitionId: messageSender
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource eventsAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::queueService::eventsQueue.id, relayPrincipalId, roles.storageQueueDataMessageSender)
  scope: storage::queueService::eventsQueue
  properties: {
    roleDefinitionId: messageSender
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource messageBodiesAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage::blobService::messageBodies.id, relayPrincipalId, messageBodyCreatorRoleId)
  scope: storage::blobService::messageBodies
  properties: {
    roleDefinitionId: messageBodyCreatorRoleId
    principalId: relayPrincipalId
    principalType: 'ServicePrincipal'
  }
}
