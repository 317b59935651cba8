// The console: one page per audience, shown by role as the API authorizes (coordinator: meetings; registrar:
// registrations; admin: sites; auditor: audit). Hash routes, so the static host needs no rewrite rules.
import { api } from './api.js';
import { claims, entraSignIn, hasRole, mode as signInMode, ready, signIn, signOut, token } from '../shared/auth.js';

const main = document.getElementById('main');
const MODALITIES = ['AU', 'CR', 'CT', 'DX', 'ES', 'MG', 'MR', 'NM', 'OT', 'PT', 'RF', 'RT', 'SC', 'SR', 'US', 'VL', 'XA', 'XC'];
const PAGES = [
  { route: 'reunions', title: 'Réunions', role: 'coordinator', render: meetingsPage },
  { route: 'inscriptions', title: 'Inscriptions', role: 'registrar', render: registrationsPage },
  { route: 'sites', title: 'Sites', role: 'admin', render: sitesPage },
  { route: 'audit', title: 'Audit', role: 'auditor', render: auditPage },
];
const LABELS = {
  Pending: 'en attente', Running: 'en cours', WaitingForSelection: 'en attente de sélection', Completed: 'terminée',
  Searching: 'recherche…', Searched: 'interrogé', Unreachable: 'injoignable', Failed: 'échec',
  Retrieving: 'récupération', Storing: 'enregistrement', Available: 'disponible', Deleted: 'supprimé', Deleting: 'suppression…',
  NotRequested: 'non demandée', Sent: 'envoyée', Ok: 'OK', Unknown: 'inconnu',
  Delivering: 'transmission…', WaitingForRetry: 'nouvel essai prévu', Delivered: 'transmis', Cancelled: 'annulée',
  Purged: 'purgé', Sending: 'envoi…',
};
let stopPolling = () => {};

// ------------------------------------------------------------------ small DOM helpers (textContent only: no HTML injection)
function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) element.addEventListener(key.slice(2), value);
    else if (key === 'className') element.className = value;
    else element.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}
