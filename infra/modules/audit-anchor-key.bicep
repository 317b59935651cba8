// The key that signs the audit chain's anchors (GET /audit/anchor): an EC P-256 HSM key that can only sign and verify,
// and the one grant the app needs on it. The private key never leaves the vault, so someone who can rewrite the whole
// audit container cannot forge an anchor that an auditor exported earlier; see
// functions/ServerlessImaging.Adapters/README.md, "Tamper evidence".

import { roles, auditAnchorKeyName } from '../types.bicep'

@description('Name of the Key Vault (RBAC authorisation).')
param vaultName string

@description('Resource id of the function app: seeds the role assignment name, known before deployment.')
param appResourceId string

@description('Object id of the function app\'s system-assigned identity.')
param principalId string

resource vault 'Microsoft.KeyVault/vaults@2024-11-01' existing = {
  name: vaultName
}

// No rotation policy: an anchor names the key it was signed with, and auditors keep the public key they verify with.
resource anchorKey 'Microsoft.KeyVault/vaults/keys@2024-11-01' = {
  parent: vault
  name: auditAnchorKeyName
  properties: {
    kty: 'EC-HSM'
    curveName: 'P-256'
    keyOps: ['sign', 'verify']
    attributes: { enabled: true }
  }
}

// Least privilege without a custom role (creating one needs roleDefinitions/write, which this deployment does not
// require): Key Vault Crypto User on this one key, whose operations are limited to sign and verify above.
resource anchorKeyAccess 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(anchorKey.id, appResourceId, roles.keyVaultCryptoUser)
  scope: anchorKey
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultCryptoUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
    description: 'Sign the audit chain anchors with this key (and read its public half).'
  }
}

@description('Versionless URI of the anchor key (Audit__AnchorKeyId).')
output keyUri string = anchorKey.properties.keyUri
