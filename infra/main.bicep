// ServerlessImaging cloud side, deployed into one resource group. See README.md in this folder
// for the deployment guide and the HDS notes. Everything here compiles offline (no registry
// modules), and tests/ServerlessImaging.Infra.Tests keeps it warning-free and in step with the app.

targetScope = 'resourceGroup'

import { site, cosmosDatabase, commandQueuePrefix, poisonQueuePrefix, eventsQueuePrefix, poisonQueueSuffix, durableTaskHub } from 'types.bicep'

@description('Azure region. HDS deployments keep health data in France: francecentral (francesouth as paired region).')
param location string = resourceGroup().location

@description('Environment name, part of every resource name.')
@allowed(['dev', 'test', 'prod'])
param environmentName string

@description('Short lower-case prefix for resource names (2-6 letters or digits).')
@minLength(2)
@maxLength(6)
param namePrefix string

@description('PACS sites. Each gets its command and events queues (each with a poison queue), its staging container and a queue trigger in the app; sites with a relayPrincipalId get least-privilege access for their relay, on that site\'s queues only.')
@minLength(1)
param sites site[]

@description('HDS: private endpoints for storage (blob, queue, table), Cosmos DB, Key Vault and the DICOM workspace, VNet integration for the app, public network access disabled on the data services.')
param enablePrivateNetworking bool

@description('HDS: encrypt storage, Cosmos DB and the DICOM service with a key held in this deployment\'s Key Vault.')
param enableCustomerManagedKey bool

@description('With private networking: public egress ranges (CIDR) of the hospitals\' relays allowed to reach the storage account. Empty means relays reach storage over a private link (VPN/ExpressRoute) only.')
param relayEgressIpRanges string[] = []

@description('Address space of the VNet (private networking only).')
param vnetAddressPrefix string = '10.60.0.0/16'

@description('Subnet for the function app\'s VNet integration.')
param appSubnetPrefix string = '10.60.1.0/24'

@description('Subnet for private endpoints.')
param privateEndpointSubnetPrefix string = '10.60.2.0/24'

@description('Days Log Analytics and Application Insights keep data.')
@minValue(30)
@maxValue(730)
param logRetentionInDays int

@description('Days a staging blob may live before the lifecycle rule deletes it.')
@minValue(1)
@maxValue(30)
param stagingRetentionDays int = 7

@description('Days deleted blobs stay recoverable (soft delete).')
@minValue(1)
@maxValue(30)
param blobSoftDeleteRetentionDays int = 7

@description('Cosmos DB serverless (dev, small networks) instead of autoscale throughput.')
param cosmosServerless bool

@description('Autoscale ceiling in RU/s when Cosmos DB is not serverless.')
@minValue(1000)
param cosmosAutoscaleMaxThroughput int = 4000

@description('Cosmos DB continuous backup tier (point-in-time restore window).')
@allowed(['Continuous7Days', 'Continuous30Days'])
param cosmosBackupTier string

@description('Zone-redundant Cosmos DB (the region must support availability zones).')
param zoneRedundant bool

@description('Most instances the Flex Consumption plan may scale out to.')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Application ID URI (audience) of the Entra app registration protecting the HTTP API.')
param apiAudience string

@description('SMTP relay host for expertise e-mails.')
param smtpHost string

@description('SMTP port (587 with StartTls, 465 with SslOnConnect).')
param smtpPort int

@description('TLS mode to the SMTP relay; plain text is not offered.')
@allowed(['StartTls', 'SslOnConnect'])
param smtpSecurity string

@description('Sender address of expertise e-mails.')
param smtpFrom string

@description('SMTP user name; when set, the password is read from the Key Vault secret "smtp-password" (set by an operator).')
param smtpUserName string = ''

@description('Viewer link for a study; {StudyInstanceUID} is replaced by the study UID.')
param viewerStudyUrlTemplate string

@description('ATNA collector (a SIEM\'s syslog/TLS audit record repository) every audit record is exported to; empty: no export. Its CA certificate (PEM) is read from the Key Vault secret "atna-collector-ca" (set by an operator).')
param atnaHost string = ''

@description('The ATNA collector\'s syslog/TLS port.')
@minValue(1)
@maxValue(65535)
param atnaPort int = 6514

@description('Console sign-in: client id of the single-page-application registration (created by hand: infra/README.md, "Console"); empty until it exists (the console then offers development sign-in only, which the API refuses outside Development).')
param consoleClientId string = ''

