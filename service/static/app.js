// The playground is a client of the public API and nothing more: each view turns its form into
// POST bodies (format=json, so every image arrives as the exact PNG the API encodes), shows those
// PNGs untouched, and keeps its state in the URL hash (#view?key=value...) so any result has a
// permalink that replays the same requests. index.html loads this module alone; it imports the views kept in
// modules of their own.

import './yourimage.js';
import './truncation.js';

export const $ = (sel, root = document) => root.querySelector(sel);
const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];
const SWEEP = [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]; // the InfoGAN paper varies codes past the prior's [-1, 1]
const LIVE_DEBOUNCE_MS = 200;
const FRAME_MS = 120;

export const app = {models: new Map(), defaultModel: null, model: null, view: 'generate', ran: {}, aborts: {}, requests: {}};

export const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];
export const intOr = (text, fallback) => (/^\d+$/.test(String(text).trim()) ? Number(text) : fallback);
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

// ---------- API ----------

export class ApiError extends Error {}

function describeError(status, body) {
  const detail = body && body.detail;
  if (Array.isArray(detail)) return detail.map((d) => `${d.loc.slice(1).join('.') || 'body'}: ${d.msg}`).join('; ');
  return `${status}: ${typeof detail === 'string' ? detail : 'request failed'}`;
}

