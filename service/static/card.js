// The model card: what the chosen model is, how it runs, and how it scored at export.

import {$, el} from './dom.js';
import {kindOf} from './state.js';

// "c1 ≈ slant (r = -0.86)": a continuous code with the attribute evaluation measured it to control, if any.
export function codeName(c, i) {
  const meaning = c.continuous_meaning?.[i];
  return meaning ? `c${i + 1} ≈ ${meaning.attribute} (r = ${meaning.r.toFixed(2)})` : `c${i + 1}`;
}

export function renderCard(m) {
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
