// The back office: staff sign in with an API key (exchanged for an HttpOnly session cookie; the key
// is not kept), then watch the shop live over /v1/events/ws: who is browsing and what their cart
// holds, reaching one of them with a message or an offer; the orders board moving as orders come
// in and change; tasks for staff. Nothing polls: each view reads a snapshot, then follows events.
import { api, Problem, Live, h, money } from '../shared/api.js';
import { notifier, staffSession } from '../shared/staff.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
const notices = document.getElementById('notices');
const FLOW = ['placed', 'paid', 'confirmed', 'packed', 'dispatched', 'delivered'];

let live = null;
let session = null;
const notice = notifier(notices);

const staff = staffSession({
  view,
  keyLabel: 'API key',
  keyHint: 'An admin key. It is exchanged for a session and not kept in this page.',
  onStart: (opened) => {
    if (opened.role !== 'admin') {
      view.replaceChildren(h('h2', {}, 'Not an admin key'), h('p', {}, 'This session is for a till: ', h('a', { href: '../pos/' }, 'open the till'),
        ', or ', h('button', { type: 'button', class: 'link', onclick: () => staff.signOut() }, 'sign out'), ' and use an admin key.'));
      return;
    }
    session = opened;
    nav.hidden = false;
    route();
  },
  onEnd: () => {
    session = null;
    nav.hidden = true;
    if (live) live.close();
    live = null;
  },
});

function showError(error) {
  if (error instanceof Problem && error.status === 401) { staff.signIn('Your session has ended: sign in again.'); return; }
  console.warn(error);
  notice(error instanceof Problem ? error.message : 'Something went wrong; try again.', 'error');
}

document.getElementById('sign-out').addEventListener('click', () => staff.signOut());

// ---------------------------------------------------------------- live

async function showLive() {
  const shoppers = new Map();
  const list = h('div', { class: 'grid', id: 'shoppers' });
  const stats = h('div', { class: 'stats', id: 'stats' });
  const feed = h('ol', { class: 'feed', id: 'feed', reversed: true });
  view.replaceChildren(
    h('h2', {}, 'Live'),
    stats,
    h('h3', {}, 'Shoppers now'), list,
    h('h3', {}, 'What is happening'), feed);

  const render = () => {
    list.replaceChildren(...(shoppers.size ? [...shoppers.values()].map(shopperCard) : [h('p', { class: 'muted' }, 'Nobody is on the shop right now.')]));
  };
  const snapshot = await api('GET', '/v1/shoppers/live');
  for (const shopper of snapshot.items) shoppers.set(shopper.visitor, shopper);
  render();
  live.subscribe(['shoppers'], (event) => {
    if (event.type === 'shopper.left') shoppers.delete(event.data.visitor); else shoppers.set(event.data.visitor, event.data);
    if (location.hash === '#live' || !location.hash) render();
  }, snapshot.seq);

  renderStats(stats, await api('GET', '/v1/stats/live'));
  live.subscribe(['stats'], (event) => renderStats(stats, event.data));
  live.subscribe(['orders', 'carts'], (event) => {
    feed.prepend(h('li', {}, `${new Date(event.at).toLocaleTimeString()} ${event.type} ${event.data?.number || event.data?.sku || event.topic}`));
    while (feed.children.length > 30) feed.lastChild.remove();
  });
}

function renderStats(element, stats) {
  const cell = (label, value) => h('div', {}, h('span', { class: 'muted' }, label), h('strong', {}, value));
  element.replaceChildren(
    cell('Visitors now', stats.visitors_now),
    cell('Active carts', stats.carts_active),
    cell('In checkout', stats.checkouts_in_progress),
    cell('Orders today', stats.orders_today),
    cell('Revenue today', money(stats.revenue_today)),
    cell('Funnel', `${stats.funnel.viewed} → ${stats.funnel.carted} → ${stats.funnel.checkout} → ${stats.funnel.paid}`));
}

