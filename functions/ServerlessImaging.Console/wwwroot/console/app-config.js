// Deployment settings of the console (rewritten per deployment by tools/console-site; sign-in: shared/sign-in-config.js).
// apiRoot: where the HTTP API answers ('/' when the standalone host serves the console beside it; the Functions app's
// URL in Azure, whose CORS allows the console's origin).
window.SI_CONSOLE_CONFIG = {
  apiRoot: '/',
};