async function post(path, body, signal) {
  const r = await fetch(path, {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body), signal,
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new ApiError(describeError(r.status, data));
  return data;
}

function curl(path, body) {
  const json = JSON.stringify(body).replaceAll("'", "'\\''");
  return `curl -sS -X POST '${location.origin}${path}' -H 'Content-Type: application/json' -d '${json}'`;
}

// ---------- model-dependent controls ----------

export const info = () => app.models.get(app.model);
const kindOf = (m) => m?.kind || 'generator';
const KIND_VIEW = {translator: 'translate', text2image: 'text2image'};
const isConditional = () => Boolean(info()?.conditional);
const codes = () => info()?.codes || null;

function fillLabelSelect(select) {
  const keep = select.value;
  const names = info()?.class_names || [];
  select.replaceChildren(el('option', {value: '', textContent: `(${select.dataset.labels})`}),
    ...names.map((name, i) => el('option', {value: String(i), textContent: name})));
  select.value = keep !== '' && Number(keep) < names.length ? keep : '';
}

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

// "c1 ≈ slant (r = -0.86)": a continuous code with the attribute evaluation measured it to control, if any.
function codeName(c, i) {
  const meaning = c.continuous_meaning?.[i];
  return meaning ? `c${i + 1} ≈ ${meaning.attribute} (r = ${meaning.r.toFixed(2)})` : `c${i + 1}`;
}

function buildCodeControls(c) {
  const cat = $('#info-cat');
  const keep = cat.value;
  cat.replaceChildren(el('option', {value: '', textContent: '(from seed)'}),
    ...Array.from({length: c.categorical[0]}, (_, i) => el('option', {value: String(i), textContent: String(i)})));
  cat.value = keep !== '' && Number(keep) < c.categorical[0] ? keep : '';
  const box = $('#info-sliders');
  box.replaceChildren(box.querySelector('legend'), ...Array.from({length: c.continuous}, (_, i) => {
    const input = el('input', {id: `info-c${i}`, type: 'range', min: '-2', max: '2', step: '0.05', value: '0'});
    const out = el('output', {htmlFor: input.id, textContent: '0.00'});
    input.addEventListener('input', () => {
      out.value = Number(input.value).toFixed(2);
      box.dataset.explicit = '1';
      schedule('infogan');
    });
    return el('div', {className: 'slider'}, el('label', {htmlFor: input.id, textContent: codeName(c, i)}), input, out);
  }));
  box.dataset.explicit = '';
}

function setSliders(values) {
  $$('#info-sliders input').forEach((input, i) => {
    input.value = String(values[i] ?? 0);
    input.nextElementSibling.value = Number(values[i] ?? 0).toFixed(2);
  });
}

function renderCard(m) {
  $('#card-title').textContent = `Model card: ${m.name}`;
  const facts = [
    ['Dataset', m.dataset], ['Variant', m.variant], ['Kind', kindOf(m)],
    ['Latent', m.latent_dim ? `${m.latent_dim} dims` : 'none'],
    ['Image', `${m.image.width}×${m.image.height}, ${m.image.channels === 1 ? 'grayscale' : 'RGB'}`],
    ['Classes', m.conditional ? m.class_names.join(' ') : 'unconditional'],
    ['Codes', m.codes ? `${m.codes.categorical.join('+')} categorical; continuous: ${Array.from({length: m.codes.continuous}, (_, i) => codeName(m.codes, i)).join(', ')}` : '—'],
    ['Runtime', `${m.provider}, ${m.batch_shapes} batches, opset ${m.opset}`],
    ['sha256', `${m.sha256.slice(0, 16)}…`],
    ...(m.credit ? [['Credit', m.credit]] : []),
  ];
  $('#card-facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {textContent: k}), el('dd', {textContent: v})]));
  const metrics = Object.entries(m.metrics || {});
  $('#card-metrics tbody').replaceChildren(...(metrics.length
    ? metrics.map(([k, v]) => el('tr', {}, el('th', {scope: 'row', textContent: k.replaceAll('_', ' ')}),
      el('td', {textContent: v === null ? 'not measured' : String(Number(v.toPrecision(4)))})))
    : [el('tr', {}, el('td', {textContent: 'No figures were recorded at export.'}))]));
  const img = $('#card-samples');
  img.hidden = true;
  $('#card-no-samples').hidden = true;
  img.onload = () => { img.hidden = false; };
  img.onerror = () => { $('#card-no-samples').hidden = false; };
  img.alt = `Sample grid of ${m.name}, committed at export`;
  img.src = `/models/${encodeURIComponent(m.name)}/samples.png`;
}

// ---------- rendering ----------

function picture(b64, alt, scale = 2, size = info().image) {
  const {width, height} = size;
  return el('img', {src: `data:image/png;base64,${b64}`, alt, width: width * scale, height: height * scale});
}

export function figure(b64, caption, alt, scale, size) {
  return el('figure', {}, picture(b64, alt || caption, scale, size), el('figcaption', {textContent: caption}));
}

const labelText = (im) => (im.class_name !== null && im.class_name !== undefined ? ` (${im.class_name})` : '');

export function strip(images, alts, className = 'strip') {
  return el('div', {className}, ...images.map((im, i) => picture(im.png, alts[i])));
}

// ---------- views ----------
// Each view: read() → URLSearchParams of its state, write(params) restores it, requests(params) →
// [[path, body], ...] and render(responses) fills the output.

const labelField = (params, key, bodyKey = key) => {
  const v = params.get(key);
  return isConditional() && v !== null && v !== '' ? {[bodyKey]: Number(v)} : {};
};

export function formParams(view, names) {
  const form = $(`#view-${view} form`);
  return new URLSearchParams(names.map((n) => [n, form.elements[n].value]));
}

export function writeForm(view, params, defaults) {
  const form = $(`#view-${view} form`);
  for (const [name, fallback] of Object.entries(defaults)) {
    const value = params.get(name) ?? fallback();
    const field = form.elements[name];
    field.value = value;
    if (field.tagName === 'SELECT' && field.selectedIndex < 0) field.value = '';
  }
}

export const VIEWS = {
  generate: {
    defaults: {seed: randomSeed, n: () => '16', label: () => ''},
    read: () => formParams('generate', ['seed', 'n', 'label']),
    requests: (p) => [['/generate', {
      seed: intOr(p.get('seed'), 0), n: intOr(p.get('n'), 16), ...labelField(p, 'label'),
    }]],
    render([r]) {
      const grid = strip(r.images, r.images.map((im) => `seed ${im.seed}${labelText(im)}`), 'grid');
      grid.style.setProperty('--cols', Math.ceil(Math.sqrt(r.images.length)));
      return [grid, el('p', {className: 'note', textContent: `Seeds ${r.seed}…${r.seed + r.n - 1}; image i uses seed + i.`})];
    },
  },

  interpolate: {
    defaults: {seed_a: randomSeed, seed_b: randomSeed, label_a: () => '', label_b: () => '', steps: () => '10',
      method: () => 'slerp'},
    read: () => formParams('interpolate', ['seed_a', 'label_a', 'seed_b', 'label_b', 'steps', 'method']),
    requests: (p) => [['/interpolate', {
      seed_a: intOr(p.get('seed_a'), 0), seed_b: intOr(p.get('seed_b'), 1), ...labelField(p, 'label_a'),
      ...labelField(p, 'label_b'), steps: intOr(p.get('steps'), 10), method: p.get('method') || 'slerp',
    }]],
    render([r]) {
      const alts = r.images.map((im, k) => `frame ${k + 1} of ${r.images.length}, t = ${im.t.toFixed(2)}${labelText(im)}`);
      return [el('h3', {textContent: 'Strip'}), strip(r.images, alts), el('h3', {textContent: 'Animation'}),
        animation(r.images, alts)];
    },
  },

  arithmetic: {
    defaults: {label: () => ''},
    read() {
      const p = new URLSearchParams({label: $('#ari-label').value});
      for (const term of $$('#terms .term')) {
        const seeds = term.querySelector('[data-name=seeds]').value.trim().split(/[\s,]+/).join(',');
        const weight = term.querySelector('[data-name=weight]').value.trim();
        p.append('t', `${seeds}:${weight}:${term.querySelector('[data-name=label]').value}`);
      }
      return p;
    },
    write(p) {
      const terms = p.getAll('t');
      $('#terms').replaceChildren();
      if (terms.length) terms.forEach((t) => addTerm(...t.split(':'))); else exampleTerms();
      $('#ari-label').value = p.get('label') || '';
      if ($('#ari-label').selectedIndex < 0) $('#ari-label').value = '';
    },
    requests(p) {
      const terms = p.getAll('t').map((t, j) => {
        const [seeds, weight, label] = t.split(':');
        const list = seeds.split(',').map((s) => intOr(s, NaN));
        if (!seeds || list.some(Number.isNaN)) throw new ApiError(`term ${j + 1}: seeds must be whole numbers 0…4294967295`);
        const w = Number(weight);
        if (weight === '' || !Number.isFinite(w)) throw new ApiError(`term ${j + 1}: weight must be a number`);
        return {seeds: list, weight: w, ...labelField(new URLSearchParams({label: label ?? ''}), 'label')};
      });
      return [['/arithmetic', {terms, ...labelField(p, 'label')}]];
    },
    render([r]) {
      const parts = r.terms.flatMap((t, j) => {
        const sign = t.weight < 0 ? '−' : j ? '+' : '';
        const label = t.label !== null ? `, label ${info().class_names[t.label]}` : '';
        const caption = `${sign}${Math.abs(t.weight)} × mean of ${t.seeds.join(', ')}${label}`;
        return [figure(t.png, caption, `term ${j + 1}: ${caption}`, 3)];
      });
      const res = r.images[0];
      return [el('div', {className: 'equation'}, ...parts, el('span', {className: 'equals', textContent: '='}),
        figure(res.png, `result${labelText(res)}`, `result of the arithmetic${labelText(res)}`, 3))];
    },
  },

  infogan: {
    defaults: {seed: randomSeed, cat: () => '', cont: () => ''},
    read() {
      const box = $('#info-sliders');
      const cont = box.dataset.explicit ? $$('input', box).map((i) => i.value).join(',') : '';
      return new URLSearchParams({seed: $('#info-seed').value, cat: $('#info-cat').value, cont});
    },
    write(p) {
      $('#info-seed').value = p.get('seed') ?? randomSeed();
      $('#info-cat').value = p.get('cat') || '';
      if ($('#info-cat').selectedIndex < 0) $('#info-cat').value = '';
      const cont = (p.get('cont') || '').split(',').filter(Boolean).map(Number);
      const box = $('#info-sliders');
      box.dataset.explicit = cont.length && !cont.some(Number.isNaN) ? '1' : '';
      if (box.dataset.explicit) setSliders(cont);
    },
    requests(p) {
      const c = codes();
      if (!c) throw new ApiError(`${app.model} has no InfoGAN codes; pick an InfoGAN model`);
      const base = {seed: intOr(p.get('seed'), 0)};
      if (p.get('cat')) base.categorical = Number(p.get('cat'));
      if (p.get('cont')) base.continuous = p.get('cont').split(',').map(Number);
      const sweeps = [{code: 'categorical', values: Array.from({length: c.categorical[0]}, (_, i) => i)},
        ...Array.from({length: c.continuous}, (_, i) => ({code: `continuous:${i}`, values: SWEEP}))];
      return [['/infogan', base], ...sweeps.map((sweep) => ['/infogan', {...base, sweep}])];
    },
    render([one, ...sweeps]) {
      const im = one.images[0], c = codes();
      $('#info-cat').options[0].textContent = `(from seed: ${im.categorical})`;
      if (!$('#info-sliders').dataset.explicit) setSliders(im.continuous);
      const codesText = `categorical ${im.categorical}, continuous ${im.continuous.map((v) => v.toFixed(2)).join(', ')}`;
      const rows = sweeps.map((r) => {
        const i = r.sweep.code === 'categorical' ? null : Number(r.sweep.code.split(':')[1]);
        const code = i === null ? 'categorical' : `c${i + 1}`;
        const title = i === null ? code : codeName(c, i);
        const alts = r.sweep.values.map((v) => `${code} = ${v}`);
        return el('div', {className: 'sweep'}, el('h4', {textContent: `${title}: ${r.sweep.values[0]} … ${r.sweep.values.at(-1)}`}),
          strip(r.images, alts));
      });
      return [figure(im.png, codesText, `seed ${one.seed}, ${codesText}`, 5), el('h3', {textContent: 'Sweeps'}), ...rows];
    },
  },
};

VIEWS.translate = {
  defaults: {seed: randomSeed, direction: () => Object.keys(info()?.directions || {a2b: 0})[0]},
  read: () => formParams('translate', ['direction', 'seed']),
  async requests(p) {
    if (kindOf(info()) !== 'translator') throw new ApiError(`${app.model} is not a translator; pick one above`);
    const file = $('#tr-file').files[0];
    const source = file ? {image: await fileBase64(file)} : {seed: intOr(p.get('seed'), 0)};
    return [['/translate', {direction: p.get('direction') || 'a2b', ...source}]];
  },
  render([r]) {
    const from = r.seed === null ? 'your image' : `test image ${r.bank_index} (seed ${r.seed})`;
    return [el('div', {className: 'equation'},
      figure(r.source, `${r.source_domain}: ${from}`, `source, ${r.source_domain}: ${from}`, 5),
      el('span', {className: 'equals', textContent: '→'}),
      figure(r.translation, r.target_domain, `translation to ${r.target_domain}`, 5))];
  },
};

VIEWS.text2image = {
  defaults: {text: () => 'a thick slanted seven', seed: randomSeed, n: () => '8'},
  read: () => formParams('text2image', ['text', 'seed', 'n']),
  requests(p) {
    if (kindOf(info()) !== 'text2image') throw new ApiError(`${app.model} does not draw from text; pick a model above`);
    return [['/text2image', {text: p.get('text') || '', seed: intOr(p.get('seed'), 0), n: intOr(p.get('n'), 8)}]];
  },
  render([r]) {
    const grid = strip(r.images, r.images.map((im) => `“${r.text}”, seed ${im.seed}`), 'grid');
    grid.style.setProperty('--cols', Math.ceil(Math.sqrt(r.images.length)));
    const low = el('div', {className: 'strip'}, ...r.images.map((im) =>
      picture(im.stage1, `Stage-I image, seed ${im.seed}`, 2, {width: 28, height: 28})));
    const read = el('p', {className: 'note', textContent: `Read: ${r.words.join(' ')}`});
    const unknown = el('p', {className: r.unknown_words.length ? 'error unknown-words' : 'note unknown-words',
      textContent: r.unknown_words.length ? `Not in the vocabulary (ignored): ${r.unknown_words.join(', ')}`
        : 'Every word is in the vocabulary.'});
    return [grid, read, unknown, el('h3', {textContent: 'Stage I (14×14)'}), low];
  },
};

export function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',')[1]);
    reader.onerror = () => reject(new ApiError('could not read the file'));
    reader.readAsDataURL(file);
  });
}