function shopperCard(shopper) {
  const who = shopper.customer ? (shopper.customer.name || shopper.customer.email || shopper.customer.id) : 'Anonymous shopper';
  const message = h('form', { class: 'inline' },
    h('label', { class: 'visually-hidden', for: `msg-${shopper.visitor}` }, 'Message'),
    h('input', { id: `msg-${shopper.visitor}`, name: 'text', placeholder: 'Say something…', maxlength: '1000', required: true }),
    h('button', { type: 'submit', class: 'secondary' }, 'Send'));
  message.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', `/v1/shoppers/${encodeURIComponent(shopper.visitor)}/messages`, { text: message.elements.text.value });
      message.reset();
      notice('Message sent.');
    } catch (error) { showError(error); }
  });
  const offer = h('form', { class: 'inline' },
    h('label', { class: 'visually-hidden', for: `offer-${shopper.visitor}` }, 'Percent off'),
    h('input', { id: `offer-${shopper.visitor}`, name: 'value', type: 'number', min: '1', max: '100', value: '10', required: true }),
    h('button', { type: 'submit' }, 'Send % offer'));
  offer.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const made = await api('POST', `/v1/shoppers/${encodeURIComponent(shopper.visitor)}/offers`,
        { kind: 'percent', value: Number(offer.elements.value.value), expires_in: '30m' });
      notice(`Offer ${made.code} sent.`);
    } catch (error) { showError(error); }
  });
  return h('article', { class: 'card shopper', 'data-visitor': shopper.visitor },
    h('div', { class: 'spread' }, h('strong', {}, who), h('span', { class: `stage stage-${shopper.stage}`, 'data-stage': '' }, shopper.stage)),
    h('span', { class: 'muted' }, shopper.product ? `Looking at ${shopper.product.title}` : shopper.page ? `On ${shopper.page.title || shopper.page.path}` : ''),
    shopper.cart ? h('span', { 'data-cart': '' }, `Cart: ${shopper.cart.lines} line${shopper.cart.lines === 1 ? '' : 's'}, ${money(shopper.cart.total)}`) : null,
    shopper.checkout_step ? h('span', {}, `Checkout: ${shopper.checkout_step}`) : null,
    shopper.hidden ? h('span', { class: 'muted' }, 'Tab in the background') : null,
    message, offer);
}

// ---------------------------------------------------------------- orders

async function showOrders() {
  const orders = new Map();
  const board = h('div', { class: 'board', id: 'board' });
  view.replaceChildren(h('h2', {}, 'Orders'), board);
  const render = () => {
    board.replaceChildren(...FLOW.map((status) => h('section', { 'data-column': status, 'aria-label': status },
      h('h3', {}, status),
      [...orders.values()].filter((order) => order.status === status).map(orderCard))));
  };
  const page = await api('GET', '/v1/orders?limit=100');
  for (const order of page.items) orders.set(order.id, order);
  render();
  live.subscribe(['orders'], async (event) => {
    const id = event.data?.order_id || event.data?.id || event.topic.replace(/^order:/, '');
    try {
      const order = await api('GET', `/v1/orders/${encodeURIComponent(id)}`);
      orders.set(order.id, order);
      if (location.hash === '#orders') render();
    } catch (error) { showError(error); }
  });
}

function orderCard(order) {
  const next = FLOW[FLOW.indexOf(order.status) + 1];
  const card = h('article', { class: 'card order', 'data-order': order.number },
    h('div', { class: 'spread' }, h('strong', {}, order.number), h('span', {}, money(order.totals.total))),
    h('span', { class: 'muted' }, order.email || order.channel || ''));
  if (!next) return card;
  const form = h('form', { class: 'inline' },
    next === 'dispatched' ? [h('label', { class: 'visually-hidden', for: `trk-${order.id}` }, 'Tracking number'),
      h('input', { id: `trk-${order.id}`, name: 'tracking', placeholder: 'Tracking number' })] : null,
    h('button', { type: 'submit', class: 'secondary' }, `Mark ${next}`));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { to: next };
    if (form.elements.tracking?.value) body.tracking_number = form.elements.tracking.value;
    try { await api('POST', `/v1/orders/${encodeURIComponent(order.id)}/transitions`, body); } catch (error) { showError(error); }
  });
  card.append(form);
  return card;
}

// ---------------------------------------------------------------- tasks

