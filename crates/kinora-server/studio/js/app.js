// The studio's shell: sign-in when the server wants a key, then a page per hash route.

import { api, auth, ApiError } from './api.js';
import { h, clear, field, showError } from './dom.js';
import * as videos from './videos.js';
import * as video from './video.js';
import * as characters from './characters.js';
import * as batches from './batches.js';
import * as webhooks from './webhooks.js';
import * as operations from './operations.js';

const main = document.getElementById('main');
const signOut = document.getElementById('sign-out');
let leave = null;

const routes = [
  [/^#?\/?$/, videos],
  [/^#\/videos\/(video_[\w-]+)$/, video],
  [/^#\/characters$/, characters],
  [/^#\/batches$/, batches],
  [/^#\/webhooks$/, webhooks],
  [/^#\/operations$/, operations],
];

async function signedIn() {
  try {
    await api('/models');
    return true;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return false;
    throw e;
  }
}

function signIn(message) {
  const key = h('input', { type: 'password', autocomplete: 'off', required: true });
  const form = h('form', { class: 'card narrow', onsubmit: async (ev) => {
    ev.preventDefault();
    auth.set(key.value.trim());
    if (await signedIn()) {
      show();
    } else {
      auth.clear();
      showError(form, { param: 'api_key', message: 'That key was not accepted.' });
    }
  } },
  h('h1', {}, 'Sign in'),
  h('p', { class: 'muted' }, message),
  field('API key', key, 'api_key'),
  h('p', { class: 'form-error', role: 'alert' }),
  h('button', { type: 'submit' }, 'Sign in'));
  clear(main).append(form);
  key.focus();
}

async function show() {
  if (leave) { leave(); leave = null; }
  let ok;
  try {
    ok = await signedIn();
  } catch (e) {
    clear(main).append(h('p', { class: 'card error' }, `The server is unreachable: ${e.message}`));
    return;
  }
  if (!ok) {
    signOut.hidden = true;
    signIn('This server needs an API key. It is kept in this tab only (session storage).');
    return;
  }
  signOut.hidden = !auth.key;
  const hash = location.hash || '#/';
  for (const a of document.querySelectorAll('nav a')) {
    a.toggleAttribute('aria-current', a.getAttribute('href') === hash);
  }
  for (const [re, page] of routes) {
    const m = hash.match(re);
    if (m) {
      clear(main);
      leave = (await page.render(main, ...m.slice(1))) || null;
      return;
    }
  }
  clear(main).append(h('p', { class: 'card' }, 'No such page. ', h('a', { href: '#/' }, 'Back to the videos')));
}

signOut.addEventListener('click', () => { auth.clear(); show(); });
window.addEventListener('hashchange', show);
show();