// ---------- terms of the arithmetic view ----------

function addTerm(seeds = '', weight = '1', label = '') {
  const node = $('#term-template').content.firstElementChild.cloneNode(true);
  for (const field of $$('[data-name]', node)) {
    const id = `term-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}-${field.dataset.name}`;
    field.id = id;
    node.querySelector(`[data-for=${field.dataset.name}]`).htmlFor = id;
  }
  node.querySelector('[data-name=seeds]').value = seeds.split(',').join(', ');
  node.querySelector('[data-name=weight]').value = weight;
  const select = node.querySelector('[data-name=label]');
  fillLabelSelect(select);
  select.value = label;
  if (select.selectedIndex < 0) select.value = '';
  node.querySelector('[data-needs]').hidden = !isConditional();
  node.querySelector('.remove').addEventListener('click', () => {
    const next = node.nextElementSibling || node.previousElementSibling;
    node.remove();
    renumberTerms();
    (next?.querySelector('input') || $('#add-term')).focus();
  });
  $('#terms').append(node);
  renumberTerms();
  return node;
}

function renumberTerms() {
  const terms = $$('#terms .term');
  terms.forEach((t, j) => {
    t.querySelector('legend').textContent = `Term ${j + 1}`;
    t.querySelector('.remove').setAttribute('aria-label', `Remove term ${j + 1}`);
    t.querySelector('.remove').disabled = terms.length === 1;
  });
  $('#add-term').disabled = terms.length >= 8;
}