async function showTasks() {
  const list = h('ul', { id: 'tasks' });
  view.replaceChildren(h('h2', {}, 'Tasks'), list);
  const render = async () => {
    const tasks = await api('GET', '/v1/tasks?status=open');
    list.replaceChildren(...(tasks.items.length ? tasks.items.map((task) => h('li', { 'data-task': task.id }, task.text, ' ',
      h('button', { type: 'button', class: 'secondary', onclick: async () => {
        try { await api('POST', `/v1/tasks/${encodeURIComponent(task.id)}/done`); await render(); } catch (error) { showError(error); }
      } }, 'Done'))) : [h('li', { class: 'muted' }, 'Nothing to do.')]));
  };
  await render();
  live.subscribe(['tasks'], () => { if (location.hash === '#tasks') render().catch(showError); });
}

// ---------------------------------------------------------------- stock

async function showStock() {
  const results = h('div', { id: 'stock', class: 'grid' });
  const search = h('form', { class: 'inline', role: 'search' },
    h('label', { class: 'visually-hidden', for: 'stock-q' }, 'Search products'),
    h('input', { id: 'stock-q', name: 'q', type: 'search', placeholder: 'Title, SKU, tag…' }),
    h('button', { type: 'submit', class: 'secondary' }, 'Search'));
  view.replaceChildren(h('h2', {}, 'Stock'), search, results);
  const cards = new Map();
  const load = async () => {
    const q = search.elements.q.value.trim();
    const page = await api('GET', `/v1/products?limit=24${q ? `&q=${encodeURIComponent(q)}` : ''}`);
    cards.clear();
    const skus = page.items.flatMap((product) => product.variants.map((variant) => ({ product, variant })));
    const built = await Promise.all(skus.map(async ({ product, variant }) => {
      const card = h('article', { class: 'card', 'data-sku': variant.sku });
      cards.set(variant.sku, { card, product, variant });
      renderLevel(card, product, variant, await api('GET', `/v1/inventory/${encodeURIComponent(variant.sku)}`));
      return card;
    }));
    results.replaceChildren(...(built.length ? built : [h('p', { class: 'muted' }, 'No products found.')]));
    live.subscribe(skus.map(({ variant }) => `stock:${variant.sku}`), async (event) => {
      const entry = cards.get(event.data?.sku);
      if (!entry || event.type !== 'stock.changed') return;
      try { renderLevel(entry.card, entry.product, entry.variant, await api('GET', `/v1/inventory/${encodeURIComponent(event.data.sku)}`)); } catch (error) { showError(error); }
    });
  };
  search.addEventListener('submit', (event) => { event.preventDefault(); load().catch(showError); });
  await load();
}

function renderLevel(card, product, variant, level) {
  const adjust = h('form', { class: 'inline' },
    h('label', { class: 'visually-hidden', for: `adj-${variant.sku}` }, `Change ${variant.sku} by`),
    h('input', { id: `adj-${variant.sku}`, name: 'delta', type: 'number', step: '1', placeholder: '+5 or -2', required: true }),
    h('label', { class: 'visually-hidden', for: `why-${variant.sku}` }, 'Reason'),
    h('select', { id: `why-${variant.sku}`, name: 'reason' },
      ['received', 'returned', 'damaged', 'correction', 'sold_in_store'].map((reason) => h('option', { value: reason }, reason.replace(/_/g, ' ')))),
    h('button', { type: 'submit', class: 'secondary' }, 'Adjust'));
  adjust.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await api('POST', `/v1/inventory/${encodeURIComponent(variant.sku)}/adjustments`, { delta: Number(adjust.elements.delta.value), reason: adjust.elements.reason.value });
    } catch (error) { showError(error); }
  });
  card.replaceChildren(
    h('div', { class: 'spread' }, h('strong', {}, product.title), h('span', { class: 'muted' }, variant.sku)),
    h('p', {}, 'Available online: ', h('strong', { 'data-available': '' }, level.available), ` (on hand ${level.on_hand}, reserved ${level.reserved})`),
    h('table', {}, h('thead', {}, h('tr', {}, ['Location', 'On hand', 'Reserved', 'Available'].map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, level.locations.map((at) => h('tr', {}, h('td', {}, at.location), h('td', {}, at.on_hand), h('td', {}, at.reserved), h('td', {}, at.available))))),
    adjust);
}

