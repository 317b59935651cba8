// Development deployment: public endpoints (Entra ID auth everywhere, no keys), Microsoft-managed
// keys, serverless Cosmos DB. The three sites mirror the local stack (tools/stack).
using '../main.bicep'

param location = 'francecentral'
param environmentName = 'dev'
param namePrefix = 'simg'
param sites = [
  { id: 'chu-nord' }
  { id: 'clinique-sud' }
  { id: 'ch-est' }
]
param enablePrivateNetworking = false
param enableCustomerManagedKey = false
param logRetentionInDays = 30
param stagingRetentionDays = 2
param blobSoftDeleteRetentionDays = 1
param cosmosServerless = true
param cosmosBackupTier = 'Continuous7Days'
param zoneRedundant = false
param functionMaximumInstanceCount = 10
param apiAudience = 'api://serverless-imaging-dev'
param smtpHost = 'smtp.dev.serverless-imaging.example'
param smtpPort = 587
param smtpSecurity = 'StartTls'
param smtpFrom = 'rcp-imagerie-dev@serverless-imaging.example'
param viewerStudyUrlTemplate = 'https://viewer.dev.serverless-imaging.example/studies/{StudyInstanceUID}'
param atnaHost = 'siem.dev.serverless-imaging.example'
param atnaPort = 6514