const label = (v) => LABELS[v] ?? v ?? '—';
const badge = (v) => h('span', { className: 'badge ' + v }, label(v));
const when = (v) => (v ? new Date(v).toLocaleString('fr-FR') : '—');
function table(headers, rows) {
  return h('table', {}, h('thead', {}, h('tr', {}, headers.map((t) => h('th', {}, t)))), h('tbody', {}, rows));
}
function field(text, input) { return h('label', {}, text, input); }
function message(target, text, ok = false) {
  target.replaceChildren(text ? h('p', { className: ok ? 'ok' : 'error', role: 'status' }, text) : '');
}
function download(name, type, text) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// ------------------------------------------------------------------ shell, routing, sign-in
function route() {
  stopPolling();
  stopPolling = () => {};
  const [path, query] = location.hash.replace(/^#\/?/, '').split('?');
  const [page, ...rest] = path.split('/');
  const params = new URLSearchParams(query || '');
  renderNav(page);
  if (!token() || page === 'connexion') return signInPage(params);
  const target = PAGES.find((p) => p.route === page);
  if (!target) {
    const first = PAGES.find((p) => hasRole(p.role));
    if (first) { location.hash = '#/' + first.route; return; }
    main.replaceChildren(h('h1', {}, 'Aucune page pour vos rôles'), h('p', {}, 'Votre compte n’a aucun rôle de l’application.'));
    return;
  }
  if (!hasRole(target.role)) {
    // The API would refuse (403) anyway; the page does not even ask.
    main.replaceChildren(h('h1', { 'data-test': 'forbidden' }, 'Accès refusé'), h('p', {}, `Cette page est réservée au rôle « ${target.role} ».`));
    return;
  }
  target.render(rest.map(decodeURIComponent), params);
}

function renderNav(current) {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const c = claims();
  nav.replaceChildren(...(c ? PAGES.filter((p) => hasRole(p.role)).map((p) => h('a', { href: '#/' + p.route, className: p.route === current ? 'current' : '' }, p.title)) : []));
  who.replaceChildren(c ? `${c.sub} (${(c.roles || []).join(', ')}) ` : '', c ? h('a', { href: '#/connexion', onclick: () => signOut() }, 'Se déconnecter') : '');
}

function signInPage(params) {
  const back = params.get('retour');
  const area = h('textarea', { id: 'token', 'aria-label': 'Jeton', placeholder: 'eyJ…' });
  const status = h('div');
  const done = () => {
    if (back && back.startsWith('/')) location.assign(back);
    else location.hash = '#/';
  };
  // The standalone host in Development signs a token with the stack's key (POST /dev/token); anywhere else that
  // route does not exist and the page says so.
  async function asRole(role) {
    try {
      const response = await fetch((window.SI_CONSOLE_CONFIG.apiRoot || '/').replace(/\/$/, '') + '/dev/token', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ role }),
      });
      if (!response.ok) throw new Error('Connexion de développement indisponible ici : collez un jeton.');
      signIn((await response.json()).token);
      done();
    } catch (e) { message(status, e.message); }
  }
  main.replaceChildren(
    h('h1', {}, 'Connexion'),
    signInMode === 'entra'
      ? h('section', {},
        h('p', {}, 'Connectez-vous avec votre compte de l’établissement (Microsoft Entra ID).'),
        h('p', {}, h('button', {
          id: 'sign-in-entra', onclick: () => {
            if (back && back.startsWith('/')) sessionStorage.setItem('si.back', back);
            entraSignIn().catch((e) => message(status, e.message));
          },
        }, 'Se connecter')), status)
      : h('section', {},
        h('p', {}, 'Environnement de développement : se connecter avec le rôle ',
          ['registrar', 'coordinator', 'auditor', 'admin'].map((r) => h('button', { className: 'secondary', 'data-role': r, onclick: () => asRole(r) }, r))),
        h('p', {}, 'ou coller un jeton signé par la clé de la pile locale, obtenu avec ',
          h('code', {}, 'tools/dev-token --role coordinator'), ' (ou registrar, auditor, admin).'),
        area,
        h('p', {}, h('button', {
          id: 'sign-in', onclick: () => {
            try {
              signIn(area.value);
              done();
            } catch (e) { message(status, e.message); }
          },
        }, 'Se connecter')),
        status));
}

// ------------------------------------------------------------------ meetings (coordinator)
function meetingsPage([meetingId]) {
  const status = h('div');
  const id = h('input', { id: 'meeting-id', required: true, value: meetingId ?? '', pattern: '[A-Za-z0-9._-]+' });
  const form = meetingForm();
  let etag = null;
  async function load() {
    try {
      const { body, etag: e } = await api('GET', '/meetings/' + encodeURIComponent(id.value));
      etag = e;
      form.fill(body.settings);
      message(status, 'Réunion chargée.', true);
    } catch (e) {
      etag = null;
      message(status, e.status === 404 ? 'Réunion inconnue : remplissez le formulaire pour la créer.' : e.message);
    }
  }
  async function save() {
    try {
      const { etag: e } = await api('PUT', '/meetings/' + encodeURIComponent(id.value), { body: form.read(), headers: etag ? { 'If-Match': etag } : {} });
      etag = e;
      message(status, `Réunion « ${id.value} » enregistrée.`, true);
    } catch (e) { message(status, e.message); }
  }
  const list = meetingRegistrations(() => id.value);
  main.replaceChildren(
    h('h1', {}, 'Réunions (RCP)'),
    h('section', {}, h('h2', {}, 'Réunion'), field('Identifiant', id),
      h('button', { className: 'secondary', onclick: () => { load(); list.refresh(); } }, 'Charger'), form.element,
      h('button', { id: 'save-meeting', onclick: save }, 'Enregistrer'), status),
    h('section', {}, h('h2', {}, 'Inscriptions de la réunion'), list.element));
  if (meetingId) { load(); list.refresh(); }
}

