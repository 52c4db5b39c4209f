// The home page: the create form beside the project's gallery.

import { h } from './dom.js';
import { createForm } from './create.js';
import { Gallery } from './gallery.js';

export async function render(main) {
  const gallery = new Gallery();
  const form = await createForm((video) => gallery.add(video));
  main.append(h('div', { class: 'home' },
    h('section', { class: 'card create', 'aria-labelledby': 'create-title' },
      h('h1', { id: 'create-title' }, 'New video'), form),
    h('section', { class: 'gallery-wrap', 'aria-labelledby': 'gallery-title' },
      h('h2', { id: 'gallery-title' }, 'Videos'), gallery.el)));
  await gallery.load();
  return () => gallery.close();
}
