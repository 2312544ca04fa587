// The API from a page: JSON requests with problem+json errors, and one live connection to
// /v1/events/ws that resubscribes from the last seq it saw after a drop, so a page misses nothing.

/** An answer that was not 2xx: the problem+json body, when there is one. */
export class Problem extends Error {
  constructor(status, body) {
    // A refused field is named, so the person at the form knows what to change.
    const fields = Array.isArray(body?.errors) ? body.errors.map((error) => `${error.field}: ${error.detail}`).join('; ') : '';
    super([body?.detail || body?.title || `HTTP ${status}`, fields].filter(Boolean).join(' '));
    this.status = status;
    this.body = body || {};
    this.code = this.body.code;
  }
}

/** Staff pages send the session's CSRF token with every write; the cookie itself is HttpOnly. */
let csrfToken = null;
export function setCSRFToken(token) { csrfToken = token; }

/** A signed-in shopper's `cst_…` token (the storefront's own credential), sent as a Bearer header. */
let bearerToken = null;
export function setBearerToken(token) { bearerToken = token; }

export async function api(method, path, body, headers = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (csrfToken && method !== 'GET') init.headers['X-CSRF-Token'] = csrfToken;
  if (bearerToken) init.headers.Authorization = `Bearer ${bearerToken}`;
  const response = await fetch(path, init);
  const text = await response.text();
  const parsed = text ? JSON.parse(text) : null;
  if (!response.ok) throw new Problem(response.status, parsed);
  return parsed;
}

/** A random key for `Idempotency-Key`: a retried payment is the same payment. */
export function idempotencyKey() {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Minor units as the shop's money: `{amount: 1250, currency: "GBP"}` → "£12.50". */
export function money(value) {
  if (!value) return '';
  const digits = { JPY: 0, KRW: 0 }[value.currency] ?? 2;
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: value.currency })
    .format(value.amount / 10 ** digits);
}

// As the server's Event.family: a family topic covers its members' specific topics.
const FAMILIES = { stock: 'stock', product: 'products', draft: 'drafts', cart: 'carts', order: 'orders', conversation: 'conversations' };

/**
 * The live connection: `subscribe(topics, handler)` delivers each event of those topics; `send(op)`
 * sends an op (hello, track); `on(op, handler)` hears ops such as welcome, message, offer.
 */
export class Live {
  constructor() {
    this.handlers = new Map();
    this.opHandlers = new Map();
    this.seq = null;
    this.queue = [];
    this.retry = 500;
    this.onOpen = null;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.socket = new WebSocket(`${scheme}//${location.host}/v1/events/ws`);
    this.socket.addEventListener('open', () => {
      this.retry = 500;
      const topics = [...this.handlers.keys()];
      if (topics.length) this.raw({ op: 'subscribe', topics, ...(this.seq !== null ? { since: this.seq } : {}) });
      if (this.onOpen) this.onOpen();
      for (const op of this.queue.splice(0)) this.raw(op);
    });
    this.socket.addEventListener('message', (message) => this.receive(JSON.parse(message.data)));
    this.socket.addEventListener('close', () => {
      if (this.closed) return;
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 10000);
    });
  }

  raw(op) { this.socket.send(JSON.stringify(op)); }

  /** Ends the connection for good (a view or a session that is over). */
  close() {
    this.closed = true;
    this.socket.close();
  }

  send(op) {
    if (this.socket.readyState === WebSocket.OPEN) this.raw(op); else this.queue.push(op);
  }

  receive(message) {
    if (message.op) {
      if (message.op === 'subscribed' && this.seq === null) this.seq = message.seq;
      for (const handler of this.opHandlers.get(message.op) || []) handler(message);
      return;
    }
    if (typeof message.seq === 'number') this.seq = Math.max(this.seq ?? 0, message.seq);
    // A family's subscribers (`orders`) hear its members' events (`order:<id>`) too.
    const family = FAMILIES[message.topic.split(':')[0]];
    for (const handler of this.handlers.get(message.topic) || []) handler(message);
    if (family && family !== message.topic) for (const handler of this.handlers.get(family) || []) handler(message);
  }

  /** `since`: the seq a snapshot the page read was taken at, so nothing after it is missed. */
  subscribe(topics, handler, since = undefined) {
    const fresh = [];
    for (const topic of topics) {
      if (!this.handlers.has(topic)) { this.handlers.set(topic, []); fresh.push(topic); }
      this.handlers.get(topic).push(handler);
    }
    if (since !== undefined && (this.seq === null || since < this.seq)) this.seq = since;
    if (fresh.length) this.send({ op: 'subscribe', topics: fresh, ...(since !== undefined ? { since } : {}) });
  }

  on(op, handler) {
    if (!this.opHandlers.has(op)) this.opHandlers.set(op, []);
    this.opHandlers.get(op).push(handler);
  }
}

/** Builds an element: `h('p', {class: 'x'}, 'text', child)`. Text is always text, never HTML. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}