// GET /meetings/{id}/registrations (registrar or coordinator): a summary per registration (no patient data), polled
// while a search or a retrieval moves; the details open on the registration's page (registrar role).
function meetingRegistrations(meetingId) {
  const registrations = h('div', { id: 'meeting-registrations' });
  let timer = null;
  let stopped = false;
  stopPolling = () => { stopped = true; clearTimeout(timer); };
  async function refresh() {
    clearTimeout(timer);
    if (!meetingId()) return;
    try {
      const { body } = await api('GET', '/meetings/' + encodeURIComponent(meetingId()) + '/registrations');
      const rows = body.registrations.map((r) => h('tr', { 'data-registration': r.registrationId, 'data-status': r.status },
        h('td', {}, hasRole('registrar') ? h('a', { href: '#/inscriptions/' + encodeURIComponent(r.registrationId) }, r.registrationId) : h('code', {}, r.registrationId)),
        h('td', {}, badge(r.status)),
        h('td', { 'data-field': 'sites' }, `${r.sites.searched} / ${r.sites.total} interrogé(s)`, r.sites.unreachable ? `, ${r.sites.unreachable} injoignable(s)` : '', r.sites.failed ? `, ${r.sites.failed} en échec` : ''),
        h('td', {}, r.candidates),
        h('td', { 'data-field': 'studies' }, `${r.studiesAvailable} / ${r.studiesTotal} disponible(s)`, r.studiesFailed ? `, ${r.studiesFailed} en échec` : ''),
        h('td', {}, badge(r.expertise)), h('td', {}, when(r.updatedAt))));
      registrations.replaceChildren(
        body.registrations.length
          ? table(['Inscription', 'État', 'Recherche par site', 'Candidats', 'Examens', 'Expertise', 'Mise à jour'], rows)
          : h('p', { className: 'muted' }, 'Aucune inscription pour cette réunion.'),
        body.truncated ? h('p', { className: 'muted' }, 'Liste limitée aux inscriptions les plus récentes.') : '');
      const busy = body.registrations.some((r) => r.status !== 'Completed' || r.sites.searching > 0);
      if (!stopped) timer = setTimeout(refresh, busy ? 2000 : 15000);
    } catch (e) {
      registrations.replaceChildren(h('p', { className: 'muted' }, e.status === 404 ? 'Réunion inconnue.' : e.message));
    }
  }
  return {
    element: h('div', {}, h('button', { className: 'secondary', id: 'refresh-registrations', onclick: refresh }, 'Actualiser'), registrations),
    refresh,
  };
}

// GET /meetings/{id} answers these enums as numbers while PUT takes their names: accept both (declaration order).
const DATE_KINDS = ['None', 'Between', 'WithinLastMonths'];
const AUTO_SELECT_MODES = ['Manual', 'AllCandidates', 'MostRecent'];
const enumName = (value, names) => (typeof value === 'number' ? names[value] : value);

