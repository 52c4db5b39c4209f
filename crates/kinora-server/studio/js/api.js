// The public API, as a browser sees it: the key from session storage, JSON errors as ApiError.

const KEY = 'kinora.apiKey';

export const auth = {
  get key() { return sessionStorage.getItem(KEY) || ''; },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `The server answered ${status}.`);
    this.status = status;
    this.param = e.param || null;
    this.code = e.code || null;
  }
}

function headers(extra = {}) {
  const h = { ...extra };
  if (auth.key) h.Authorization = `Bearer ${auth.key}`;
  return h;
}

async function fail(r) {
  const text = await r.text();
  let body = null;
  try { body = JSON.parse(text); } catch { body = { error: { message: text || r.statusText } }; }
  return new ApiError(r.status, body);
}

export async function api(path, { method = 'GET', json, form } = {}) {
  const init = { method, headers: headers() };
  if (json !== undefined) {
    init.body = JSON.stringify(json);
    init.headers['Content-Type'] = 'application/json';
  } else if (form) {
    init.body = form;
  }
  const r = await fetch(`/v1${path}`, init);
  if (!r.ok) throw await fail(r);
  return r.status === 204 ? null : r.json();
}

// Media needs the key, which <img>/<video> cannot send: fetch it and hand back an object URL.
export async function blobUrl(path) {
  const r = await fetch(`/v1${path}`, { headers: headers() });
  if (!r.ok) throw await fail(r);
  return URL.createObjectURL(await r.blob());
}

export async function download(path, filename) {
  const url = await blobUrl(path);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

// Follows GET /v1/videos/{id}/events (EventSource cannot send a key, so fetch reads the
// stream); reconnects with Last-Event-ID until the final event. Returns a stop function.
export function watch(id, onEvent) {
  const stop = new AbortController();
  let last = null;
  (async () => {
    while (!stop.signal.aborted) {
      let final = false;
      try {
        const h = headers({ Accept: 'text/event-stream' });
        if (last) h['Last-Event-ID'] = last;
        const r = await fetch(`/v1/videos/${id}/events`, { headers: h, signal: stop.signal });
        if (r.status === 404) return;
        if (!r.ok) throw await fail(r);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let cut;
          while ((cut = buf.indexOf('\n\n')) >= 0) {
            const ev = parseEvent(buf.slice(0, cut));
            buf = buf.slice(cut + 2);
            if (!ev) continue;
            last = ev.id || last;
            final = ev.name !== 'video.progress';
            onEvent(ev.name, ev.data);
          }
        }
      } catch (e) {
        if (stop.signal.aborted) return;
      }
      if (final) return;
      await new Promise((ok) => setTimeout(ok, 1000));
    }
  })();
  return () => stop.abort();
}

function parseEvent(block) {
  let id = null, name = 'message', data = '';
  for (const line of block.split('\n')) {
    if (line.startsWith('id:')) id = line.slice(3).trim();
    else if (line.startsWith('event:')) name = line.slice(6).trim();
    else if (line.startsWith('data:')) data += line.slice(5).trimStart();
  }
  if (!data) return null;
  return { id, name, data: JSON.parse(data) };
}
