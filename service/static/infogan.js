// The InfoGAN view: one image from a seed and its codes, and a sweep of each code.

import {$, $$, el, intOr, randomSeed} from './dom.js';
import {ApiError} from './api.js';
import {app, codes, VIEWS} from './state.js';
import {figure, strip} from './render.js';
import {run, schedule} from './run.js';
import {codeName} from './card.js';

const SWEEP = [-2, -1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2]; // the InfoGAN paper varies codes past the prior's [-1, 1]

export function buildCodeControls(c) {
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

VIEWS.infogan = {
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
};

$('#info-cat').addEventListener('change', () => schedule('infogan'));
$('#info-reset').addEventListener('click', () => {
  $('#info-cat').value = '';
  $('#info-sliders').dataset.explicit = '';
  run('infogan');
});