function meetingForm() {
  const title = h('input', { id: 'meeting-title', size: 40 });
  const startsAt = h('input', { id: 'meeting-starts', type: 'datetime-local' });
  const site = h('input', { id: 'meeting-site' });
  const capacity = h('input', { id: 'meeting-capacity', type: 'number', min: 1, value: 20 });
  const retention = h('input', { id: 'meeting-retention', type: 'number', min: 1, value: 30 });
  const boxes = MODALITIES.map((m) => h('input', { type: 'checkbox', value: m, name: 'modality' }));
  const dateKind = h('select', { id: 'meeting-date-kind' }, h('option', { value: 'None' }, 'aucun'), h('option', { value: 'Between' }, 'entre deux dates'), h('option', { value: 'WithinLastMonths' }, 'les X derniers mois'));
  const from = h('input', { type: 'date', id: 'meeting-date-from' });
  const to = h('input', { type: 'date', id: 'meeting-date-to' });
  const months = h('input', { type: 'number', min: 1, id: 'meeting-date-months' });
  const physician = (prefix) => ({ name: h('input', { id: prefix + '-name' }), email: h('input', { id: prefix + '-email', type: 'email' }) });
  const radiologist = physician('radiologist');
  const nuclear = physician('nuclear');
  const autoSelect = h('select', { id: 'meeting-autoselect' }, h('option', { value: 'Manual' }, 'manuelle'), h('option', { value: 'AllCandidates' }, 'tous les candidats'), h('option', { value: 'MostRecent' }, 'les plus récents'));
  const maxStudies = h('input', { type: 'number', min: 0, value: 0, id: 'meeting-maxstudies' });
  const person = (p) => (p.name.value.trim() ? { name: p.name.value.trim(), email: p.email.value.trim() } : null);
  return {
    element: h('div', {},
      field('Intitulé', title), field('Début', startsAt), field('Lieu', site), field('Places', capacity), field('Conservation (jours)', retention),
      h('fieldset', { className: 'modalities' }, h('legend', {}, 'Modalités (aucune cochée : toutes)'), boxes.map((b) => h('label', {}, b, b.value))),
      h('fieldset', {}, h('legend', {}, 'Filtre de date'), field('Type', dateKind), field('Du', from), field('Au', to), field('Mois', months)),
      h('fieldset', {}, h('legend', {}, 'Médecins d’astreinte'),
        field('Radiologue', radiologist.name), field('Courriel', radiologist.email),
        field('Médecin nucléaire', nuclear.name), field('Courriel', nuclear.email)),
      h('fieldset', {}, h('legend', {}, 'Sélection des examens'), field('Mode', autoSelect), field('Nombre maximal', maxStudies))),
    read: () => ({
      title: title.value,
      startsAt: startsAt.value ? new Date(startsAt.value).toISOString() : null,
      site: site.value,
      capacity: Number(capacity.value),
      defaultFilter: {
        modalities: boxes.filter((b) => b.checked).map((b) => b.value),
        date: { kind: dateKind.value, from: from.value || null, to: to.value || null, months: months.value ? Number(months.value) : null },
      },
      onCallRadiologist: person(radiologist),
      onCallNuclearPhysician: person(nuclear),
      autoSelect: { mode: autoSelect.value, maxStudies: Number(maxStudies.value) },
      retentionDays: Number(retention.value),
    }),
    fill: (s) => {
      title.value = s.title ?? '';
      if (s.startsAt) {
        const d = new Date(s.startsAt);
        startsAt.value = new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
      }
      site.value = s.site ?? '';
      capacity.value = s.capacity;
      retention.value = s.retentionDays;
      for (const b of boxes) b.checked = (s.defaultFilter?.modalities ?? []).includes(b.value);
      dateKind.value = enumName(s.defaultFilter?.date?.kind, DATE_KINDS) ?? 'None';
      from.value = s.defaultFilter?.date?.from ?? '';
      to.value = s.defaultFilter?.date?.to ?? '';
      months.value = s.defaultFilter?.date?.months ?? '';
      radiologist.name.value = s.onCallRadiologist?.name ?? '';
      radiologist.email.value = s.onCallRadiologist?.email ?? '';
      nuclear.name.value = s.onCallNuclearPhysician?.name ?? '';
      nuclear.email.value = s.onCallNuclearPhysician?.email ?? '';
      autoSelect.value = enumName(s.autoSelect?.mode, AUTO_SELECT_MODES) ?? 'Manual';
      maxStudies.value = s.autoSelect?.maxStudies ?? 0;
    },
  };
}

// ------------------------------------------------------------------ registrations (registrar)
const RECENT = 'si.recentRegistrations';
const recent = () => JSON.parse(localStorage.getItem(RECENT) || '[]');
function remember(id) { localStorage.setItem(RECENT, JSON.stringify([id, ...recent().filter((r) => r !== id)].slice(0, 20))); }

function registrationsPage([registrationId]) {
  if (registrationId) return registrationPage(registrationId);
  const id = h('input', { id: 'registration-id', size: 50 });
  const meeting = h('input', { id: 'registrations-meeting-id', pattern: '[A-Za-z0-9._-]+' });
  const list = meetingRegistrations(() => meeting.value.trim());
  main.replaceChildren(
    h('h1', {}, 'Inscriptions'),
    h('section', {}, h('h2', {}, 'Inscriptions d’une réunion'), field('Réunion', meeting), list.element),
    h('section', {}, h('h2', {}, 'Suivre une inscription'),
      h('p', { className: 'muted' }, 'L’identifiant est celui que le logiciel RCP a reçu à l’inscription (réponse 202).'),
      field('Identifiant d’inscription', id),
      h('button', { id: 'follow', onclick: () => { if (id.value.trim()) location.hash = '#/inscriptions/' + encodeURIComponent(id.value.trim()); } }, 'Suivre')),
    h('section', {}, h('h2', {}, 'Récemment suivies'),
      recent().length === 0 ? h('p', { className: 'muted' }, 'Aucune.') : h('ul', {}, recent().map((r) => h('li', {}, h('a', { href: '#/inscriptions/' + encodeURIComponent(r) }, r))))));
}