function exampleTerms() {
  // DCGAN's face arithmetic, with digits: the style shared by three 7s, minus three 1s, plus three 4s.
  const three = () => [1, 2, 3].map(() => randomSeed() % 100000).join(','); // short seeds stay readable
  const n = info().num_classes || 0;
  const [a, b, c] = n > 7 ? ['7', '1', '4'] : n ? ['0', String(Math.min(1, n - 1)), '0'] : ['', '', ''];
  $('#terms').replaceChildren();
  addTerm(three(), '1', a);
  addTerm(three(), '-1', b);
  addTerm(three(), '1', c);
}

// ---------- animation ----------

function animation(images, alts) {
  const img = picture(images[0].png, alts[0], 6);
  img.className = 'anim';
  const caption = el('span', {className: 'frame', textContent: alts[0]});
  const button = el('button', {type: 'button', className: 'play'});
  let k = 0;
  let dir = 1;
  let timer = null;
  const show = () => {
    img.src = `data:image/png;base64,${images[k].png}`;
    img.alt = caption.textContent = alts[k];
  };
  const tick = () => {
    if (k + dir < 0 || k + dir >= images.length) dir = -dir; // ping-pong, so the loop has no jump
    k += dir;
    show();
  };
  const set = (playing) => {
    clearInterval(timer);
    timer = playing ? setInterval(tick, FRAME_MS) : null;
    button.textContent = playing ? 'Pause' : 'Play';
    button.setAttribute('aria-pressed', String(playing));
  };
  button.addEventListener('click', () => set(!timer));
  set(!matchMedia('(prefers-reduced-motion: reduce)').matches);
  app.stopAnimation = () => set(false);
  return el('div', {className: 'animation'}, img, el('div', {}, button, ' ', caption));
}

