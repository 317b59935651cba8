// Shared types and fixed names. Everything the cloud app and the relays meet at is named here,
// once; a contract test (tests/ServerlessImaging.Infra.Tests) keeps these equal to
// ServerlessImaging.Contracts.ResourceNames.

@export()
@description('A PACS site served by one relay agent.')
type site = {
  @description('Site id: 2-43 lower-case letters, digits or single inner hyphens. Names the site\'s queues relay-commands-<id>, relay-poison-<id>, relay-events-<id> and relay-events-<id>-poison (the longest, 13 + 43 + 7 characters, meets the 63-character queue-name limit) and its staging container staging-<id>.')
  @minLength(2)
  @maxLength(43)
  id: string

  @description('Object id of the relay\'s service principal (Entra app with a certificate credential generated on the relay host, or the Azure Arc machine identity). Omit until the relay is provisioned.')
  relayPrincipalId: string?
}

@export()
@description('A Cosmos DB container the app uses.')
type cosmosContainer = {
  name: string
  partitionKeyPath: string

  @description('Default time-to-live in seconds: -1 lets items set their own ttl; null turns TTL off so nothing can expire (audit).')
  defaultTtl: int?
}

@export()
@description('Prefix of each site\'s own command queue.')
var commandQueuePrefix = 'relay-commands-'

@export()
@description('Prefix of each site\'s poison queue: its relay quarantines commands it cannot read or keeps failing on.')
var poisonQueuePrefix = 'relay-poison-'

@export()
@description('Prefix of each site\'s own events queue (relay-events-<site>): only that site\'s relay can send to it, and the app takes the site of an event from the queue it read.')
var eventsQueuePrefix = 'relay-events-'

@export()
@description('Suffix of an events queue\'s poison queue (relay-events-<site>-poison): the app and the Functions host (after maxDequeueCount) quarantine that site\'s bad events there.')
var poisonQueueSuffix = '-poison'

@export()
@description('Prefix of each site\'s own staging container (staging-<site>): its relay uploads the instances it retrieved there, with a per-command SAS limited to create and write on that container; the store activity reads them, sends them to the DICOM service and deletes them.')
var stagingContainerPrefix = 'staging-'

@export()
@description('Blob container holding message bodies too large for a queue message.')
var messageBodiesContainer = 'message-bodies'

@export()
@description('Blob container of the app\'s own lists of staged instances (retrieval manifests, named by SHA-256); no relay has access.')
var instanceListsContainer = 'instance-lists'

@export()
@description('Blob container the Flex Consumption plan deploys the function package from.')
var deploymentContainer = 'function-package'

@export()
@description('Containers the Functions host writes (leases, keys) when AzureWebJobsStorage points at the shared account.')
var functionsHostContainers = ['azure-webjobs-hosts', 'azure-webjobs-secrets']

@export()
@description('Durable Functions task hub: extensions.durableTask.hubName in the root host.json (Azure Storage backend, connection "Storage", on the app\'s storage account).')
var durableTaskHub = 'ServerlessImaging'

@export()
@description('Partitions of the task hub: one control queue each. The Durable extension\'s default (host.json sets no partitionCount; a test keeps the two equal).')
var durableTaskHubPartitionCount = 4

@export()
@description('Queues of the task hub (<hub>-control-00.. and <hub>-workitems, lower-cased), which the provider creates at start if missing. Created up front so the app\'s queue role can be scoped to each of them.')
var durableTaskHubQueues = concat(
  map(range(0, durableTaskHubPartitionCount), i => '${toLower(durableTaskHub)}-control-${padLeft(string(i), 2, '0')}'),
  ['${toLower(durableTaskHub)}-workitems']
)

@export()
@description('Blob containers the Durable Task Azure Storage provider uses for the task hub: partition leases, large messages (payloads over the queue/table size limits), app lease. Created up front so the app\'s blob role can be scoped to them.')
var durableTaskHubContainers = [
  '${toLower(durableTaskHub)}-leases'
  '${toLower(durableTaskHub)}-largemessages'
  '${toLower(durableTaskHub)}-applease'
]

@export()
@description('Cosmos DB database holding every container of the app.')
var cosmosDatabase = 'serverless-imaging'

@export()
@description('Cosmos DB containers and their partition keys. The audit trail never expires (TTL off).')
var cosmosContainers cosmosContainer[] = [
  { name: 'meetings', partitionKeyPath: '/id', defaultTtl: -1 }
  { name: 'registrations', partitionKeyPath: '/id', defaultTtl: -1 }
  { name: 'sites', partitionKeyPath: '/id', defaultTtl: null }
  { name: 'idempotency', partitionKeyPath: '/id', defaultTtl: -1 }
  { name: auditContainer, partitionKeyPath: '/partitionKey', defaultTtl: null }
]

@export()
@description('Built-in Azure role definition ids used by this deployment (the same in every tenant).')
var roles = {
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageQueueDataMessageProcessor: '8a0f0c08-91a1-4084-bc3d-661d67233fed'
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a'
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageBlobDelegator: 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  keyVaultCryptoServiceEncryptionUser: 'e147488a-f6f5-4113-8e2d-b22465e65bf6'
  keyVaultCryptoUser: '12338af0-0e69-4776-bea7-57ae8d297424'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  dicomDataOwner: '58a3b984-7adf-4c20-983a-32417c86fbc8'
}

@export()
@description('Cosmos DB built-in data-plane role: Cosmos DB Built-in Data Contributor (the app\'s role on every container but audit, each assigned on its own container).')
var cosmosBuiltInDataContributor = '00000000-0000-0000-0000-000000000002'

@export()
@description('Cosmos DB container holding the audit trail: the app may add and read records there, never change or delete one.')
var auditContainer = 'audit'

@export()
@description('Key Vault key (EC P-256, sign and verify only) that signs the audit chain anchors; the app reads its URI from Audit__AnchorKeyId.')
var auditAnchorKeyName = 'audit-anchor'

@export()
@description('Seed of the audit role\'s definition id: guid(<Cosmos account id>, seed).')
var cosmosAuditAppenderSeed = 'serverless-imaging-audit-appender'

@export()
@description('Data actions of the app\'s role on the audit container: create and read, nothing that replaces, upserts, patches or deletes an item, and no wildcard.')
var cosmosAuditAppenderDataActions = [
  'Microsoft.DocumentDB/databaseAccounts/readMetadata'
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/create'
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/items/read'
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/executeQuery'
  'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers/readChangeFeed'
]

@export()
@description('Seeds of the relays\' custom role definition names: guid(resourceGroup().id, seed) names the role in every module that needs it.')
var relayCustomRoleSeeds = {
  commandQueueConsumer: 'serverless-imaging-relay-command-queue-consumer'
  messageBodyCreator: 'serverless-imaging-relay-message-body-creator'
}

@export()
@description('Data actions of the relays\' custom roles (least privilege; each assigned on one queue or container only).')
var relayCustomRoleDataActions = {
  // Receive (get + delete by pop receipt), peek, and Update Message for lease renewal/abandon. No delete
  // (Clear Messages) and no add; note that messages/write also authorises Put Message on that one queue.
  commandQueueConsumer: [
    'Microsoft.Storage/storageAccounts/queueServices/queues/messages/read'
    'Microsoft.Storage/storageAccounts/queueServices/queues/messages/process/action'
    'Microsoft.Storage/storageAccounts/queueServices/queues/messages/write'
  ]
  // Create new blobs only (Put Blob with If-None-Match: *): no read, no overwrite, no delete, no list.
  messageBodyCreator: [
    'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action'
  ]
}