function registrationPage(id) {
  remember(id);
  const path = '/registrations/' + encodeURIComponent(id);
  const status = h('div');
  const body = h('div');
  let selection = null; // UIDs ticked by the user, kept across refreshes
  let timer = null;
  let stopped = false;
  stopPolling = () => { stopped = true; clearTimeout(timer); };
  main.replaceChildren(h('h1', {}, 'Inscription ', h('code', {}, id)), status, body);

  async function act(method, suffix, payload, done) {
    try {
      await api(method, path + suffix, { body: payload, headers: { 'Idempotency-Key': crypto.randomUUID() } });
      message(status, done, true);
      refresh();
    } catch (e) { message(status, e.message); }
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const { body: r } = await api('GET', path);
      draw(r);
      const busy = r.status !== 'Completed' || r.studies.some((s) => !['Available', 'Failed', 'Deleted'].includes(s.status))
        || (r.deliveries ?? []).some((d) => ['Delivering', 'WaitingForRetry'].includes(d.status)) || r.manifest?.publishing;
      if (!stopped) timer = setTimeout(refresh, busy ? 1500 : 10000);
    } catch (e) {
      message(status, e.message);
      if (!stopped && e.status !== 403 && e.status !== 404) timer = setTimeout(refresh, 5000);
    }
  }

  function draw(r) {
    const nearMisses = (s) => Object.values(s.nearMisses ?? {}).reduce((a, b) => a + (typeof b === 'number' ? b : 0), 0);
    const sites = table(['Site', 'État', 'Réponses', 'Retenus', 'Filtrés', 'Quasi-homonymes écartés', 'Répondu'],
      r.sites.map((s) => h('tr', { 'data-site': s.siteId }, h('td', {}, s.siteId), h('td', {}, badge(s.status), s.lastFailure ? ` ${s.lastFailure}` : ''),
        h('td', {}, s.studiesReturned), h('td', {}, s.matched), h('td', {}, s.filteredOut), h('td', {}, nearMisses(s)), h('td', {}, when(s.answeredAt)))));
    if (selection === null) selection = new Set(r.candidates.filter((c) => c.selected).map((c) => c.studyInstanceUid));
    const candidates = table(['', 'Date', 'Description', 'Modalités', 'Séries', 'Images', 'Sites'],
      r.candidates.map((c) => h('tr', { 'data-candidate': c.studyInstanceUid },
        h('td', {}, h('input', { type: 'checkbox', checked: selection.has(c.studyInstanceUid), 'aria-label': 'Sélectionner', onchange: (e) => { if (e.target.checked) selection.add(c.studyInstanceUid); else selection.delete(c.studyInstanceUid); } })),
        h('td', {}, c.studyDate ?? '—'), h('td', {}, c.studyDescription ?? '—'), h('td', {}, (c.modalities ?? []).join(', ')),
        h('td', {}, c.numberOfSeries ?? '—'), h('td', {}, c.numberOfInstances ?? '—'), h('td', {}, (c.siteIds ?? []).join(', ')))));
    const studies = table(['Examen', 'Site', 'État', 'Progression', 'Visionneuse', ''],
      r.studies.map((s) => h('tr', { 'data-study': s.studyInstanceUid, 'data-status': s.status },
        h('td', {}, h('code', {}, s.studyInstanceUid)), h('td', {}, s.siteId ?? '—'),
        h('td', {}, badge(s.status), s.failure ? ` ${s.failure.code ?? ''}` : '', s.nextAttemptAt ? ` (nouvel essai ${when(s.nextAttemptAt)})` : ''),
        h('td', {}, h('progress', { max: s.instancesTotal || 1, value: s.instancesDone }), ` ${s.instancesDone} / ${s.instancesTotal || '?'} (${s.instancesStored} enregistrées)`),
        h('td', {}, s.viewerUrl ? h('a', { href: s.viewerUrl, target: '_blank', rel: 'opener', className: 'viewer-link' }, 'Ouvrir') : '—'),
        h('td', {}, s.status === 'Available' ? h('button', { className: 'danger', onclick: () => { if (confirm('Supprimer cet examen du service DICOM ?')) act('DELETE', '/studies/' + encodeURIComponent(s.studyInstanceUid), undefined, 'Suppression demandée.'); } }, 'Supprimer') : ''))));
    // The imaging manifest (KOS) published in the DICOM service, and the transfers to the meeting site's PACS.
    const manifest = r.manifest
      ? h('p', { id: 'manifest' }, `Révision ${r.manifest.revision} : ${r.manifest.instancesListed} image(s) listée(s)`,
        r.manifest.publishing ? ' — nouvelle révision en cours de publication' : '', r.manifest.documentUid ? '' : ' — aucun examen disponible, manifeste retiré')
      : h('p', { className: 'muted' }, 'Publié dès qu’un examen est disponible.');
    const deliveries = table(['Examen', 'État', 'Progression', ''],
      (r.deliveries ?? []).map((d) => h('tr', { 'data-delivery': d.studyInstanceUid, 'data-status': d.status },
        h('td', {}, d.isManifest ? 'manifeste d’imagerie' : h('code', {}, d.studyInstanceUid)),
        h('td', {}, badge(d.status), d.failure ? ` ${d.failure.code ?? ''}` : '', d.nextAttemptAt ? ` (nouvel essai ${when(d.nextAttemptAt)})` : ''),
        h('td', {}, h('progress', { max: d.instancesTotal || 1, value: d.instancesDone }), ` ${d.instancesDone} / ${d.instancesTotal || '?'}`),
        h('td', {}, ''))));
    body.replaceChildren(
      h('section', {}, h('h2', {}, 'État'),
        h('p', {}, 'Inscription : ', h('span', { id: 'registration-status' }, badge(r.status)), ` — réunion ${r.meetingId ?? '—'} — tour ${r.round} — expertise : `, badge(r.expertise)),
        h('button', { className: 'secondary', onclick: () => act('POST', '/refresh', undefined, 'Nouvelle recherche demandée.') }, 'Actualiser la recherche'),
        h('button', { id: 'expertise', onclick: () => act('POST', '/expertise-request', undefined, 'Demande d’expertise envoyée.') }, 'Demande d’expertise')),
      h('section', {}, h('h2', {}, 'Recherche par site'), sites),
      h('section', {}, h('h2', {}, `Examens candidats (${r.candidates.length})`), r.candidates.length ? candidates : h('p', { className: 'muted' }, 'Aucun pour l’instant.'),
        h('button', { id: 'select', disabled: r.candidates.length === 0, onclick: () => act('POST', '/selection', { studyInstanceUids: [...selection] }, 'Sélection validée.') }, 'Valider la sélection')),
      h('section', {}, h('h2', {}, 'Examens sélectionnés'), r.studies.length ? studies : h('p', { className: 'muted' }, 'Aucun.')),
      h('section', {}, h('h2', {}, 'Manifeste d’imagerie (DRIM-M)'), manifest),
      ...((r.deliveries ?? []).length ? [h('section', {}, h('h2', {}, 'Transmission au PACS du site de la réunion'), deliveries)] : []));
  }

  refresh();
}

