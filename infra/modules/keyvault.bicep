// Key Vault with RBAC authorisation and purge protection. Holds the SMTP password (set by an
// operator, never by this template) and, when customer-managed keys are on, the key that
// encrypts storage, Cosmos DB and the DICOM service, with the user-assigned identity that
// those services use to unwrap it.

@description('Azure region.')
param location string

@description('Name of the vault (3-24 characters).')
@minLength(3)
@maxLength(24)
param vaultName string

@description('Create the customer-managed key and its user-assigned identity.')
param enableCustomerManagedKey bool

@description('Name of the user-assigned identity storage, Cosmos DB and the DICOM service use to reach the key.')
param cmkIdentityName string

@description('Refuse traffic from public networks (private endpoint only).')
param disablePublicNetworkAccess bool

@description('Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

@description('Tags applied to every resource.')
param tags object

import { roles } from '../types.bicep'

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' = {
  name: vaultName
  location: location
  tags: tags
  properties: {
    tenantId: tenant().tenantId
    sku: { family: 'A', name: 'premium' }
    enableRbacAuthorization: true
    enablePurgeProtection: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: disablePublicNetworkAccess ? 'Disabled' : 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: disablePublicNetworkAccess ? 'Deny' : 'Allow'
    }
  }
}

resource cmkIdentity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = if (enableCustomerManagedKey) {
  name: cmkIdentityName
  location: location
  tags: tags
}

// RSA-HSM 3072 key, rotated yearly by the vault; consumers follow the versionless key URI.
resource cmkKey 'Microsoft.KeyVault/vaults/keys@2024-11-01' = if (enableCustomerManagedKey) {
  parent: vault
  name: 'data-encryption'
  properties: {
    kty: 'RSA-HSM'
    keySize: 3072
    keyOps: ['wrapKey', 'unwrapKey']
    attributes: { enabled: true }
    rotationPolicy: {
      attributes: { expiryTime: 'P2Y' }
      lifetimeActions: [
        { action: { type: 'rotate' }, trigger: { timeAfterCreate: 'P1Y' } }
        { action: { type: 'notify' }, trigger: { timeBeforeExpiry: 'P30D' } }
      ]
    }
  }
}

// Least privilege: the identity may use this one key to wrap/unwrap, nothing else in the vault.
resource cmkKeyAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (enableCustomerManagedKey) {
  name: guid(cmkKey.id, cmkIdentity.id, roles.keyVaultCryptoServiceEncryptionUser)
  scope: cmkKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoServiceEncryptionUser)
    principalId: cmkIdentity!.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: vault
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

output vaultId string = vault.id
output vaultName string = vault.name
output vaultUri string = vault.properties.vaultUri
@description('Versionless key URI (empty without customer-managed keys), so rotation needs no redeployment.')
output cmkKeyUri string = enableCustomerManagedKey ? cmkKey!.properties.keyUri : ''
output cmkKeyName string = enableCustomerManagedKey ? cmkKey.name : ''
output cmkIdentityId string = enableCustomerManagedKey ? cmkIdentity.id : ''
output cmkIdentityClientId string = enableCustomerManagedKey ? cmkIdentity!.properties.clientId : ''
