// Batches: upload a JSONL of POST /v1/videos requests, watch the counts, fetch the results.

import { api, download } from './api.js';
import { h, clear, field, showError, when } from './dom.js';

const ACTIVE = ['validating', 'in_progress', 'finalizing', 'cancelling'];

function counts(b) {
  const c = b.request_counts || {};
  return `${c.completed ?? 0} done · ${c.failed ?? 0} failed · ${c.total ?? 0} total`;
}

function row(b, refresh) {
  const files = [];
  if (b.output_file_id) files.push(h('button', { type: 'button', class: 'small', onclick: () => download(`/files/${b.output_file_id}/content`, `${b.id}-output.jsonl`) }, 'Output file'));
  if (b.error_file_id) files.push(h('button', { type: 'button', class: 'small', onclick: () => download(`/files/${b.error_file_id}/content`, `${b.id}-errors.jsonl`) }, 'Error file'));
  if (ACTIVE.includes(b.status) && b.status !== 'cancelling') {
    files.push(h('button', { type: 'button', class: 'small danger', onclick: async () => {
      await api(`/batches/${b.id}/cancel`, { method: 'POST' });
      refresh();
    } }, 'Cancel'));
  }
  return h('li', { dataset: { batchId: b.id, status: b.status } },
    h('strong', {}, b.status), h('span', { class: 'counts' }, ` ${counts(b)}`),
    h('span', { class: 'muted small' }, ` ${b.id} · ${when(b.created_at)}`),
    b.errors && b.errors.data && b.errors.data.length
      ? h('p', { class: 'error small' }, b.errors.data.map((e) => `line ${e.line ?? '?'}: ${e.message}`).join('; '))
      : null,
    h('span', { class: 'actions' }, files));
}

export async function render(main) {
  const file = h('input', { type: 'file', accept: '.jsonl,application/jsonl,text/plain' });
  const list = h('ul', { class: 'rows', id: 'batch-list' });
  const form = h('form', { class: 'card', novalidate: true },
    h('h1', {}, 'Batches'),
    h('p', { class: 'muted' }, 'A JSONL file, one request a line: ',
      h('code', {}, '{"custom_id": "a", "method": "POST", "url": "/v1/videos", "body": {"prompt": "…"}}'),
      '. Batch jobs run behind interactive ones, at half price.'),
    field('Batch file (JSONL)', file, 'file'),
    h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit' }, 'Start batch'));
  let timer = null;
  const refresh = async () => {
    const page = await api('/batches?limit=50');
    clear(list);
    if (!page.data.length) list.append(h('li', { class: 'muted' }, 'No batches yet.'));
    for (const b of page.data) list.append(row(b, refresh));
    clearTimeout(timer);
    if (page.data.some((b) => ACTIVE.includes(b.status))) timer = setTimeout(refresh, 1500);
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = new FormData();
    body.set('purpose', 'batch');
    if (file.files[0]) body.set('file', file.files[0]);
    try {
      const uploaded = await api('/files', { method: 'POST', form: body });
      await api('/batches', { method: 'POST', json: { input_file_id: uploaded.id, endpoint: '/v1/videos', completion_window: '24h' } });
      form.reset();
      showError(form, { message: '' });
      refresh();
    } catch (e) {
      showError(form, e);
    }
  });
  main.append(h('div', { class: 'split' }, form, h('section', { class: 'card' }, h('h2', {}, 'Your batches'), list)));
  await refresh();
  return () => clearTimeout(timer);
}
