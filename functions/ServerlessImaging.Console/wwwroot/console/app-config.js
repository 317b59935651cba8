// Deployment settings of the console (written by hand; replaced per deployment).
// apiRoot: where the HTTP API answers ('/' when the standalone host serves the console beside it).
// signIn: 'development' (paste a token from tools/dev-token; the local stack's key) or 'entra' (Azure: see README).
window.SI_CONSOLE_CONFIG = {
  apiRoot: '/',
  signIn: 'development',
};