@description('Console sign-in: the Entra ID tenant of that registration.')
param consoleTenantId string = tenant().tenantId

@description('Console sign-in: the API\'s delegated scope the console asks for (the API registration exposes it).')
param consoleApiScope string = '${apiAudience}/user_impersonation'

@description('Extra origins of the console (a custom domain in front of the static website), allowed by the API\'s and the DICOM service\'s CORS.')
param consoleExtraOrigins string[] = []

@description('Extra tags applied to every resource.')
param tags object = {}

var suffix = uniqueString(resourceGroup().id)
var baseName = '${namePrefix}-${environmentName}'
var compactName = '${namePrefix}${environmentName}'
var allTags = union(tags, {
  application: 'serverless-imaging'
  environment: environmentName
  'data-classification': 'health-data'
})

var names = {
  logAnalytics: 'log-${baseName}-${suffix}'
  appInsights: 'appi-${baseName}-${suffix}'
  keyVault: take('kv-${baseName}-${suffix}', 24)
  cmkIdentity: 'id-cmk-${baseName}'
  storage: take('st${compactName}${suffix}', 24)
  cosmos: 'cosmos-${baseName}-${suffix}'
  healthWorkspace: take('hds${compactName}${suffix}', 24)
  dicom: 'dicom${environmentName}'
  plan: 'plan-${baseName}-${suffix}'
  functionApp: 'func-${baseName}-${suffix}'
  vnet: 'vnet-${baseName}'
  consoleSite: take('stweb${compactName}${suffix}', 24)
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    location: location
    workspaceName: names.logAnalytics
    appInsightsName: names.appInsights
    retentionInDays: logRetentionInDays
    tags: allTags
  }
}

module keyVault 'modules/keyvault.bicep' = {
  name: 'key-vault'
  params: {
    location: location
    vaultName: names.keyVault
    enableCustomerManagedKey: enableCustomerManagedKey
    cmkIdentityName: names.cmkIdentity
    disablePublicNetworkAccess: enablePrivateNetworking
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    tags: allTags
  }
}

module network 'modules/network.bicep' = if (enablePrivateNetworking) {
  name: 'network'
  params: {
    location: location
    vnetName: names.vnet
    addressPrefix: vnetAddressPrefix
    appSubnetPrefix: appSubnetPrefix
    privateEndpointSubnetPrefix: privateEndpointSubnetPrefix
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    tags: allTags
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    location: location
    accountName: names.storage
    sites: sites
    stagingRetentionDays: stagingRetentionDays
    messageBodiesRetentionDays: 14
    softDeleteRetentionDays: blobSoftDeleteRetentionDays
    restrictPublicNetworkAccess: enablePrivateNetworking
    relayEgressIpRanges: relayEgressIpRanges
    useCustomerManagedKey: enableCustomerManagedKey
    cmkKeyUri: keyVault.outputs.cmkKeyUri
    cmkKeyName: keyVault.outputs.cmkKeyName
    cmkIdentityId: keyVault.outputs.cmkIdentityId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    tags: allTags
  }
}

// The console and the viewer: a storage static website of their own (infra/README.md, "Console", says why).
module consoleSite 'modules/console-site.bicep' = {
  name: 'console-site'
  params: {
    location: location
    accountName: names.consoleSite
    restrictPublicNetworkAccess: enablePrivateNetworking
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    tags: allTags
  }
}

var consoleOrigins = concat([consoleSite.outputs.origin], consoleExtraOrigins)

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  params: {
    location: location
    accountName: names.cosmos
    serverless: cosmosServerless
    autoscaleMaxThroughput: cosmosAutoscaleMaxThroughput
    continuousBackupTier: cosmosBackupTier
    zoneRedundant: zoneRedundant
    disablePublicNetworkAccess: enablePrivateNetworking
    useCustomerManagedKey: enableCustomerManagedKey
    cmkKeyUri: keyVault.outputs.cmkKeyUri
    cmkIdentityId: keyVault.outputs.cmkIdentityId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    tags: allTags
  }
}

module dicom 'modules/dicom.bicep' = {
  name: 'dicom'
  params: {
    location: location
    workspaceName: names.healthWorkspace
    dicomServiceName: names.dicom
    corsOrigins: consoleOrigins
    disablePublicNetworkAccess: enablePrivateNetworking
    useCustomerManagedKey: enableCustomerManagedKey
    cmkKeyUri: keyVault.outputs.cmkKeyUri
    cmkIdentityId: keyVault.outputs.cmkIdentityId
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    tags: allTags
  }
}

