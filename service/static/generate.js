// The Generate view: n images, image i from seed + i.

import {el, intOr, randomSeed} from './dom.js';
import {VIEWS} from './state.js';
import {formParams, labelField} from './forms.js';
import {labelText, strip} from './render.js';

VIEWS.generate = {
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
};
