// What the page holds: the served models, the chosen one, what each view last ran, and the views by name.

export const app = {models: new Map(), defaultModel: null, model: null, view: 'generate', ran: {}, aborts: {}, requests: {}};

export const info = () => app.models.get(app.model);
export const kindOf = (m) => m?.kind || 'generator';
export const KIND_VIEW = {translator: 'translate', text2image: 'text2image'};
export const isConditional = () => Boolean(info()?.conditional);
export const codes = () => info()?.codes || null;

// Each view: read() → URLSearchParams of its state, write(params) restores it, requests(params) →
// [[path, body], ...] and render(responses) fills the output.
export const VIEWS = {};
