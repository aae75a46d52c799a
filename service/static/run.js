// Running a view: its requests sent (a newer run aborts an older one still in flight), its answer shown,
// its state kept in the URL hash, its requests shown as curl lines.

import {$, el} from './dom.js';
import {curl, post} from './api.js';
import {app, info, VIEWS} from './state.js';

const LIVE_DEBOUNCE_MS = 200;

let liveTimer = null;
export function schedule(view) {
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => run(view, {history: 'replace'}), LIVE_DEBOUNCE_MS);
}

export function hashFor(view, params) {
  const p = new URLSearchParams({model: app.model});
  for (const [k, v] of params) p.append(k, v);
  return `#${view}?${p}`;
}

export async function run(view, {history = 'push'} = {}) {
  const spec = VIEWS[view];
  const section = $(`#view-${view}`);
  const output = $('[data-output]', section);
  const params = spec.read();
  app.aborts[view]?.abort(); // a newer request replaces an older one still in flight
  const abort = new AbortController();
  app.aborts[view] = abort;
  const hash = hashFor(view, params);
  if (view === app.view && hash !== location.hash) {
    window.history[history === 'push' ? 'pushState' : 'replaceState'](null, '', hash);
  }
  section.setAttribute('aria-busy', 'true');
  section.dataset.state = 'busy';
  let requests = [];
  try {
    requests = (await spec.requests(params)).map(([path, body]) => [path, {model: app.model, ...body, format: 'json'}]);
    app.requests[view] = requests;
    if (view === app.view) showRequests(view);
    const responses = await Promise.all(requests.map(([path, body]) => post(path, body, abort.signal)));
    if (view === 'interpolate') app.stopAnimation?.();
    output.replaceChildren(...spec.render(responses));
    if (info()?.credit) output.append(el('p', {className: 'credit', textContent: info().credit}));
    app.ran[view] = hash;
    section.dataset.state = 'done';
  } catch (err) {
    if (err.name === 'AbortError') return;
    output.replaceChildren(el('p', {className: 'error', role: 'alert', textContent: err.message}));
    section.dataset.state = 'error';
  }
  section.removeAttribute('aria-busy');
  section.dataset.runs = String(Number(section.dataset.runs || 0) + 1); // lets tests wait for a finished run
}

export function showRequests(view) {
  const requests = app.requests[view] || [];
  $('#curl').textContent = requests.map(([path, body]) => curl(path, body)).join('\n');
  $('#permalink').href = location.href;
  $('#copy-status').textContent = '';
}