// ------------------------------------------------------------------ sites (admin)
async function sitesPage() {
  const status = h('div');
  main.replaceChildren(h('h1', {}, 'Sites et relais'), status);
  try {
    const { body } = await api('GET', '/sites');
    const count = (n) => (n === undefined || n === null ? '—' : n);
    const failure = (f) => (f ? h('span', {}, badge('Failed'), ` ${f.command} : ${f.reason} — ${f.message} `, h('span', { className: 'muted' }, when(f.at))) : '—');
    main.append(h('section', {}, table(['Site', 'Relais', 'Version', 'Vu pour la dernière fois', 'C-ECHO du PACS', 'Vérifié', 'Commandes en file', 'Événements en file', 'Dernier échec'],
      body.map((s) => h('tr', { 'data-site': s.siteId }, h('td', {}, s.siteId), h('td', {}, h('span', { className: 'badge ' + (s.online ? 'online' : 'offline') }, s.online ? 'en ligne' : 'hors ligne')),
        h('td', {}, s.relayVersion ?? '—'), h('td', {}, when(s.lastSeenAt)), h('td', {}, badge(s.pacsEcho)), h('td', {}, when(s.pacsEchoCheckedAt)),
        h('td', { 'data-field': 'commands-queued' }, count(s.commandsQueued)), h('td', { 'data-field': 'events-queued' }, count(s.eventsQueued)),
        h('td', { 'data-field': 'last-failure' }, failure(s.lastFailure)))))),
    h('p', { className: 'muted' }, 'Files : messages en attente (approximatif). Une file de commandes qui grossit signale un relais arrêté ou lent ; une file d’événements qui grossit, une application en retard.'));
  } catch (e) { message(status, e.message); }
}

