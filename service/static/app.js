// The playground is a client of the public API and nothing more: each view turns its form into
// POST bodies (format=json, so every image arrives as the exact PNG the API encodes), shows those
// PNGs untouched, and keeps its state in the URL hash (#view?key=value...) so any result has a
// permalink that replays the same requests. index.html loads this module alone. It imports each view from its
// own module, which adds the view to VIEWS (state.js) and wires the view's own controls when it runs, so every
// view is there before main() opens one; this module wires what belongs to the page: the model select, the
// nav, the dice, the URL and the curl box.

import {$, $$, el, randomSeed} from './dom.js';
import {describeError} from './api.js';
import {app, codes, info, KIND_VIEW, kindOf, VIEWS} from './state.js';
import {fillLabelSelect, writeForm} from './forms.js';
import {hashFor, run, showRequests} from './run.js';
import {renderCard} from './card.js';
// The views, in the order initForms sets them up (truncation.js adds ψ to four of them).
import './generate.js';
import './interpolate.js';
import {exampleTerms} from './arithmetic.js';
import {buildCodeControls} from './infogan.js';
import './translate.js';
import './text2image.js';
import './yourimage.js';
import './truncation.js';

// ---------- model-dependent controls ----------

function syncModelControls() {
  const m = info();
  $$('[data-needs="conditional"]').forEach((node) => { node.hidden = !m.conditional; });
  $$('select[data-labels]').forEach(fillLabelSelect);
  const c = codes();
  $('[data-needs="infogan"]').hidden = !c;
  $('#infogan-other').hidden = Boolean(c);
  const others = [...app.models.values()].filter((x) => x.codes);
  $('#infogan-none').hidden = others.length > 0;
  $('#infogan-switch').replaceChildren(...others.map((x) => el('button', {
    type: 'button', textContent: `Use ${x.name}`, onclick: () => { selectModel(x.name); run('infogan'); },
  })));
  if (c) buildCodeControls(c);
  for (const kind of Object.keys(KIND_VIEW)) {
    const mine = kindOf(m) === kind;
    $(`[data-needs="${kind}"]`).hidden = !mine;
    $(`[data-other="${kind}"]`).hidden = mine;
    $(`[data-switch="${kind}"]`).replaceChildren(...[...app.models.values()].filter((x) => kindOf(x) === kind)
      .map((x) => el('button', {type: 'button', textContent: `Use ${x.name}`,
        onclick: () => { selectModel(x.name); run(KIND_VIEW[kind]); }})));
  }
  if (m.directions) {
    const select = $('#tr-direction');
    const keep = select.value;
    select.replaceChildren(...Object.entries(m.directions).map(([key, d]) =>
      el('option', {value: key, textContent: `${d.source} → ${d.target}`})));
    if (keep in m.directions) select.value = keep;
  }
  if (m.text) $('#t2i-vocabulary').textContent = `Words this model knows: ${m.text.vocabulary.slice(1).join(' ')}`;
  renderCard(m);
}

function showView(view) {
  app.view = view;
  $$('.view').forEach((s) => { s.hidden = s.dataset.view !== view; });
  $$('nav button').forEach((b) => b.setAttribute('aria-current', String(b.dataset.show === view)));
  document.title = `${$(`#h-${view}`).textContent} · GAN playground`;
}

function selectModel(name) {
  if (name === app.model) return;
  app.model = name;
  $('#model').value = name;
  app.ran = {};
  syncModelControls();
}

// ---------- URL state ----------

function parseHash() {
  const [view, query = ''] = location.hash.slice(1).split('?');
  return {view: VIEWS[view] ? view : 'generate', params: new URLSearchParams(query)};
}

function applyHash() {
  const {view, params} = parseHash();
  const wanted = params.get('model');
  selectModel(app.models.has(wanted) ? wanted : app.model || app.defaultModel);
  showView(view);
  const spec = VIEWS[view];
  if (spec.write) spec.write(params); else writeForm(view, params, spec.defaults);
  run(view, {history: 'replace'});
}

function initForms() {
  for (const [view, spec] of Object.entries(VIEWS)) {
    if (spec.write) spec.write(new URLSearchParams()); else writeForm(view, new URLSearchParams(), spec.defaults);
    $(`#view-${view} form`).addEventListener('submit', (event) => {
      event.preventDefault();
      if (event.target.reportValidity()) run(view);
    });
  }
}

async function copyCurl() {
  const text = $('#curl').textContent;
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    getSelection().selectAllChildren($('#curl')); // the user can still copy the selection
    $('#copy-status').textContent = 'Selected; press Ctrl+C to copy.';
    return;
  }
  $('#copy-status').textContent = 'Copied.';
}

function wire() {
  $('#model').addEventListener('change', (e) => {
    selectModel(e.target.value);
    if (app.view === 'arithmetic') exampleTerms(); // labels and seeds mean different things per model
    const own = KIND_VIEW[kindOf(info())];
    if (own && own !== app.view) showView(own); // a translator or text model has one view of its own
    run(app.view);
  });
  $$('nav button').forEach((b) => b.addEventListener('click', () => {
    showView(b.dataset.show);
    const hash = hashFor(b.dataset.show, VIEWS[b.dataset.show].read());
    if (app.ran[b.dataset.show] === hash) {
      window.history.pushState(null, '', hash);
      showRequests(b.dataset.show);
    } else {
      run(b.dataset.show);
    }
  }));
  $$('[data-dice]').forEach((b) => b.addEventListener('click', () => {
    $(`#${b.dataset.dice}`).value = randomSeed();
    run(b.closest('.view').dataset.view);
  }));
  $('#copy-curl').addEventListener('click', copyCurl);
  window.addEventListener('popstate', applyHash);
}

async function main() {
  wire();
  try {
    const r = await fetch('/models');
    const body = await r.json();
    if (!r.ok) throw new Error(describeError(r.status, body));
    if (!body.models.length) throw new Error('The service serves no models yet.');
    body.models.forEach((m) => app.models.set(m.name, m));
    app.defaultModel = app.models.has(body.default) ? body.default : body.models[0].name;
  } catch (err) {
    $('#global-error').textContent = `Could not list models: ${err.message}`;
    $('#global-error').hidden = false;
    return;
  }
  $('#model').replaceChildren(...[...app.models.keys()].map((n) => el('option', {value: n, textContent: n})));
  const wanted = parseHash().params.get('model');
  selectModel(app.models.has(wanted) ? wanted : app.defaultModel);
  initForms();
  if (matchMedia('(max-width: 720px)').matches) $('#card').open = false; // on a phone the views come first
  applyHash();
}

main();
