// The create form: prompt, model, size, seconds, a reference image and characters.

import { api } from './api.js';
import { h, field, showError } from './dom.js';
import { wire } from './models.js';

async function characterPicker() {
  const list = (await api('/videos/characters?limit=100')).data || [];
  const box = h('fieldset', { class: 'field characters', id: 'f-characters' },
    h('legend', {}, 'Characters'),
    list.length
      ? list.map((c) => h('label', { class: 'check' },
          h('input', { type: 'checkbox', name: 'character', value: c.id }), ` ${c.name}`))
      : h('p', { class: 'muted small' }, 'None yet — make one on the ',
          h('a', { href: '#/characters' }, 'Characters'), ' page. Use its name in the prompt.'),
    h('p', { class: 'field-error', 'data-param': 'characters', role: 'alert' }));
  return box;
}

export async function createForm(onCreated) {
  const prompt = h('textarea', { rows: 4, placeholder: 'a red fox runs across a snowy meadow at dusk' });
  const model = h('select', {});
  const size = h('select', {});
  const seconds = h('select', {});
  const image = h('input', { type: 'file', accept: 'image/png,image/jpeg,image/webp' });
  const button = h('button', { type: 'submit' }, 'Generate');
  const form = h('form', { class: 'create-form', novalidate: true },
    field('Prompt', prompt, 'prompt'),
    h('div', { class: 'row' },
      field('Model', model, 'model'),
      field('Size', size, 'size'),
      field('Seconds', seconds, 'seconds')),
    field('Reference image', image, 'input_reference'),
    await characterPicker(),
    h('p', { class: 'form-error', role: 'alert' }),
    button);
  await wire(model, size, seconds, { size: '1280x720', seconds: '4' });
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = [...form.querySelectorAll('input[name=character]:checked')].map((c) => c.value);
    const body = new FormData();
    body.set('prompt', prompt.value);
    body.set('model', model.value);
    body.set('size', size.value);
    body.set('seconds', seconds.value);
    if (image.files[0]) body.set('input_reference', image.files[0]);
    for (const id of chosen) body.append('characters[][id]', id);
    button.disabled = true;
    try {
      const video = await api('/videos', { method: 'POST', form: body });
      showError(form, { message: '' });
      onCreated(video);
    } catch (e) {
      showError(form, e);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
