// Characters: made from an uploaded 2-4 s clip, listed, used by name in prompts, deleted.

import { api } from './api.js';
import { h, clear, field, showError, when } from './dom.js';

export async function render(main) {
  const name = h('input', { type: 'text', autocomplete: 'off', placeholder: 'Mossy' });
  const clip = h('input', { type: 'file', accept: 'video/mp4,video/quicktime,video/webm' });
  const list = h('ul', { class: 'rows', id: 'character-list' });
  const form = h('form', { class: 'card', novalidate: true },
    h('h1', {}, 'Characters'),
    h('p', { class: 'muted' }, 'Upload a 2–4 s clip of someone or something; mention its name in a prompt to cast it.'),
    field('Name', name, 'name'),
    field('Clip', clip, 'video'),
    h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit' }, 'Create character'));
  const refresh = async () => {
    const page = await api('/videos/characters?limit=100');
    clear(list);
    if (!page.data.length) list.append(h('li', { class: 'muted' }, 'No characters yet.'));
    for (const c of page.data) {
      list.append(h('li', { dataset: { characterId: c.id } },
        h('strong', {}, c.name), h('span', { class: 'muted' }, ` ${c.id} · ${when(c.created_at)}`),
        h('button', { type: 'button', class: 'danger small', 'aria-label': `Delete ${c.name}`, onclick: async () => {
          await api(`/videos/characters/${c.id}`, { method: 'DELETE' });
          refresh();
        } }, 'Delete')));
    }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = new FormData();
    body.set('name', name.value);
    if (clip.files[0]) body.set('video', clip.files[0]);
    try {
      await api('/videos/characters', { method: 'POST', form: body });
      form.reset();
      showError(form, { message: '' });
      refresh();
    } catch (e) {
      showError(form, e);
    }
  });
  main.append(h('div', { class: 'split' }, form, h('section', { class: 'card' }, h('h2', {}, 'Your characters'), list)));
  await refresh();
}
