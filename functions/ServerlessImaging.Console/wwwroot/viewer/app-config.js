// Where the viewer reads studies (written by hand; replaced per deployment). Locally the standalone host proxies
// /dicom-web/ to the DICOM service for signed-in users; in Azure this is the DICOM service's own URL
// (https://<workspace>-<service>.dicom.azurehealthcareapis.com/v2/) and the token its Entra ID access token.
window.SI_VIEWER_CONFIG = {
  dicomWebRoot: '/dicom-web/',
  signInPage: '/console/',
};
