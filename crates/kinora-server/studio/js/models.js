// The catalogue from GET /v1/models: selects offer only what the chosen model renders.

import { api } from './api.js';
import { h } from './dom.js';

let cached = null;

export async function models() {
  if (!cached) cached = (await api('/models')).data;
  return cached;
}

function fill(select, values, keep) {
  const had = keep ?? select.value;
  select.replaceChildren(...values.map((v) => h('option', { value: v }, v)));
  if (values.includes(had)) select.value = had;
}

// Wires Model → Size and Seconds, so a size a model lacks cannot be chosen.
export async function wire(modelSel, sizeSel, secondsSel, defaults = {}) {
  const list = await models();
  fill(modelSel, list.map((m) => m.id), defaults.model);
  const sync = () => {
    const m = list.find((x) => x.id === modelSel.value) || list[0];
    fill(sizeSel, m.sizes, defaults.size);
    fill(secondsSel, m.seconds, defaults.seconds);
    defaults = {};
  };
  modelSel.addEventListener('change', sync);
  sync();
}
