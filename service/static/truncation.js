// A ψ slider on the sampling views (issue #21), added to their views from its own file: when "Truncate" is
// on, every request of the view carries `truncation: ψ`, and ψ goes into the permalink as `psi`. It wraps the
// views of the modules it imports, so they are in VIEWS before it runs.

import {$, el} from './dom.js';
import {VIEWS} from './state.js';
import {writeForm} from './forms.js';
import {run, schedule} from './run.js';
import './generate.js';
import './interpolate.js';
import './arithmetic.js';
import './infogan.js';

const PSI_VIEWS = ['generate', 'interpolate', 'arithmetic', 'infogan'];

function psiControl(view) {
  const box = el('input', {type: 'checkbox', id: `${view}-psi-on`});
  const range = el('input', {type: 'range', id: `${view}-psi`, min: '0.1', max: '1', step: '0.05', value: '0.7'});
  const out = el('output', {htmlFor: range.id, textContent: range.value});
  range.disabled = true;
  range.setAttribute('aria-label', 'Truncation ψ');
  const sync = () => { range.disabled = !box.checked; out.textContent = Number(range.value).toFixed(2); };
  box.addEventListener('change', () => { sync(); run(view); });
  range.addEventListener('input', () => { sync(); schedule(view); });
  const field = el('div', {className: 'field psi'}, el('label', {htmlFor: box.id, textContent: 'Truncate (ψ)'}),
    el('span', {className: 'slider'}, box, range, out));
  const set = (psi) => {
    box.checked = psi !== null && psi !== '';
    if (box.checked) range.value = psi;
    sync();
  };
  return {field, set, value: () => (box.checked ? Number(range.value).toFixed(2) : null)};
}

function psiRegister() {
  for (const view of PSI_VIEWS) {
    const spec = VIEWS[view];
    const form = $(`#view-${view} form`);
    const psi = psiControl(view);
    const submit = form.querySelector('button[type=submit]');
    submit.parentNode.insertBefore(psi.field, submit);
    const {read, requests} = spec;
    const write = spec.write || ((p) => writeForm(view, p, spec.defaults));
    spec.read = () => {
      const p = read();
      if (psi.value() !== null) p.set('psi', psi.value());
      return p;
    };
    spec.write = (p) => { write(p); psi.set(p.get('psi')); };
    spec.requests = async (p) => {
      const made = await requests(p);
      const value = p.get('psi');
      return value ? made.map(([path, body]) => [path, {...body, truncation: Number(value)}]) : made;
    };
  }
}

psiRegister();
