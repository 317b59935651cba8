// Azure Health Data Services workspace and its DICOM service: where retrieved studies are
// stored (STOW-RS) and read by the viewer (WADO-RS). Entra ID bearer tokens only.

@description('Azure region.')
param location string

@description('Name of the Health Data Services workspace (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param workspaceName string

@description('Name of the DICOM service (3-24 lower-case letters and digits).')
@minLength(3)
@maxLength(24)
param dicomServiceName string

@description('Refuse traffic from public networks (private endpoint on the workspace only).')
param disablePublicNetworkAccess bool

@description('Encrypt with the customer-managed key below instead of platform-managed keys.')
param useCustomerManagedKey bool

@description('Versionless customer-managed key URI; empty for Microsoft-managed keys.')
param cmkKeyUri string

@description('Resource id of the user-assigned identity that can unwrap the customer-managed key.')
param cmkIdentityId string

@description('Browser origins allowed to read studies (the viewer\'s, which reads the DICOM service directly with the user\'s token).')
param corsOrigins string[]

@description('Log Analytics workspace receiving diagnostics.')
param logAnalyticsWorkspaceId string

@description('Tags applied to every resource.')
param tags object

resource workspace 'Microsoft.HealthcareApis/workspaces@2024-03-31' = {
  name: workspaceName
  location: location
  tags: tags
  properties: {
    publicNetworkAccess: disablePublicNetworkAccess ? 'Disabled' : 'Enabled'
  }
}

resource dicom 'Microsoft.HealthcareApis/workspaces/dicomservices@2024-03-31' = {
  parent: workspace
  name: dicomServiceName
  location: location
  tags: tags
  identity: useCustomerManagedKey
    ? { type: 'UserAssigned', userAssignedIdentities: { '${cmkIdentityId}': {} } }
    : { type: 'None' }
  properties: {
    publicNetworkAccess: disablePublicNetworkAccess ? 'Disabled' : 'Enabled'
    // Read-only from browsers: the viewer's QIDO-RS and WADO-RS; writes come from the app, never from a page.
    corsConfiguration: {
      origins: corsOrigins
      headers: ['Authorization', 'Accept']
      methods: ['GET', 'OPTIONS']
      maxAge: 3600
      allowCredentials: false
    }
    encryption: useCustomerManagedKey
      ? { customerManagedKeyEncryption: { keyEncryptionKeyUrl: cmkKeyUri } }
      : null
  }
}

// AuditLogs record every DICOMweb call (caller, operation, status).
resource diagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'to-log-analytics'
  scope: dicom
  properties: {
    workspaceId: logAnalyticsWorkspaceId
    logs: [{ categoryGroup: 'allLogs', enabled: true }]
    metrics: [{ category: 'AllMetrics', enabled: true }]
  }
}

output workspaceId string = workspace.id
output dicomServiceId string = dicom.id
output dicomServiceName string = dicom.name
output serviceUrl string = dicom.properties.serviceUrl