// ---------------------------------------------------------------- automation

async function showAutomation() {
  const flows = h('div', { id: 'flows' });
  view.replaceChildren(h('h2', {}, 'Automation'), flows);
  const render = async () => {
    const page = await api('GET', '/v1/flows');
    const cards = await Promise.all(page.items.map(async (flow) => flowCard(flow, await api('GET', `/v1/flows/${encodeURIComponent(flow.id)}/stats`), render)));
    flows.replaceChildren(...(cards.length ? cards : [h('p', { class: 'muted' }, 'No flows yet.')]));
  };
  await render();
  // A flow's figures move as its messages go, are opened and clicked.
  live.subscribe(['tasks', 'orders'], () => { if (location.hash === '#automation') render().catch(showError); });
}

function flowCard(flow, stats, rerender) {
  const active = flow.status === 'active';
  const toggle = h('button', { type: 'button', class: active ? 'secondary' : '', onclick: async () => {
    try {
      await api('PATCH', `/v1/flows/${encodeURIComponent(flow.id)}`, { status: active ? 'draft' : 'active' });
      await rerender();
    } catch (error) { showError(error); }
  } }, active ? 'Switch off' : 'Switch on');
  return h('article', { class: 'card', 'data-flow': flow.name },
    h('div', { class: 'spread' }, h('h3', {}, flow.name), h('span', { class: 'stage', 'data-flow-status': '' }, flow.status)),
    h('p', { class: 'muted' }, `Trigger ${flow.trigger.type}, version ${flow.version}: ${stats.entered} entered, ${stats.exited} exited early`),
    h('table', {}, h('thead', {}, h('tr', {}, ['Step', 'Kind', 'Variant', 'Entered', 'Sent', 'Opened', 'Clicked', 'Converted', 'Revenue'].map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, stats.steps.map((step) => h('tr', {},
        h('td', {}, step.step), h('td', {}, step.type), h('td', {}, step.variant ?? ''), h('td', {}, step.entered), h('td', {}, step.sent),
        h('td', {}, step.opened), h('td', {}, step.clicked), h('td', {}, step.converted), h('td', {}, money(step.revenue)))))),
    toggle);
}

// ---------------------------------------------------------------- messages

async function showMessages() {
  const table = h('tbody', { id: 'messages' });
  view.replaceChildren(h('h2', {}, 'Messages'), h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, ['When', 'Channel', 'To', 'Template', 'Status', ''].map((name) => h('th', { scope: 'col' }, name)))), table)));
  const render = async () => {
    const page = await api('GET', '/v1/messages?limit=50');
    table.replaceChildren(...page.items.map((message) => h('tr', { 'data-message': message.id },
      h('td', {}, new Date(message.created_at).toLocaleString()), h('td', {}, message.channel), h('td', {}, message.to),
      h('td', {}, message.template),
      h('td', { 'data-message-status': '' }, message.status, message.skip_reason ? ` (${message.skip_reason})` : '',
        message.last_error ? ` — ${message.last_error}` : ''),
      h('td', {}, message.status === 'failed' ? h('button', { type: 'button', class: 'secondary', onclick: async () => {
        try { await api('POST', `/v1/messages/${encodeURIComponent(message.id)}/retry`); await render(); } catch (error) { showError(error); }
      } }, 'Retry') : ''))));
  };
  await render();
  live.subscribe(['orders'], () => { if (location.hash === '#messages') render().catch(showError); });
}

// ---------------------------------------------------------------- start

const views = { '#live': showLive, '#orders': showOrders, '#stock': showStock, '#automation': showAutomation, '#messages': showMessages, '#tasks': showTasks };

function route() {
  if (!session) return;
  // Each view follows its own topics on a socket of its own, which carries the session's cookie.
  if (live) live.close();
  live = new Live();
  const hash = views[location.hash] ? location.hash : '#live';
  for (const link of nav.querySelectorAll('a')) link.toggleAttribute('aria-current', link.getAttribute('href') === hash);
  for (const link of nav.querySelectorAll('a[aria-current]')) link.setAttribute('aria-current', 'page');
  views[hash]().catch(showError);
}

window.addEventListener('hashchange', route);
