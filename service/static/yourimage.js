// The "Your image" view (issue #21), registered from its own module as every view is: a drawing (pointer
// events, so mouse, pen and touch alike) or an uploaded PNG or JPEG goes to POST /encode, and the same image to
// /interpolate (from it to a seed) and /arithmetic (it minus and plus means of seeds), as `image` fields.
// The canvas is exported as an opaque PNG: white strokes on black, the datasets' polarity.

import {$, el, intOr, randomSeed} from './dom.js';
import {ApiError, fileBase64} from './api.js';
import {app, info, VIEWS} from './state.js';
import {formParams} from './forms.js';
import {figure, strip} from './render.js';
import {run} from './run.js';

const YI = {drawn: false, last: null};

function yiCanvas() {
  return $('#yi-canvas');
}

function yiClear() {
  const ctx = yiCanvas().getContext('2d');
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, yiCanvas().width, yiCanvas().height);
  YI.drawn = false;
}

function yiPoint(event) {
  const box = yiCanvas().getBoundingClientRect();
  return [(event.clientX - box.left) * (yiCanvas().width / box.width), (event.clientY - box.top) * (yiCanvas().height / box.height)];
}

function yiWire() {
  const canvas = yiCanvas();
  const ctx = canvas.getContext('2d');
  yiClear();
  canvas.addEventListener('pointerdown', (event) => {
    canvas.setPointerCapture(event.pointerId);
    YI.last = yiPoint(event);
    $('#yi-file').value = ''; // drawing replaces an upload
  });
  canvas.addEventListener('pointermove', (event) => {
    if (!YI.last) return;
    const point = yiPoint(event);
    Object.assign(ctx, {strokeStyle: '#fff', lineWidth: 22, lineCap: 'round', lineJoin: 'round'});
    ctx.beginPath();
    ctx.moveTo(...YI.last);
    ctx.lineTo(...point);
    ctx.stroke();
    YI.last = point;
    YI.drawn = true;
  });
  const end = () => {
    if (YI.last && YI.drawn) run('yourimage');
    YI.last = null;
  };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
  $('#yi-clear').addEventListener('click', yiClear);
  $('#yi-file').addEventListener('change', () => run('yourimage'));
}

async function yiImage() {
  const file = $('#yi-file').files[0];
  if (file) return fileBase64(file);
  if (!YI.drawn) throw new ApiError('draw a digit on the canvas, or choose a PNG or JPEG');
  return yiCanvas().toDataURL('image/png').split(',')[1];
}

const yiSeeds = (text) => String(text || '').split(/[\s,]+/).filter(Boolean).map((s) => intOr(s, NaN));

function yiRegister() {
  VIEWS.yourimage = {
    defaults: {seed_b: randomSeed, minus: () => '', plus: () => ''},
    read: () => formParams('yourimage', ['seed_b', 'minus', 'plus']),
    async requests(p) {
      const m = info();
      $('#yi-encoders').textContent = [...app.models.values()].filter((x) => x.encoder).map((x) => x.name).join(', ') || 'none';
      if (!m?.encoder) throw new ApiError(`${app.model} has no encoder; choose a model listed above`);
      if (m.conditional) throw new ApiError('this view sends no label; choose an unconditional model');
      const image = await yiImage();
      const terms = [{image, weight: 1}];
      for (const [key, weight] of [['minus', -1], ['plus', 1]]) {
        const seeds = yiSeeds(p.get(key));
        if (seeds.some(Number.isNaN)) throw new ApiError(`${key}: seeds must be whole numbers 0…4294967295`);
        if (seeds.length) terms.push({seeds, weight});
      }
      const walk = ['/interpolate', {image_a: image, seed_b: intOr(p.get('seed_b'), 0), steps: 8}];
      return [['/encode', {image}], walk, ...(terms.length > 1 ? [['/arithmetic', {terms}]] : [])];
    },
    render([enc, walk, sum]) {
      const out = [el('div', {className: 'equation'},
        figure(enc.source, 'your image, as the model reads it', 'your image as the model reads it', 4),
        el('span', {className: 'equals', textContent: '→'}),
        figure(enc.reconstruction, `reconstruction (distance ${enc.distance.toFixed(3)})`, 'the reconstruction G(E(x))', 4)),
      el('p', {className: 'note', textContent: `Latent: ${enc.latent.length} numbers; mean |pixel difference| ${enc.distance.toFixed(3)}.`}),
      el('h3', {textContent: `Walk to seed ${walk.seed_b}`}),
      strip(walk.images, walk.images.map((im) => `t = ${im.t.toFixed(2)}`))];
      if (sum) {
        const terms = sum.terms.map((t, j) => figure(t.png, j ? `${t.weight < 0 ? '−' : '+'} seeds ${t.seeds.join(', ')}` : 'yours', `term ${j + 1}`, 3));
        out.push(el('h3', {textContent: 'Arithmetic'}), el('div', {className: 'equation'}, ...terms,
          el('span', {className: 'equals', textContent: '='}), figure(sum.images[0].png, 'result', 'the result', 3)));
      }
      return out;
    },
  };

  yiWire();
}

yiRegister();
