// Runtime sign-in settings of the console and the viewer (one file for both; rewritten per deployment by
// tools/console-site, never built). Empty tenantId/clientId: development sign-in (the local stack's tokens).
// With both set: Entra ID sign-in with MSAL (authorization code + PKCE) for the SPA app registration clientId.
//   apiScope:   the API's delegated scope (e.g. api://<api-app-id>/user_impersonation); its access token carries the
//               app roles (registrar, coordinator, auditor, admin) the API and the menus read.
//   dicomScope: the DICOM service's scope (https://dicom.healthcareapis.azure.com/.default) when the viewer reads the
//               Azure Health Data Services DICOM service directly; empty when it reads through the app's proxy.
window.SI_SIGN_IN = {
  tenantId: '',
  clientId: '',
  apiScope: '',
  dicomScope: '',
};