// ---------- running a view ----------

let liveTimer = null;
export function schedule(view) {
  clearTimeout(liveTimer);
  liveTimer = setTimeout(() => run(view, {history: 'replace'}), LIVE_DEBOUNCE_MS);
}

function hashFor(view, params) {
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

function showRequests(view) {
  const requests = app.requests[view] || [];
  $('#curl').textContent = requests.map(([path, body]) => curl(path, body)).join('\n');
  $('#permalink').href = location.href;
  $('#copy-status').textContent = '';
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
  $('#add-term').addEventListener('click', () => addTerm(String(randomSeed())).querySelector('input').focus());
  $('#example-terms').addEventListener('click', () => { exampleTerms(); run('arithmetic'); });
  $('#info-cat').addEventListener('change', () => schedule('infogan'));
  $('#tr-direction').addEventListener('change', () => run('translate'));
  $('#tr-file').addEventListener('change', () => run('translate'));
  $('#info-reset').addEventListener('click', () => {
    $('#info-cat').value = '';
    $('#info-sliders').dataset.explicit = '';
    run('infogan');
  });
  $('#copy-curl').addEventListener('click', copyCurl);
  window.addEventListener('popstate', applyHash);
}

// The view modules imported above (yourimage.js, truncation.js) add their views on DOMContentLoaded; main
// opens no view before then, however soon /models answers.
const viewsAdded = new Promise((resolve) => document.addEventListener('DOMContentLoaded', resolve));

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
  await viewsAdded;
  $('#model').replaceChildren(...[...app.models.keys()].map((n) => el('option', {value: n, textContent: n})));
  const wanted = parseHash().params.get('model');
  selectModel(app.models.has(wanted) ? wanted : app.defaultModel);
  initForms();
  if (matchMedia('(max-width: 720px)').matches) $('#card').open = false; // on a phone the views come first
  applyHash();
}

main();
