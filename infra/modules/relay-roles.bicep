// Custom roles for the relays, defined once per resource group and assignable only there.
// Built-in roles are either too narrow (Message Processor cannot Update Message, which lease
// renewal needs) or too wide (Queue/Blob Data Contributor can also read, overwrite and delete).

import { relayCustomRoleDataActions, relayCustomRoleSeeds } from '../types.bicep'

// Role names are unique per tenant: the resource group id keeps two deployments apart.
var suffix = uniqueString(resourceGroup().id)

resource commandQueueConsumer 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, relayCustomRoleSeeds.commandQueueConsumer)
  properties: {
    roleName: 'ServerlessImaging relay command queue consumer (${suffix})'
    description: 'Receive, peek and update (lease renewal) messages of one relay command queue. Assigned on that queue only.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: relayCustomRoleDataActions.commandQueueConsumer
        notDataActions: []
      }
    ]
  }
}

resource messageBodyCreator 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroup().id, relayCustomRoleSeeds.messageBodyCreator)
  properties: {
    roleName: 'ServerlessImaging relay message body creator (${suffix})'
    description: 'Create new blobs (no read, overwrite, delete or list) in the message-bodies container. Assigned on that container only.'
    type: 'CustomRole'
    assignableScopes: [resourceGroup().id]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: relayCustomRoleDataActions.messageBodyCreator
        notDataActions: []
      }
    ]
  }
}
