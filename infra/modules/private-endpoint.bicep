// One private endpoint for one sub-resource (group) of a service, registered in its private
// DNS zones so names resolve to the private address inside the VNet.

@description('Azure region.')
param location string

@description('Name of the private endpoint.')
param name string

@description('Resource id of the service the endpoint connects to.')
param serviceId string

@description('Sub-resource (group id): blob, queue, table, Sql, vault, healthcareworkspace.')
param groupId string

@description('Subnet hosting the endpoint\'s network interface.')
param subnetId string

@description('Private DNS zones (in this resource group) the endpoint registers its records in.')
param dnsZoneNames string[]

@description('Tags applied to every resource.')
param tags object

resource endpoint 'Microsoft.Network/privateEndpoints@2024-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    subnet: { id: subnetId }
    privateLinkServiceConnections: [
      {
        name: name
        properties: {
          privateLinkServiceId: serviceId
          groupIds: [groupId]
        }
      }
    ]
  }
}

resource dnsGroup 'Microsoft.Network/privateEndpoints/privateDnsZoneGroups@2024-07-01' = {
  parent: endpoint
  name: 'default'
  properties: {
    privateDnsZoneConfigs: [
      for (zoneName, i) in dnsZoneNames: {
        name: 'zone-${i}'
        properties: { privateDnsZoneId: resourceId('Microsoft.Network/privateDnsZones', zoneName) }
      }
    ]
  }
}

output endpointId string = endpoint.id
