// Production for an HDS-certified hosting provider: health data stays in France Central,
// private endpoints only, customer-managed keys, 30-day point-in-time restore for Cosmos DB,
// a year of logs. Relays are added by giving each site its relayPrincipalId (infra/README.md,
// "Provisioning a relay"); hospital-specific values come from the environment of the pipeline
// so that no tenant detail is committed.
using '../main.bicep'

param location = 'francecentral'
param environmentName = 'prod'
param namePrefix = 'simg'
param sites = [
  { id: 'chu-nord' }
  { id: 'clinique-sud' }
  { id: 'ch-est' }
]
param enablePrivateNetworking = true
param enableCustomerManagedKey = true
param relayEgressIpRanges = []
param vnetAddressPrefix = '10.60.0.0/16'
param appSubnetPrefix = '10.60.1.0/24'
param privateEndpointSubnetPrefix = '10.60.2.0/24'
param logRetentionInDays = 365
param stagingRetentionDays = 7
param blobSoftDeleteRetentionDays = 7
param cosmosServerless = false
param cosmosAutoscaleMaxThroughput = 4000
param cosmosBackupTier = 'Continuous30Days'
param zoneRedundant = true
param functionMaximumInstanceCount = 40
param apiAudience = readEnvironmentVariable('SI_API_AUDIENCE', 'api://serverless-imaging')
param smtpHost = readEnvironmentVariable('SI_SMTP_HOST', 'smtp.mssante.example')
param smtpPort = 587
param smtpSecurity = 'StartTls'
param smtpFrom = readEnvironmentVariable('SI_SMTP_FROM', 'rcp-imagerie@serverless-imaging.example')
param smtpUserName = readEnvironmentVariable('SI_SMTP_USERNAME', 'rcp-imagerie')
param viewerStudyUrlTemplate = readEnvironmentVariable('SI_VIEWER_STUDY_URL_TEMPLATE', 'https://viewer.serverless-imaging.example/studies/{StudyInstanceUID}')
param tags = {
  'hds-scope': 'in-scope'
}
param atnaHost = readEnvironmentVariable('SI_ATNA_HOST', 'siem.hds.serverless-imaging.example')
param atnaPort = int(readEnvironmentVariable('SI_ATNA_PORT', '6514'))
param consoleClientId = readEnvironmentVariable('SI_CONSOLE_CLIENT_ID', '')
