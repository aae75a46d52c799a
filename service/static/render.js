// Answers shown as the API sent them: its PNGs untouched, in figures, strips, grids and an animation.

import {el} from './dom.js';
import {app, info} from './state.js';

const FRAME_MS = 120;

export function picture(b64, alt, scale = 2, size = info().image) {
  const {width, height} = size;
  return el('img', {src: `data:image/png;base64,${b64}`, alt, width: width * scale, height: height * scale});
}

export function figure(b64, caption, alt, scale, size) {
  return el('figure', {}, picture(b64, alt || caption, scale, size), el('figcaption', {textContent: caption}));
}

export const labelText = (im) => (im.class_name !== null && im.class_name !== undefined ? ` (${im.class_name})` : '');

export function strip(images, alts, className = 'strip') {
  return el('div', {className}, ...images.map((im, i) => picture(im.png, alts[i])));
}

export function animation(images, alts) {
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
