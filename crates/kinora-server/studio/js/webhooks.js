// Webhooks: endpoints, the signing secret shown once, the delivery log, a test send.

import { api } from './api.js';
import { h, clear, field, showError, when } from './dom.js';

async function deliveries(e, box) {
  const page = await api(`/webhook_endpoints/${e.id}/deliveries?limit=20`);
  clear(box).append(page.data.length
    ? h('ul', { class: 'rows small' }, page.data.map((d) => h('li', {},
        `${d.event_type} · ${d.status} · ${d.attempts} attempt(s)${d.last_status_code ? ` · HTTP ${d.last_status_code}` : ''}${d.last_error ? ` · ${d.last_error}` : ''} · ${when(d.created_at)}`)))
    : h('p', { class: 'muted small' }, 'No deliveries yet.'));
}

export async function render(main) {
  const name = h('input', { type: 'text', placeholder: 'my app' });
  const url = h('input', { type: 'url', placeholder: 'https://example.com/hooks/kinora' });
  const secret = h('p', { class: 'secret', role: 'status' });
  const list = h('ul', { class: 'rows', id: 'webhook-list' });
  const types = (await api('/webhook_event_types')).data || [];
  const form = h('form', { class: 'card', novalidate: true },
    h('h1', {}, 'Webhooks'),
    field('Name', name, 'name'),
    field('URL', url, 'url'),
    h('fieldset', { class: 'field characters' }, h('legend', {}, 'Events'),
      types.map((t) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'event_types', value: String(t), checked: true }), ` ${t}`)),
      h('p', { class: 'field-error', 'data-param': 'event_types', role: 'alert' })),
    h('p', { class: 'form-error', role: 'alert' }),
    h('button', { type: 'submit' }, 'Add endpoint'), secret);
  const refresh = async () => {
    const page = await api('/webhook_endpoints?limit=100');
    clear(list);
    if (!page.data.length) list.append(h('li', { class: 'muted' }, 'No endpoints yet.'));
    for (const e of page.data) {
      const log = h('div', {});
      list.append(h('li', { dataset: { webhookId: e.id } },
        h('strong', {}, e.name || e.url), h('span', { class: 'muted small' }, ` ${e.url}`),
        h('span', { class: 'actions' },
          h('button', { type: 'button', class: 'small', onclick: async () => {
            await api(`/webhook_endpoints/${e.id}/test`, { method: 'POST' }).catch((x) => alert(x.message));
            deliveries(e, log);
          } }, 'Send test'),
          h('button', { type: 'button', class: 'small', onclick: () => deliveries(e, log) }, 'Delivery log'),
          h('button', { type: 'button', class: 'small danger', onclick: async () => {
            await api(`/webhook_endpoints/${e.id}`, { method: 'DELETE' });
            refresh();
          } }, 'Delete')),
        log));
    }
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const made = await api('/webhook_endpoints', { method: 'POST', json: {
        name: name.value, url: url.value,
        event_types: [...form.querySelectorAll('input[name=event_types]:checked')].map((c) => c.value),
      } });
      form.reset();
      showError(form, { message: '' });
      secret.textContent = `Signing secret (shown once, copy it now): ${made.signing_secret}`;
      refresh();
    } catch (e) {
      showError(form, e);
    }
  });
  main.append(h('div', { class: 'split' }, form, h('section', { class: 'card' }, h('h2', {}, 'Endpoints'), list)));
  await refresh();
}
