// Where the viewer reads studies (rewritten per deployment by tools/console-site). Locally the standalone host proxies
// /dicom-web/ to the DICOM service for signed-in users; in Azure this is the DICOM service's own URL
// (https://<workspace>-<service>.dicom.azurehealthcareapis.com/v2/), read with a token for the DICOM service's scope
// (shared/sign-in-config.js, dicomScope).
window.SI_VIEWER_CONFIG = {
  dicomWebRoot: '/dicom-web/',
  signInPage: '/console/',
};
