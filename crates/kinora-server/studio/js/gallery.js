// The gallery: one card per video, kept current by the events stream, with thumbnails that
// scrub through the spritesheet under the pointer.

import { api, blobUrl, watch } from './api.js';
import { h, clear } from './dom.js';

const TILES = 5; // the spritesheet is 5 × 5 tiles, tile i at time i/25 of the clip

export function statusText(v) {
  if (v.status === 'queued') return v.queue_position ? `queued · #${v.queue_position} in line` : 'queued';
  if (v.status === 'in_progress') return `rendering · ${v.progress}%`;
  if (v.status === 'failed') return `failed · ${v.error ? v.error.code : ''}`;
  return v.status;
}

export class Gallery {
  constructor() {
    this.el = h('ul', { class: 'gallery', 'aria-live': 'polite' });
    this.cards = new Map();
    this.stops = [];
    this.urls = [];
  }

  async load() {
    const page = await api('/videos?limit=100');
    clear(this.el);
    if (!page.data.length) this.el.append(h('li', { class: 'muted empty' }, 'No videos yet.'));
    for (const v of page.data) this.append(v);
    // Videos made elsewhere (the SDK, another tab) appear without a reload.
    this.timer = setInterval(() => this.refresh(), 10000);
  }

  async refresh() {
    const page = await api('/videos?limit=20').catch(() => null);
    for (const v of (page ? page.data : []).reverse()) if (!this.cards.has(v.id)) this.add(v);
  }

  add(v) {
    this.el.querySelector('.empty')?.remove();
    this.el.prepend(this.card(v));
  }

  append(v) {
    this.el.append(this.card(v));
  }

  card(v) {
    const thumb = h('div', { class: 'thumb', role: 'img', 'aria-label': 'preview' });
    const status = h('span', { class: 'status' });
    const bar = h('progress', { max: 100, value: v.progress });
    const el = h('li', { class: 'video-card', dataset: { videoId: v.id, status: v.status } },
      h('a', { href: `#/videos/${v.id}`, class: 'card-link' },
        thumb,
        h('p', { class: 'prompt' }, v.prompt || '(no prompt)'),
        h('p', { class: 'meta' }, `${v.model} · ${v.size} · ${v.seconds}s`),
        h('p', { class: 'meta' }, status), bar));
    const update = (x) => {
      el.dataset.status = x.status;
      status.textContent = statusText(x);
      bar.value = x.progress;
      bar.hidden = x.status !== 'queued' && x.status !== 'in_progress';
      if (x.status === 'completed') this.preview(thumb, x.id);
    };
    update(v);
    this.cards.set(v.id, el);
    if (v.status === 'queued' || v.status === 'in_progress') {
      this.stops.push(watch(v.id, (_, x) => update(x)));
    }
    return el;
  }

  async preview(thumb, id) {
    if (thumb.dataset.loaded) return;
    thumb.dataset.loaded = '1';
    let still;
    try {
      still = await blobUrl(`/videos/${id}/content?variant=thumbnail`);
    } catch { return; }
    this.urls.push(still);
    thumb.style.backgroundImage = `url(${still})`;
    let sheet = null;
    thumb.addEventListener('pointerenter', async () => {
      sheet = sheet || blobUrl(`/videos/${id}/content?variant=spritesheet`).then((u) => {
        this.urls.push(u);
        return u;
      });
      const url = await sheet.catch(() => null);
      if (!url) return;
      thumb.classList.add('scrub');
      thumb.style.backgroundImage = `url(${url})`;
    });
    thumb.addEventListener('pointermove', (ev) => {
      if (!thumb.classList.contains('scrub')) return;
      const r = thumb.getBoundingClientRect();
      const x = Math.max(0, Math.min(0.999, (ev.clientX - r.left) / r.width));
      const i = Math.floor(x * TILES * TILES);
      const step = 100 / (TILES - 1);
      thumb.style.backgroundPosition = `${(i % TILES) * step}% ${Math.floor(i / TILES) * step}%`;
    });
    thumb.addEventListener('pointerleave', () => {
      thumb.classList.remove('scrub');
      thumb.style.backgroundPosition = '';
      thumb.style.backgroundImage = `url(${still})`;
    });
  }

  close() {
    for (const stop of this.stops) stop();
    clearInterval(this.timer);
    for (const u of this.urls) URL.revokeObjectURL(u);
  }
}

