// Private networking for HDS: a VNet with one subnet for the function app's outbound VNet
// integration (delegated to Microsoft.App/environments, as Flex Consumption requires) and one
// for private endpoints, plus the private DNS zones those endpoints register in, linked to the VNet.

@description('Azure region.')
param location string

@description('Name of the virtual network.')
param vnetName string

@description('Address space of the VNet.')
param addressPrefix string

@description('Subnet for the function app\'s VNet integration.')
param appSubnetPrefix string

@description('Subnet for private endpoints.')
param privateEndpointSubnetPrefix string

@description('Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

@description('Tags applied to every resource.')
param tags object

// Zone names follow the cloud the deployment runs in (no hard-coded public-cloud suffixes).
var storageSuffix = environment().suffixes.storage
var zoneNames = {
  blob: 'privatelink.blob.${storageSuffix}'
  queue: 'privatelink.queue.${storageSuffix}'
  table: 'privatelink.table.${storageSuffix}'
  cosmos: 'privatelink.documents.azure.com'
  vault: 'privatelink.vaultcore.azure.net'
  healthWorkspace: 'privatelink.workspace.azurehealthcareapis.com'
  dicom: 'privatelink.dicom.azurehealthcareapis.com'
  web: 'privatelink.web.${storageSuffix}'
}
var zoneList = items(zoneNames)

resource vnet 'Microsoft.Network/virtualNetworks@2024-07-01' = {
  name: vnetName
  location: location
  tags: tags
  properties: {
    addressSpace: { addressPrefixes: [addressPrefix] }
    subnets: [
      {
        name: 'snet-function-app'
        properties: {
          addressPrefix: appSubnetPrefix
          delegations: [{ name: 'flex-consumption', properties: { serviceName: 'Microsoft.App/environments' } }]
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
      {
        name: 'snet-private-endpoints'
        properties: {
          addressPrefix: privateEndpointSubnetPrefix
          privateEndpointNetworkPolicies: 'Disabled'
        }
      }
    ]
  }
}

resource zones 'Microsoft.Network/privateDnsZones@2024-06-01' = [
  for zone in zoneList: {
    name: zone.value
    location: 'global'
    tags: tags
  }
]

resource zoneLinks 'Microsoft.Network/privateDnsZones/virtualNetworkLinks@2024-06-01' = [
  for (zone, i) in zoneList: {
    parent: zones[i]
    name: 'link-${vnetName}'
    location: 'global'
    tags: tags
    properties: {
      registrationEnabled: false
      virtualNetwork: { id: vnet.id }
    }
  }
]

resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vnet
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

output vnetId string = vnet.id
output appSubnetId string = vnet.properties.subnets[0].id
output privateEndpointSubnetId string = vnet.properties.subnets[1].id
@description('Private DNS zone names by purpose (blob, queue, table, cosmos, vault, healthWorkspace, dicom, web); deployed once this module completes.')
output zoneNames object = zoneNames
