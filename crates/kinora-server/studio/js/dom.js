// Tiny DOM helpers: elements from data, never from HTML strings (prompts are user text).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// A labelled control with a slot for the API's error about it (`param`).
export function field(label, control, param) {
  const id = control.id || `f-${param}`;
  control.id = id;
  control.name = control.name || param;
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    control,
    h('p', { class: 'field-error', 'data-param': param, role: 'alert', id: `${id}-error` }));
}

// Shows an API error next to the field its `param` names, or in the form's general slot.
export function showError(form, err) {
  for (const p of form.querySelectorAll('.field-error, .form-error')) p.textContent = '';
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  const param = err && err.param ? String(err.param).replace(/\[.*$/, '') : null;
  const slot = param && form.querySelector(`.field-error[data-param="${CSS.escape(param)}"]`);
  const target = slot || form.querySelector('.form-error');
  if (target) target.textContent = typeof err?.message === 'string' ? err.message : String(err);
  if (slot) {
    const control = form.querySelector(`[name="${CSS.escape(param)}"]`);
    if (control) {
      control.setAttribute('aria-invalid', 'true');
      control.focus();
    }
  }
}

export function when(unix) {
  return unix ? new Date(unix * 1000).toLocaleString() : '—';
}

export function dollars(x) {
  return typeof x === 'number' ? `$${x.toFixed(2)}` : '—';
}