// Private endpoints: one per service sub-resource, each registered in its private DNS zones.
// Storage needs blob, queue and table: the app's clients and the relays use blobs and queues, the
// Durable Functions task hub (Azure Storage backend) uses all three. The workspace endpoint also
// carries the DICOM service's name.
var privateEndpointKinds = [
  { key: 'blob', groupId: 'blob', zones: ['blob'] }
  { key: 'queue', groupId: 'queue', zones: ['queue'] }
  { key: 'table', groupId: 'table', zones: ['table'] }
  { key: 'cosmos', groupId: 'Sql', zones: ['cosmos'] }
  { key: 'vault', groupId: 'vault', zones: ['vault'] }
  { key: 'health', groupId: 'healthcareworkspace', zones: ['healthWorkspace', 'dicom'] }
  { key: 'web', groupId: 'web', zones: ['web'] }
]

module privateEndpoints 'modules/private-endpoint.bicep' = [
  for pe in (enablePrivateNetworking ? privateEndpointKinds : []): {
    name: 'private-endpoint-${pe.key}'
    params: {
      location: location
      name: 'pe-${baseName}-${pe.key}'
      serviceId: {
        blob: storage.outputs.accountId
        queue: storage.outputs.accountId
        table: storage.outputs.accountId
        cosmos: cosmos.outputs.accountId
        vault: keyVault.outputs.vaultId
        health: dicom.outputs.workspaceId
        web: consoleSite.outputs.accountId
      }[pe.key]
      groupId: pe.groupId
      subnetId: network!.outputs.privateEndpointSubnetId
      dnsZoneNames: map(pe.zones, zone => network!.outputs.zoneNames[zone])
      tags: allTags
    }
  }
]

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  params: {
    location: location
    planName: names.plan
    appName: names.functionApp
    deploymentBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerName: storage.outputs.deploymentContainerName
    hostStorageAccountName: storage.outputs.accountName
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: 2048
    vnetIntegrationSubnetId: enablePrivateNetworking ? network!.outputs.appSubnetId : ''
    appInsightsConnectionString: monitoring.outputs.appInsightsConnectionString
    appSettings: {
      queueServiceUri: storage.outputs.queueEndpoint
      blobServiceUri: storage.outputs.blobEndpoint
      tableServiceUri: storage.outputs.tableEndpoint
      cosmosAccountEndpoint: cosmos.outputs.endpoint
      cosmosDatabaseName: cosmos.outputs.databaseName
      dicomWebBaseUrl: '${dicom.outputs.serviceUrl}/v2/'
      dicomWebTokenScope: 'https://dicom.healthcareapis.azure.com/.default'
      authAuthority: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
      authAudience: apiAudience
      smtpHost: smtpHost
      smtpPort: smtpPort
      smtpSecurity: smtpSecurity
      smtpFrom: smtpFrom
      smtpUserName: smtpUserName
      vaultUri: keyVault.outputs.vaultUri
      viewerStudyUrlTemplate: viewerStudyUrlTemplate
      siteIds: join(map(sites, s => s.id), ',')
      atnaHost: atnaHost
      atnaPort: atnaPort
    }
    corsAllowedOrigins: consoleOrigins
    logAnalyticsWorkspaceId: monitoring.outputs.workspaceId
    tags: allTags
  }
}

module appAccess 'modules/app-access.bicep' = {
  name: 'function-app-access'
  params: {
    // Names known before deployment keep what-if precise; the principal id only fills properties
    // and, being a functionApp output, orders this module after everything the app depends on.
    appResourceId: resourceId('Microsoft.Web/sites', names.functionApp)
    principalId: functionApp.outputs.principalId
    storageAccountName: names.storage
    siteIds: map(sites, s => s.id)
    cosmosAccountName: names.cosmos
    healthWorkspaceName: names.healthWorkspace
    dicomServiceName: names.dicom
    vaultName: names.keyVault
    appInsightsName: names.appInsights
  }
}

// The key that signs audit chain anchors, and the app's sign-only grant on it (Audit__AnchorKeyId names it).
module auditAnchorKey 'modules/audit-anchor-key.bicep' = {
  name: 'audit-anchor-key'
  params: {
    vaultName: names.keyVault
    appResourceId: resourceId('Microsoft.Web/sites', names.functionApp)
    principalId: functionApp.outputs.principalId
  }
}