// ------------------------------------------------------------------ audit (auditor)
function auditPage(_, params) {
  const status = h('div');
  const results = h('div');
  const details = h('pre', { id: 'audit-details', hidden: true });
  const input = (id, type = 'text') => h('input', { id, type });
  const q = { registrationId: input('audit-registration'), userId: input('audit-user'), siteId: input('audit-site'), from: input('audit-from', 'datetime-local'), to: input('audit-to', 'datetime-local') };
  q.registrationId.value = params.get('registrationId') ?? '';
  const p = { birthName: input('patient-birthname'), firstName: input('patient-firstname'), birthDate: input('patient-birthdate', 'date'), sex: h('select', { id: 'patient-sex' }, h('option', { value: 'F' }, 'F'), h('option', { value: 'M' }, 'M')) };
  let last = null; // { records, query }

  const iso = (v) => (v ? new Date(v).toISOString() : null);
  function query() {
    const s = new URLSearchParams();
    for (const k of ['registrationId', 'userId', 'siteId']) if (q[k].value.trim()) s.set(k, q[k].value.trim());
    if (q.from.value) s.set('from', iso(q.from.value));
    if (q.to.value) s.set('to', iso(q.to.value));
    return s;
  }
  async function all(fetchPage) {
    const records = [];
    let token = null;
    let patientKey = null;
    do {
      const page = await fetchPage(token);
      records.push(...page.records);
      token = page.continuationToken;
      patientKey = page.patientKey ?? patientKey;
    } while (token && records.length < 5000);
    return { records, patientKey };
  }
  async function search() {
    try {
      const s = query();
      const { records } = await all(async (t) => {
        const page = new URLSearchParams(s);
        page.set('pageSize', '200');
        if (t) page.set('continuationToken', t);
        return (await api('GET', '/audit?' + page)).body;
      });
      last = { records, query: s };
      show();
    } catch (e) { message(status, e.message); }
  }
  async function patientSearch() {
    try {
      const body = { birthName: p.birthName.value, firstName: p.firstName.value, birthDate: p.birthDate.value, sex: p.sex.value, from: iso(q.from.value), to: iso(q.to.value), pageSize: 200 };
      const { records, patientKey } = await all(async (t) => (await api('POST', '/audit/patient-search', { body: { ...body, continuationToken: t } })).body);
      const s = new URLSearchParams();
      if (patientKey) s.set('patientKey', patientKey);
      last = { records, query: s };
      show();
    } catch (e) { message(status, e.message); }
  }
  function user(r) {
    const requester = (r.activeParticipants ?? []).find((a) => a.isRequestor);
    return r.userId ?? requester?.userId ?? '—';
  }
  function show() {
    message(status, `${last.records.length} enregistrement(s).`, true);
    details.hidden = true;
    results.replaceChildren(table(['Enregistré', 'Événement', 'Action', 'Résultat', 'Utilisateur', 'Site', 'Inscription', 'N°'],
      last.records.map((r) => h('tr', { className: 'clickable', 'data-record': r.id, onclick: () => { details.hidden = false; details.textContent = JSON.stringify(r, null, 2); } },
        h('td', {}, when(r.recordedAt)), h('td', {}, r.eventType, h('br'), h('span', { className: 'muted' }, `${r.eventId?.code} ${r.eventId?.display}`)),
        h('td', {}, r.actionCode), h('td', {}, r.outcome === 0 ? 'succès' : `échec (${r.outcome})`), h('td', {}, user(r)), h('td', {}, r.siteId ?? '—'),
        h('td', {}, r.registrationId ?? '—'), h('td', {}, r.sequence ?? '')))));
  }
  function csv() {
    if (!last) return;
    const cell = (v) => `"${String(v ?? '').replace(/"/g, '""')}"`;
    const lines = [['id', 'recordedAt', 'dateTime', 'eventId', 'eventType', 'actionCode', 'outcome', 'userId', 'siteId', 'registrationId', 'sequence', 'patientKey'].join(',')];
    for (const r of last.records) lines.push([r.id, r.recordedAt, r.dateTime, r.eventId?.code, r.eventType, r.actionCode, r.outcome, user(r), r.siteId, r.registrationId, r.sequence, r.patientKey].map(cell).join(','));
    download('audit.csv', 'text/csv', lines.join('\r\n') + '\r\n');
  }
  async function fhir() {
    if (!last) return;
    try {
      // One Bundle of every page: the API pages by its `next` link, merged here into one searchset.
      const entries = [];
      let next = '/audit/fhir?' + last.query;
      let bundle = null;
      while (next && entries.length < 5000) {
        bundle = (await api('GET', next, { accept: 'application/fhir+json' })).body;
        entries.push(...(bundle.entry ?? []));
        const link = (bundle.link ?? []).find((l) => l.relation === 'next');
        next = link ? new URL(link.url, location.origin).pathname + new URL(link.url, location.origin).search : null;
      }
      download('audit-fhir.json', 'application/fhir+json', JSON.stringify({ ...bundle, total: entries.length, entry: entries, link: undefined }, null, 2));
    } catch (e) { message(status, e.message); }
  }

  main.replaceChildren(
    h('h1', {}, 'Journal d’audit'),
    h('section', {}, h('h2', {}, 'Recherche'), field('Inscription', q.registrationId), field('Utilisateur', q.userId), field('Site', q.siteId), field('Depuis', q.from), field('Jusqu’à', q.to),
      h('p', {}, h('button', { id: 'audit-search', onclick: search }, 'Rechercher'))),
    h('section', {}, h('h2', {}, 'Par patient (traits stricts, jamais dans une URL)'), field('Nom de naissance', p.birthName), field('Prénom', p.firstName), field('Date de naissance', p.birthDate), field('Sexe', p.sex),
      h('p', {}, h('button', { id: 'audit-patient-search', onclick: patientSearch }, 'Rechercher par patient'))),
    h('section', {}, h('h2', {}, 'Résultats'), status,
      h('p', {}, h('button', { id: 'export-csv', className: 'secondary', onclick: csv }, 'Exporter en CSV'), h('button', { id: 'export-fhir', className: 'secondary', onclick: fhir }, 'Exporter en FHIR (AuditEvent)')),
      results, details));
  if (q.registrationId.value) search();
}

// In Entra mode a sign-in redirect is completed (and the token renewed) before the first route; then back to the page
// that asked for the sign-in (a viewer link), if any.
ready().then(() => {
  const back = sessionStorage.getItem('si.back');
  sessionStorage.removeItem('si.back');
  if (back && token()) { location.assign(back); return; }
  if (signInMode === 'entra' && /^#(code|state|error)=/.test(location.hash)) history.replaceState(null, '', location.pathname);
  window.addEventListener('hashchange', route);
  route();
}).catch((e) => { main.replaceChildren(h('h1', {}, 'Connexion impossible'), h('p', { className: 'error' }, e.message)); });
