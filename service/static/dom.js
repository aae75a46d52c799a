// Helpers every module of the playground uses: DOM lookups and elements, random seeds, whole numbers.

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export const randomSeed = () => crypto.getRandomValues(new Uint32Array(1))[0];
export const intOr = (text, fallback) => (/^\d+$/.test(String(text).trim()) ? Number(text) : fallback);
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}
