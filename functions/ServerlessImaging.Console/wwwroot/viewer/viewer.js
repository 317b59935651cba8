// The study viewer: reads one study from the DICOM service (QIDO-RS, then WADO-RS per instance) with the signed-in
// user's token and shows a series in dwv (2D canvas rendering: no WebGL needed). URL: ?StudyInstanceUIDs=<uid>
// (the parameter name OHIF uses, so a link stays valid if the viewer is swapped).
import * as dwv from 'dwv';
import { dicomToken, ready, token } from '../shared/auth.js';

const config = window.SI_VIEWER_CONFIG;
const status = document.getElementById('status');
const seriesSelect = document.getElementById('series');
let app = null;

function say(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function tag(item, key) {
  const element = item[key];
  if (!element || !element.Value || element.Value.length === 0) return undefined;
  const v = element.Value[0];
  return typeof v === 'object' && v !== null && 'Alphabetic' in v ? v.Alphabetic : v;
}

async function dicomWeb(path, accept) {
  const response = await fetch(config.dicomWebRoot + path, {
    headers: { Authorization: 'Bearer ' + await dicomToken(), Accept: accept },
  });
  if (response.status === 401) throw new Error('Session expirée : reconnectez-vous.');
  if (response.status === 403) throw new Error('Votre rôle ne permet pas de voir les images.');
  if (!response.ok) throw new Error(`Service DICOM : HTTP ${response.status}`);
  return response;
}

// WADO-RS answers multipart/related; the first part's body is the Part 10 instance.
function firstPart(buffer, contentType) {
  const match = /boundary="?([^";]+)"?/i.exec(contentType || '');
  if (!match) return buffer;
  const bytes = new Uint8Array(buffer);
  const delimiter = new TextEncoder().encode('--' + match[1]);
  const find = (needle, from) => {
    outer: for (let i = from; i <= bytes.length - needle.length; i++) {
      for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
      return i;
    }
    return -1;
  };
  const start = find(delimiter, 0);
  const headersEnd = find(new Uint8Array([13, 10, 13, 10]), start);
  const next = find(new TextEncoder().encode('\r\n--' + match[1]), headersEnd + 4);
  if (start < 0 || headersEnd < 0 || next < 0) throw new Error('Réponse WADO-RS illisible');
  return buffer.slice(headersEnd + 4, next);
}

async function loadSeries(study, series) {
  say('Lecture de la série…');
  const instances = await (await dicomWeb(`studies/${study}/series/${series}/instances`, 'application/dicom+json')).json();
  instances.sort((a, b) => (tag(a, '00200013') ?? 0) - (tag(b, '00200013') ?? 0));
  const files = [];
  let done = 0;
  // A few requests at a time: enough to fill the pipe without queuing tens of them in the browser.
  const queue = instances.map((item, index) => ({ index, uid: tag(item, '00080018') }));
  async function worker() {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const response = await dicomWeb(`studies/${study}/series/${series}/instances/${next.uid}`,
        'multipart/related; type="application/dicom"; transfer-syntax=*');
      const part = firstPart(await response.arrayBuffer(), response.headers.get('Content-Type'));
      files[next.index] = new File([part], `${String(next.index).padStart(4, '0')}.dcm`, { type: 'application/dicom' });
      say(`Téléchargement ${++done} / ${instances.length}…`);
    }
  }
  await Promise.all([worker(), worker(), worker(), worker()]);

  if (app) app.reset();
  app = new dwv.App();
  const options = new dwv.AppOptions({ '*': [new dwv.ViewConfig('layerGroup0')] });
  options.tools = { Scroll: new dwv.ToolConfig(), WindowLevel: new dwv.ToolConfig(), ZoomAndPan: new dwv.ToolConfig() };
  app.init(options);
  await new Promise((resolve, reject) => {
    app.addEventListener('load', resolve);
    app.addEventListener('error', (e) => reject(e.error ?? new Error('dwv : lecture impossible')));
    app.loadFiles(files);
  });
  app.setTool('Scroll');
  markTool('Scroll');
  showMiddleSlice(files.length);
  say(`${files.length} image(s) affichée(s)`);
  document.body.dataset.rendered = 'true';
}

// Open a volume at its middle slice (the first one is often an edge of the scanned region); a single image stays as is.
function showMiddleSlice(count) {
  if (count < 3) return;
  const layer = app.getActiveLayerGroup()?.getActiveViewLayer();
  const controller = layer?.getViewController();
  const index = controller?.getCurrentIndex();
  if (!index) return;
  const values = index.getValues();
  values[2] = Math.floor(count / 2);
  controller.setCurrentIndex(new dwv.Index(values));
}

function markTool(name) {
  for (const b of document.querySelectorAll('button[data-tool]')) b.classList.toggle('active', b.dataset.tool === name);
}

// CT window presets in Hounsfield units (center, width); "de l'image" goes back to the series' own Window Center/Width.
document.getElementById('window').addEventListener('change', (e) => {
  const controller = app?.getActiveLayerGroup()?.getActiveViewLayer()?.getViewController();
  if (!controller) return;
  if (!e.target.value) { controller.setWindowLevelPresetById(0); return; }
  const [center, width] = e.target.value.split(',').map(Number);
  controller.setWindowLevel(new dwv.WindowLevel(center, width));
});

for (const b of document.querySelectorAll('button[data-tool]')) {
  b.addEventListener('click', () => { if (app) { app.setTool(b.dataset.tool); markTool(b.dataset.tool); } });
}

async function main() {
  const study = (new URLSearchParams(location.search).get('StudyInstanceUIDs') || '').split(',')[0];
  if (!/^[0-9.]{1,64}$/.test(study)) { say('Lien invalide : aucun StudyInstanceUID.', true); return; }
  await ready();
  if (!token()) {
    const back = encodeURIComponent(location.pathname + location.search);
    location.replace(`${config.signInPage}#/connexion?retour=${back}`);
    return;
  }
  document.getElementById('study').textContent = study;
  const series = await (await dicomWeb(`studies/${study}/series`, 'application/dicom+json')).json();
  if (series.length === 0) { say('Aucune série disponible pour cet examen.', true); return; }
  // Largest image series first: the one worth opening (a CT/MR volume rather than a single capture).
  series.sort((a, b) => (tag(b, '00201209') ?? 0) - (tag(a, '00201209') ?? 0));
  for (const s of series) {
    const option = document.createElement('option');
    option.value = tag(s, '0020000E');
    option.textContent = `${tag(s, '00080060') ?? '?'} ${tag(s, '0008103E') ?? ''} (${tag(s, '00201209') ?? '?'} im.)`;
    seriesSelect.append(option);
  }
  seriesSelect.addEventListener('change', () => loadSeries(study, seriesSelect.value).catch((e) => say(e.message, true)));
  await loadSeries(study, seriesSelect.value);
}

main().catch((e) => say(e.message || String(e), true));
