// The Interpolate view: the frames between two seeds' images, as a strip and an animation.

import {el, intOr, randomSeed} from './dom.js';
import {VIEWS} from './state.js';
import {formParams, labelField} from './forms.js';
import {animation, labelText, strip} from './render.js';

VIEWS.interpolate = {
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
};