var relaySites = filter(sites, s => !empty(s.?relayPrincipalId ?? ''))

// Custom roles exist only once a relay is provisioned (creating them needs roleDefinitions/write).
module relayRoles 'modules/relay-roles.bicep' = if (!empty(relaySites)) {
  name: 'relay-roles'
}

module relayAccess 'modules/relay-access.bicep' = [
  for s in relaySites: {
    name: 'relay-access-${s.id}'
    params: {
      siteId: s.id
      relayPrincipalId: s.relayPrincipalId!
      storageAccountName: names.storage
    }
    dependsOn: [storage, relayRoles]
  }
]

@description('Function app name (publish target).')
output functionAppName string = functionApp.outputs.appName

@description('Public host name of the HTTP API.')
output functionAppHostName string = functionApp.outputs.defaultHostName

@description('Object id of the function app\'s system-assigned identity.')
output functionAppPrincipalId string = functionApp.outputs.principalId

@description('Storage account name, and the blob container to upload the function package to.')
output storageAccountName string = storage.outputs.accountName
output deploymentContainerName string = storage.outputs.deploymentContainerName

@description('Endpoints relays and the app use (Entra ID auth only); the table endpoint serves the app\'s Durable Functions task hub only.')
output queueServiceUri string = storage.outputs.queueEndpoint
output blobServiceUri string = storage.outputs.blobEndpoint
output tableServiceUri string = storage.outputs.tableEndpoint

@description('Durable Functions task hub name (must equal extensions.durableTask.hubName in host.json).')
output durableTaskHubName string = durableTaskHub

@description('Command queue of each site (the app sends, the site\'s relay receives).')
output commandQueues { siteId: string, queueName: string }[] = [
  for s in sites: { siteId: s.id, queueName: '${commandQueuePrefix}${s.id}' }
]

@description('Poison queue of each site\'s command queue (its relay quarantines commands there).')
output poisonQueues { siteId: string, queueName: string }[] = [
  for s in sites: { siteId: s.id, queueName: '${poisonQueuePrefix}${s.id}' }
]

@description('Events queue of each site (the site\'s relay sends, the app\'s per-site trigger receives) and its poison queue.')
output eventsQueues { siteId: string, queueName: string, poisonQueueName: string }[] = [
  for s in sites: { siteId: s.id, queueName: '${eventsQueuePrefix}${s.id}', poisonQueueName: '${eventsQueuePrefix}${s.id}${poisonQueueSuffix}' }
]

@description('Staging container of each site (its relay uploads there with the SAS of each RetrieveStudy command; the app reads, lists and deletes).')
output stagingContainers { siteId: string, containerName: string }[] = [
  for (s, i) in sites: { siteId: s.id, containerName: storage.outputs.stagingContainerNames[i] }
]

output cosmosAccountEndpoint string = cosmos.outputs.endpoint
output cosmosDatabaseName string = cosmosDatabase
output dicomWebBaseUrl string = '${dicom.outputs.serviceUrl}/v2/'
output keyVaultName string = keyVault.outputs.vaultName
output tenantId string = tenant().tenantId
output logAnalyticsWorkspaceId string = monitoring.outputs.workspaceId

@description('User-assigned identity holding the customer-managed key (empty when CMK is off).')
output cmkIdentityId string = keyVault.outputs.cmkIdentityId

@description('Storage account of the console\'s static website (tools/console-site uploads into its $web container).')
output consoleSiteAccountName string = consoleSite.outputs.accountName

@description('The console\'s origin (its URL is this plus /console/, the viewer\'s plus /viewer/).')
output consoleOrigin string = consoleSite.outputs.origin

@description('What tools/console-site writes into the site\'s runtime config: where the API and the DICOM service answer, and the sign-in (no secret: a SPA registration has none).')
output consoleSettings { apiRoot: string, dicomWebRoot: string, tenantId: string, clientId: string, apiScope: string, dicomScope: string } = {
  apiRoot: 'https://${functionApp.outputs.defaultHostName}/'
  dicomWebRoot: '${dicom.outputs.serviceUrl}/v2/'
  tenantId: consoleTenantId
  clientId: consoleClientId
  apiScope: consoleApiScope
  dicomScope: 'https://dicom.healthcareapis.azure.com/.default'
}
