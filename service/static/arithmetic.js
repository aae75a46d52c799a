// The Arithmetic view: terms of weighted seed means, summed into one latent, and its terms' editor.

import {$, $$, el, intOr, randomSeed} from './dom.js';
import {ApiError} from './api.js';
import {info, isConditional, VIEWS} from './state.js';
import {fillLabelSelect, labelField} from './forms.js';
import {figure, labelText} from './render.js';
import {run} from './run.js';

VIEWS.arithmetic = {
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
};

// ---------- terms of the arithmetic view ----------

export function addTerm(seeds = '', weight = '1', label = '') {
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

export function exampleTerms() {
  // DCGAN's face arithmetic, with digits: the style shared by three 7s, minus three 1s, plus three 4s.
  const three = () => [1, 2, 3].map(() => randomSeed() % 100000).join(','); // short seeds stay readable
  const n = info().num_classes || 0;
  const [a, b, c] = n > 7 ? ['7', '1', '4'] : n ? ['0', String(Math.min(1, n - 1)), '0'] : ['', '', ''];
  $('#terms').replaceChildren();
  addTerm(three(), '1', a);
  addTerm(three(), '-1', b);
  addTerm(three(), '1', c);
}

$('#add-term').addEventListener('click', () => addTerm(String(randomSeed())).querySelector('input').focus());
$('#example-terms').addEventListener('click', () => { exampleTerms(); run('arithmetic'); });
