// The views' forms: their fields as URL parameters and back, and the label selects of conditional models.

import {$, el} from './dom.js';
import {info, isConditional} from './state.js';

export function fillLabelSelect(select) {
  const keep = select.value;
  const names = info()?.class_names || [];
  select.replaceChildren(el('option', {value: '', textContent: `(${select.dataset.labels})`}),
    ...names.map((name, i) => el('option', {value: String(i), textContent: name})));
  select.value = keep !== '' && Number(keep) < names.length ? keep : '';
}

export const labelField = (params, key, bodyKey = key) => {
  const v = params.get(key);
  return isConditional() && v !== null && v !== '' ? {[bodyKey]: Number(v)} : {};
};

export function formParams(view, names) {
  const form = $(`#view-${view} form`);
  return new URLSearchParams(names.map((n) => [n, form.elements[n].value]));
}

export function writeForm(view, params, defaults) {
  const form = $(`#view-${view} form`);
  for (const [name, fallback] of Object.entries(defaults)) {
    const value = params.get(name) ?? fallback();
    const field = form.elements[name];
    field.value = value;
    if (field.tagName === 'SELECT' && field.selectedIndex < 0) field.value = '';
  }
}
