// The Text → image view: a caption's images and their Stage-I images, and the words the model read.

import {el, intOr, randomSeed} from './dom.js';
import {ApiError} from './api.js';
import {app, info, kindOf, VIEWS} from './state.js';
import {formParams} from './forms.js';
import {picture, strip} from './render.js';

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
