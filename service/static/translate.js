// The Translate view: a test image, or one's own, through a translator in either direction.

import {$, el, intOr, randomSeed} from './dom.js';
import {ApiError, fileBase64} from './api.js';
import {app, info, kindOf, VIEWS} from './state.js';
import {formParams} from './forms.js';
import {figure} from './render.js';
import {run} from './run.js';

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

$('#tr-direction').addEventListener('change', () => run('translate'));
$('#tr-file').addEventListener('change', () => run('translate'));
