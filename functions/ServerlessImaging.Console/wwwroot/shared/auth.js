// Sign-in state shared by the console and the viewer (same origin). Two modes, chosen by shared/sign-in-config.js:
// - development: a token signed with the local stack's key (POST /dev/token or tools/dev-token), kept in localStorage;
// - entra: MSAL (@azure/msal-browser, loaded only in this mode) signs in with Entra ID; the API's access token is
//   kept under the same key, so menus and roles read it the same way, and is renewed silently before each call.
// localStorage in both, so a viewer link opened in a new tab is signed in too.
const KEY = 'si.token';
const settings = window.SI_SIGN_IN ?? {};

/** 'entra' when the runtime config names a tenant and a client id, else 'development'. */
export const mode = settings.tenantId && settings.clientId ? 'entra' : 'development';

export function token() {
  const t = localStorage.getItem(KEY);
  if (!t) return null;
  const claims = decode(t);
  if (!claims || (claims.exp && claims.exp * 1000 < Date.now())) {
    localStorage.removeItem(KEY);
    return null;
  }
  return t;
}

export function signIn(t) {
  const claims = decode(t.trim());
  if (!claims) throw new Error('jeton illisible');
  localStorage.setItem(KEY, t.trim());
  return claims;
}

export function signOut() {
  localStorage.removeItem(KEY);
  if (mode === 'entra' && client) client.logoutRedirect({ postLogoutRedirectUri: consoleUrl() }).catch(() => {});
}

/** The token's claims (display and menus only: the API decides what is allowed). */
export function claims() {
  const t = token();
  return t ? decode(t) : null;
}

export function roles() {
  const c = claims();
  return c && Array.isArray(c.roles) ? c.roles : [];
}

/** admin satisfies every role, as in the API (Security/ApiRoles.cs). */
export function hasRole(role) {
  const r = roles();
  return r.includes(role) || r.includes('admin');
}

// ------------------------------------------------------------------ Entra ID (MSAL)
let client = null;

// The redirect comes back to the console page itself (it handles the response before routing); hidden-iframe renewals
// come back to the bridge page, which hands the response to the waiting page (MSAL Browser 5). Both URIs are
// registered on the SPA app registration (infra/README.md).
const consoleUrl = () => new URL('../console/', import.meta.url).href;
const bridgeUrl = () => new URL('./msal-redirect.html', import.meta.url).href;

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = resolve;
    s.onerror = () => reject(new Error('Bibliothèque de connexion introuvable : ' + src));
    document.head.append(s);
  });
}

async function msal() {
  if (client) return client;
  // Served from the viewer's pinned libraries (package-lock.json), never from a CDN.
  await loadScript(new URL('../viewer/lib/@azure/msal-browser/lib/msal-browser.min.js', import.meta.url).href);
  const app = new window.msal.PublicClientApplication({
    auth: { clientId: settings.clientId, authority: `https://login.microsoftonline.com/${settings.tenantId}`, redirectUri: consoleUrl() },
    cache: { cacheLocation: 'localStorage' },
  });
  await app.initialize();
  const result = await app.handleRedirectPromise();
  const account = result?.account ?? app.getActiveAccount() ?? app.getAllAccounts()[0] ?? null;
  if (account) app.setActiveAccount(account);
  client = app;
  return app;
}

async function acquire(scope) {
  const app = await msal();
  const account = app.getActiveAccount();
  if (!account) return null;
  try {
    return (await app.acquireTokenSilent({ scopes: [scope], account, redirectUri: bridgeUrl() })).accessToken;
  } catch (e) {
    if (e instanceof window.msal.InteractionRequiredAuthError) return null;
    throw e;
  }
}

/**
 * Call once before routing: in Entra mode it completes a sign-in redirect and refreshes the stored API token (the URL
 * fragment MSAL answered in is cleared, so hash routing starts clean). Nothing to do in development mode.
 */
export async function ready() {
  if (mode !== 'entra') return;
  const api = await acquire(settings.apiScope);
  if (api) signIn(api);
  else localStorage.removeItem(KEY);
}

/** Starts the Entra ID sign-in (a redirect to the tenant's login page and back to the console). */
export async function entraSignIn() {
  const app = await msal();
  await app.loginRedirect({ scopes: [settings.apiScope], redirectUri: consoleUrl() });
}

/** The bearer token for the API: renewed silently in Entra mode (MSAL's cache), the stored one otherwise. */
export async function apiToken() {
  if (mode !== 'entra') return token();
  const t = await acquire(settings.apiScope);
  if (t) signIn(t);
  return t ?? token();
}

/**
 * The bearer token the viewer sends to its DICOMweb root: the DICOM service's own token when dicomScope is set (the
 * viewer reads Azure Health Data Services directly), else the API token (the app's read-only proxy).
 */
export async function dicomToken() {
  if (mode === 'entra' && settings.dicomScope) return acquire(settings.dicomScope);
  return apiToken();
}

function decode(t) {
  const parts = t.split('.');
  if (parts.length !== 3) return null;
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    return JSON.parse(decodeURIComponent(escape(json)));
  } catch {
    return null;
  }
}
