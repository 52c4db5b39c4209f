// Operations: the queue by status (from /metrics), this project's running jobs, the workers
// serving the queue, the models.

import { api } from './api.js';
import { h } from './dom.js';
import { statusText } from './gallery.js';

async function queueByStatus() {
  const r = await fetch('/metrics');
  if (!r.ok) return null;
  const out = {};
  for (const line of (await r.text()).split('\n')) {
    const m = line.match(/^kinora_videos\{status="(\w+)"\} (\d+(?:\.\d+)?)/);
    if (m) out[m[1]] = Number(m[2]);
  }
  return out;
}

export async function render(main) {
  const [queue, page, models, workers] = await Promise.all([
    queueByStatus().catch(() => null),
    api('/videos?limit=100'),
    api('/models'),
    api('/workers'),
  ]);
  const running = page.data.filter((v) => v.status === 'in_progress' || v.status === 'queued');
  main.append(h('div', { class: 'ops' },
    h('section', { class: 'card' }, h('h1', {}, 'Queue'),
      queue
        ? h('dl', { class: 'facts', id: 'queue-depth' }, Object.entries(queue).map(([k, n]) => [h('dt', {}, k), h('dd', {}, n)]))
        : h('p', { class: 'muted' }, '/metrics is not reachable from here.')),
    h('section', { class: 'card' }, h('h2', {}, 'Unfinished jobs of this project'),
      running.length
        ? h('ul', { class: 'rows' }, running.map((v) => h('li', {}, h('a', { href: `#/videos/${v.id}` }, v.id), ` ${statusText(v)} · ${v.model}`)))
        : h('p', { class: 'muted' }, 'Nothing queued or rendering.')),
    h('section', { class: 'card wide' }, h('h2', {}, 'Models served'),
      h('table', {}, h('thead', {}, h('tr', {}, ['Model', 'Engine', 'Sizes', 'Seconds'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, models.data.map((m) => h('tr', {},
          h('td', {}, m.id), h('td', {}, m.engine), h('td', {}, m.sizes.join(', ')), h('td', {}, m.seconds.join(', '))))))),
    workersCard(workers)));
}

function ago(unix) {
  const s = Math.max(0, Math.round(Date.now() / 1000 - unix));
  return s < 90 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

function workersCard(workers) {
  const local = workers.in_process_workers;
  return h('section', { class: 'card wide' }, h('h2', {}, 'Workers'),
    h('p', { class: 'muted small' }, `This node renders with ${local} built-in engine worker${local === 1 ? '' : 's'}.`),
    workers.data.length
      ? h('table', { id: 'workers' }, h('thead', {}, h('tr', {}, ['Worker', 'Pool', 'Models', 'Status', 'Last seen'].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, workers.data.map((w) => h('tr', { 'data-worker-id': w.id, 'data-status': w.status },
          h('td', {}, h('span', { title: `${w.id}${w.version ? ` · ${w.version}` : ''}` }, w.name)),
          h('td', {}, w.pool), h('td', {}, w.models.join(', ')),
          h('td', {}, w.running_jobs ? `busy (${w.running_jobs})` : 'idle'),
          h('td', {}, ago(w.last_seen_at))))))
      : h('p', { class: 'muted' }, 'No remote worker is registered (start one with kinora worker or the GPU worker).'));
}
