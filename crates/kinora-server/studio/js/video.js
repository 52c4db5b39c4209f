// A video's page: the clip, what was asked and what it cost, and what to do with it next.

import { api, blobUrl, download, watch } from './api.js';
import { h, clear, field, showError, when, dollars } from './dom.js';
import { statusText } from './gallery.js';

function facts(v) {
  const rows = [
    ['Status', statusText(v)],
    ['Prompt', v.prompt || '—'],
    ['Model', v.model],
    ['Size', v.size],
    ['Seconds', v.seconds],
    ['Cost', v.usage ? dollars(v.usage.cost_usd) : '—'],
    ['Kind', v.kind],
    ['Seed', v.seed],
    ['Created', when(v.created_at)],
    ['Expires', when(v.expires_at)],
  ];
  if (v.error) rows.push(['Error', `${v.error.code}: ${v.error.message}`]);
  return h('dl', { class: 'facts' }, rows.map(([k, x]) => [h('dt', {}, k), h('dd', {}, String(x))]));
}

// What the built-in engine understood and ignored, when the server reports it.
function understood(v) {
  const i = v.interpretation;
  if (!i || typeof i !== 'object') return null;
  const item = (y) => {
    if (typeof y === 'string') return y;
    if (y && y.word !== undefined) return `${y.word} → ${y.as}`;
    if (y && y.what !== undefined) return `${y.what}: ${y.chose}${y.why ? ` (${y.why})` : ''}`;
    return JSON.stringify(y);
  };
  const list = (x) => (Array.isArray(x) ? (x.length ? x.map(item).join(', ') : '—') : String(x));
  return h('section', { class: 'card' }, h('h2', {}, 'What the engine understood'),
    h('dl', { class: 'facts' }, Object.entries(i).map(([k, x]) =>
      [h('dt', {}, k.replaceAll('_', ' ')), h('dd', {}, list(x))])));
}

// A small prompt form for Extend, Edit and Remix; each makes a new video and opens it.
function followUp(v, kind, panel) {
  const prompt = h('textarea', { rows: 2 });
  const extra = [];
  let seconds = null;
  if (kind === 'Extend') {
    seconds = h('select', {}, ['4', '8', '12'].map((s) => h('option', { value: s }, s)));
    extra.push(field('Seconds', seconds, 'seconds'));
  }
  const form = h('form', { class: 'follow-up', novalidate: true },
    h('h3', {}, kind), field('Prompt', prompt, 'prompt'), extra,
    h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit' }, `${kind} this video`));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const calls = {
      Extend: ['/videos/extensions', { video: { id: v.id }, prompt: prompt.value, seconds: seconds && seconds.value }],
      Edit: ['/videos/edits', { video: { id: v.id }, prompt: prompt.value }],
      Remix: [`/videos/${v.id}/remix`, { prompt: prompt.value }],
    };
    const [path, json] = calls[kind];
    try {
      const made = await api(path, { method: 'POST', json });
      location.hash = `#/videos/${made.id}`;
    } catch (e) {
      showError(form, e);
    }
  });
  clear(panel).append(form);
  prompt.focus();
}

export async function render(main, id) {
  let v = await api(`/videos/${id}`);
  const player = h('div', { class: 'player' });
  const info = h('div', {});
  const panel = h('div', { class: 'panel' });
  const urls = [];
  const buttons = h('div', { class: 'actions' },
    ['Extend', 'Edit', 'Remix'].map((k) => h('button', { type: 'button', onclick: () => followUp(v, k, panel) }, k)),
    h('button', { type: 'button', onclick: () => download(`/videos/${v.id}/content`, `${v.id}.mp4`) }, 'Download'),
    h('button', { type: 'button', class: 'danger', onclick: async () => {
      if (!confirm('Delete this video and its media?')) return;
      await api(`/videos/${v.id}`, { method: 'DELETE' });
      location.hash = '#/';
    } }, 'Delete'));
  const paint = async () => {
    clear(info).append(facts(v), understood(v) || '');
    const done = v.status === 'completed';
    for (const b of buttons.querySelectorAll('button:not(.danger)')) b.disabled = !done;
    if (done && !player.querySelector('video')) {
      const url = await blobUrl(`/videos/${v.id}/content`);
      urls.push(url);
      clear(player).append(h('video', { src: url, controls: true, playsinline: true, preload: 'auto', 'aria-label': v.prompt || v.id }));
    } else if (!done) {
      clear(player).append(h('div', { class: 'waiting' }, h('p', {}, statusText(v)), h('progress', { max: 100, value: v.progress })));
    }
  };
  main.append(h('article', { class: 'video-page', dataset: { videoId: v.id } },
    h('p', {}, h('a', { href: '#/' }, '← All videos')),
    h('div', { class: 'split' }, h('div', {}, player, buttons, panel), h('section', { class: 'card' }, info))));
  await paint();
  const stop = (v.status === 'queued' || v.status === 'in_progress')
    ? watch(v.id, (_, x) => { v = x; paint(); })
    : () => {};
  return () => { stop(); urls.forEach((u) => URL.revokeObjectURL(u)); };
}
