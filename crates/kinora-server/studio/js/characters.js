// Characters: made from an uploaded 2-4 s clip, listed, used by name in prompts, deleted.

import { api, blobUrl } from './api.js';
import { h, clear, field, showError, when } from './dom.js';

// The cutout PNG is the whole source frame, transparent outside the subject: show the
// subject's box (bbox), scaled to fit the thumbnail, so a small subject is still visible.
function drawCutout(canvas, url, bbox) {
  const img = new Image();
  img.onload = () => {
    const [x, y, w, hgt] = bbox && bbox.length === 4 ? bbox : [0, 0, img.naturalWidth, img.naturalHeight];
    const pad = 0.08 * Math.max(w, hgt);
    const sx = Math.max(0, x - pad), sy = Math.max(0, y - pad);
    const sw = Math.min(img.naturalWidth - sx, w + 2 * pad), sh = Math.min(img.naturalHeight - sy, hgt + 2 * pad);
    const scale = Math.min(canvas.width / sw, canvas.height / sh);
    const dw = sw * scale, dh = sh * scale;
    canvas.getContext('2d').drawImage(img, sx, sy, sw, sh, (canvas.width - dw) / 2, (canvas.height - dh) / 2, dw, dh);
    canvas.dataset.drawn = 'true';
  };
  img.src = url;
}

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
      // The cutout is what will be cast: the user judges it here, before using the name.
      const cutout = h('canvas', { class: 'cutout', role: 'img', 'aria-label': `Cutout of ${c.name}`, width: 96, height: 72 });
      blobUrl(`/videos/characters/${c.id}/content`).then((u) => drawCutout(cutout, u, c.bbox), () => cutout.remove());
      const found = c.confidence == null ? '' : ` · subject found with ${Math.round(c.confidence * 100)} % confidence`;
      list.append(h('li', { dataset: { characterId: c.id } }, cutout,
        h('strong', {}, c.name), h('span', { class: 'muted' }, ` ${c.id} · ${when(c.created_at)}${found}`),
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
