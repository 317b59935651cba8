// Calls of the public HTTP API with the signed-in user's token. Errors carry the API's problem+json (title and the
// field codes of a 422), never the submitted values.
import { apiToken } from '../shared/auth.js';

const root = (window.SI_CONSOLE_CONFIG.apiRoot || '/').replace(/\/$/, '');

export class ApiError extends Error {
  constructor(status, problem) {
    const fields = problem && Array.isArray(problem.errors) ? problem.errors.map((e) => `${e.field} : ${e.message ?? e.code}`).join(' ; ') : '';
    super(messageFor(status, problem) + (fields ? ` (${fields})` : ''));
    this.status = status;
    this.problem = problem;
  }
}

function messageFor(status, problem) {
  switch (status) {
    case 401: return 'Session expirée ou absente : reconnectez-vous.';
    case 403: return 'Votre rôle ne permet pas cette action.';
    case 404: return 'Introuvable.';
    case 412: return 'Modifié entre-temps par quelqu’un d’autre : rechargez.';
    case 503: return 'Service momentanément indisponible (journal d’audit) : réessayez.';
    default: return (problem && (problem.title || problem.detail)) || `Erreur HTTP ${status}`;
  }
}

export async function api(method, path, { body, headers = {}, accept = 'application/json', raw = false } = {}) {
  const init = { method, headers: { Accept: accept, Authorization: 'Bearer ' + await apiToken(), ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(root + path, init);
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* empty body */ }
    throw new ApiError(response.status, problem);
  }
  if (raw) return response;
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null, etag: response.headers.get('ETag') };
}
