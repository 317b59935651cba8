// Sign-in state shared by the console and the viewer (same origin): the bearer token the API and the DICOMweb
// proxy expect. Locally it is a development token (tools/dev-token); in Azure the MSAL sign-in stores the Entra ID
// access token here (README, "Azure"). localStorage, so a viewer link opened in a new tab is signed in too.
const KEY = 'si.token';

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

export function signOut() { localStorage.removeItem(KEY); }

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
