// The back office: staff sign in with an API key (exchanged for an HttpOnly session cookie; the key
// is not kept), then watch the shop live over /v1/events/ws: who is browsing and what their cart
// holds, reaching one of them with a message or an offer; the orders board moving as orders come
// in and change; tasks for staff. Nothing polls: each view reads a snapshot, then follows events.
import { api, Problem, Live, h, money } from '../shared/api.js';
import { notifier, staffSession } from '../shared/staff.js';
import { barChart } from '../shared/chart.js';

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
    cell('Funnel', `${stats.funnel.viewed} → ${stats.funnel.carted} → ${stats.funnel.checkout} → ${stats.funnel.paid}`),
    h('figure', { class: 'funnel' }, barChart([
      { label: 'Viewed', value: stats.funnel.viewed }, { label: 'Carted', value: stats.funnel.carted },
      { label: 'Checkout', value: stats.funnel.checkout }, { label: 'Paid', value: stats.funnel.paid }], 'Funnel over the last hour'),
    h('figcaption', { class: 'muted' }, 'Shoppers over the last hour')));
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
    h('span', { class: 'muted' }, order.email || order.channel || ''),
    // The receipt negotiates HTML for a browser; the session cookie goes with the link.
    h('a', { href: `/v1/orders/${encodeURIComponent(order.id)}/receipt`, target: '_blank', rel: 'noopener', 'data-receipt': '' }, 'Receipt'));
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
  const low = h('div', { id: 'low-stock' });
  view.replaceChildren(h('h2', {}, 'Stock'), low, search, results);
  showLowStock(low).catch(showError);
  let cards = new Map();
  let searches = 0;
  const load = async () => {
    // A search answered after a newer one is dropped, so the cards shown are the ones kept live.
    const mine = ++searches;
    results.setAttribute('aria-busy', 'true');
    try {
      const q = search.elements.q.value.trim();
      const page = await api('GET', `/v1/products?limit=24${q ? `&q=${encodeURIComponent(q)}` : ''}`);
      const found = new Map();
      const skus = page.items.flatMap((product) => product.variants.map((variant) => ({ product, variant })));
      const built = await Promise.all(skus.map(async ({ product, variant }) => {
        const card = h('article', { class: 'card', 'data-sku': variant.sku });
        found.set(variant.sku, { card, product, variant });
        renderLevel(card, product, variant, await api('GET', `/v1/inventory/${encodeURIComponent(variant.sku)}`));
        return card;
      }));
      if (mine !== searches) return;
      cards = found;
      results.replaceChildren(...(built.length ? built : [h('p', { class: 'muted' }, 'No products found.')]));
      live.subscribe(skus.map(({ variant }) => `stock:${variant.sku}`), async (event) => {
        const entry = cards.get(event.data?.sku);
        if (!entry || event.type !== 'stock.changed') return;
        try { renderLevel(entry.card, entry.product, entry.variant, await api('GET', `/v1/inventory/${encodeURIComponent(event.data.sku)}`)); } catch (error) { showError(error); }
      });
    } finally {
      if (mine === searches) results.setAttribute('aria-busy', 'false');
    }
  };
  search.addEventListener('submit', (event) => { event.preventDefault(); load().catch(showError); });
  await load();
}

/**
 * Shows a SKU's levels in its card. The card's forms are made once and its figures updated in place,
 * so a live change (a shopper carting one) never wipes what the admin is typing.
 */
function renderLevel(card, product, variant, level) {
  if (!card.levels) card.levels = buildLevelCard(card, product, variant);
  const { summary, tbody, rows } = card.levels;
  summary.replaceChildren('Available online: ', h('strong', { 'data-available': '' }, level.available),
    ` (on hand ${level.on_hand}, reserved ${level.reserved})`);
  const shown = level.locations.map((at) => {
    let row = rows.get(at.location);
    if (!row) {
      row = { figures: [h('td'), h('td'), h('td')], count: stocktake(card, product, variant, at.location) };
      row.tr = h('tr', { 'data-location': at.location }, h('td', {}, at.location), ...row.figures, h('td', {}, row.count));
      rows.set(at.location, row);
    }
    [at.on_hand, at.reserved, at.available].forEach((figure, index) => { row.figures[index].textContent = String(figure); });
    row.count.elements.on_hand.placeholder = String(at.on_hand);
    return row.tr;
  });
  if (shown.some((tr, index) => tbody.children[index] !== tr) || tbody.children.length !== shown.length) tbody.replaceChildren(...shown);
}

function buildLevelCard(card, product, variant) {
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
      const level = await api('POST', `/v1/inventory/${encodeURIComponent(variant.sku)}/adjustments`,
        { delta: Number(adjust.elements.delta.value), reason: adjust.elements.reason.value });
      adjust.reset();
      renderLevel(card, product, variant, level);
    } catch (error) { showError(error); }
  });
  const summary = h('p');
  const tbody = h('tbody');
  card.replaceChildren(
    h('div', { class: 'spread' }, h('strong', {}, product.title), h('span', { class: 'muted' }, variant.sku)),
    summary,
    h('div', { class: 'scroll' }, h('table', {}, h('thead', {}, h('tr', {}, ['Location', 'On hand', 'Reserved', 'Available', 'Counted'].map((name) => h('th', { scope: 'col' }, name)))), tbody)),
    adjust);
  return { summary, tbody, rows: new Map() };
}

/** A stocktake: the count found on the shelf becomes the level (refused below what is reserved there). */
function stocktake(card, product, variant, location) {
  const id = `count-${variant.sku}-${location}`;
  const form = h('form', { class: 'inline count' },
    h('label', { class: 'visually-hidden', for: id }, `Counted ${variant.sku} at ${location}`),
    h('input', { id, name: 'on_hand', type: 'number', min: '0', step: '1', required: true }),
    h('button', { type: 'submit', class: 'secondary' }, 'Set'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const level = await api('PUT', `/v1/inventory/${encodeURIComponent(variant.sku)}/levels/${encodeURIComponent(location)}`,
        { on_hand: Number(form.elements.on_hand.value) });
      form.reset();
      renderLevel(card, product, variant, level);
    } catch (error) { showError(error); }
  });
  return form;
}

/** What runs out before it can be reordered (`GET /v1/stock-cover`), at the top of the Stock view. */
async function showLowStock(box) {
  const cover = await api('GET', '/v1/stock-cover?below=14d');
  box.replaceChildren(h('section', { class: 'card', 'aria-labelledby': 'low-title' },
    h('h3', { id: 'low-title' }, 'Running low'),
    cover.items.length ? h('div', { class: 'scroll' }, h('table', {},
      h('thead', {}, h('tr', {}, ['SKU', 'Location', 'Available', 'Sold a day', 'Days left', 'Lead time'].map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, cover.items.map((item) => h('tr', { 'data-low': item.sku },
        h('td', {}, item.sku), h('td', {}, item.location), h('td', {}, item.available), h('td', {}, item.sold_per_day.toFixed(1)),
        h('td', {}, item.days_of_cover === null ? '—' : item.days_of_cover.toFixed(1)), h('td', {}, `${item.lead_time_days} d`))))))
      : h('p', { class: 'muted' }, 'Nothing runs out within two weeks at the current rate of sale.')));
}

// ---------------------------------------------------------------- automation

async function showAutomation() {
  const flows = h('div', { id: 'flows' });
  const campaigns = h('div', { id: 'campaigns' });
  view.replaceChildren(h('h2', {}, 'Automation'), flows, h('h2', {}, 'Campaigns'), campaigns);
  await showCampaigns(campaigns);
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
    barChart(['sent', 'opened', 'clicked', 'converted'].map((key) => ({ label: key, value: stats.steps.reduce((sum, step) => sum + step[key], 0) })),
      `${flow.name}: messages through to orders`),
    h('table', {}, h('thead', {}, h('tr', {}, ['Step', 'Kind', 'Variant', 'Entered', 'Sent', 'Opened', 'Clicked', 'Converted', 'Revenue'].map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', {}, stats.steps.map((step) => h('tr', {},
        h('td', {}, step.step), h('td', {}, step.type), h('td', {}, step.variant ?? ''), h('td', {}, step.entered), h('td', {}, step.sent),
        h('td', {}, step.opened), h('td', {}, step.clicked), h('td', {}, step.converted), h('td', {}, money(step.revenue)))))),
    toggle);
}

/** Campaigns: a template sent once to a segment, throttled, with its figures; cancel one not finished. */
async function showCampaigns(box) {
  const [segments, templates] = await Promise.all([api('GET', '/v1/segments?limit=100'), api('GET', '/v1/templates')]);
  const list = h('div', { class: 'grid', id: 'campaign-list' });
  const form = h('form', { class: 'card' },
    h('label', { for: 'campaign-name' }, 'Name'), h('input', { id: 'campaign-name', name: 'name', required: true, maxlength: '200' }),
    h('label', { for: 'campaign-segment' }, 'To the segment'),
    h('select', { id: 'campaign-segment', name: 'segment', required: true },
      segments.items.map((segment) => h('option', { value: segment.id }, `${segment.name} (${segment.count})`))),
    h('label', { for: 'campaign-channel' }, 'By'),
    h('select', { id: 'campaign-channel', name: 'channel' }, ['email', 'sms', 'push'].map((channel) => h('option', { value: channel }, channel))),
    h('label', { for: 'campaign-template' }, 'Template'),
    h('select', { id: 'campaign-template', name: 'template' }, [...new Set(templates.items.map((template) => template.name))].map((name) => h('option', { value: name, selected: name === 'campaign' }, name))),
    h('label', { for: 'campaign-at' }, 'Send at (empty: now)'), h('input', { id: 'campaign-at', name: 'send_at', type: 'datetime-local' }),
    h('button', { type: 'submit' }, 'Schedule'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    const body = { name: data.name, segment: data.segment, channel: data.channel, template: data.template };
    if (data.send_at) body.send_at = new Date(data.send_at).toISOString();
    try {
      await api('POST', '/v1/campaigns', body);
      form.reset();
      await render();
    } catch (error) { showError(error); }
  });
  const render = async () => {
    const page = await api('GET', '/v1/campaigns?limit=20');
    list.replaceChildren(...page.items.map((campaign) => h('article', { class: 'card', 'data-campaign': campaign.name },
      h('div', { class: 'spread' }, h('strong', {}, campaign.name), h('span', { class: 'stage' }, campaign.status)),
      h('p', { class: 'muted' }, `${campaign.channel} ${campaign.template}, ${new Date(campaign.send_at).toLocaleString()}`),
      h('p', {}, `${campaign.stats.sent} sent, ${campaign.stats.opened} opened, ${campaign.stats.clicked} clicked, ${campaign.stats.converted} orders, ${money(campaign.stats.revenue)}`),
      ['scheduled', 'sending'].includes(campaign.status) ? h('button', { type: 'button', class: 'secondary', onclick: async () => {
        try { await api('POST', `/v1/campaigns/${encodeURIComponent(campaign.id)}/cancel`); await render(); } catch (error) { showError(error); }
      } }, 'Cancel') : null)));
  };
  box.replaceChildren(segments.items.length ? form : h('p', { class: 'muted' }, 'Save a segment under Customers to send a campaign to it.'), list);
  await render();
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

// ---------------------------------------------------------------- customers

/** The conditions the segment builder offers: how each is asked for and how it becomes a filter. */
const CONDITIONS = {
  tag: { label: 'has the tag', input: 'text', make: (v) => ({ tag: v }) },
  bought_category: { label: 'bought from the category', input: 'text', make: (v) => ({ bought: { category: v } }) },
  bought_sku: { label: 'bought the SKU', input: 'text', make: (v) => ({ bought: { sku: v } }) },
  viewed_category: { label: 'looked at the category', input: 'text', make: (v) => ({ viewed: { category: v } }) },
  spent: { label: 'spent at least', input: 'number', make: (v, currency) => ({ total_spent: { gte: { amount: Math.round(Number(v) * 100), currency } } }) },
  orders: { label: 'ordered at least (times)', input: 'number', make: (v) => ({ orders_count: { gte: Number(v) } }) },
  lapsed: { label: 'last ordered more than (days ago)', input: 'number', make: (v) => ({ last_order_at: { before: `-${Number(v)}d` } }) },
  recent: { label: 'ordered within (days)', input: 'number', make: (v) => ({ last_order_at: { after: `-${Number(v)}d` } }) },
  abandoned: { label: 'left a cart within (days)', input: 'number', make: (v) => ({ abandoned_cart: { since: `-${Number(v)}d` } }) },
  location: { label: 'bought at the location', input: 'text', make: (v) => ({ bought_at_location: v }) },
  consent: { label: 'takes marketing by', options: ['email', 'sms', 'push'], make: (v) => ({ consent: v }) },
  stage: { label: 'is live and', options: ['browsing', 'considering', 'hesitating'], make: (v) => ({ stage: v }) },
};

function personName(customer) {
  if (customer.erased) return 'Erased customer';
  return [customer.first_name, customer.last_name].filter(Boolean).join(' ') || customer.email || customer.phone || customer.id;
}

async function showCustomers() {
  const results = h('tbody', { id: 'customers' });
  const more = h('div');
  const profileBox = h('div', { id: 'profile' });
  const segmentSelect = h('select', { id: 'segment', name: 'segment' }, h('option', { value: '' }, 'Every customer'));
  const search = h('form', { class: 'inline', role: 'search' },
    h('label', { class: 'visually-hidden', for: 'customer-q' }, 'Search customers'),
    h('input', { id: 'customer-q', name: 'q', type: 'search', placeholder: 'Name, email, phone, tag…' }),
    h('label', { class: 'visually-hidden', for: 'segment' }, 'Segment'),
    segmentSelect,
    h('button', { type: 'submit', class: 'secondary' }, 'Search'));
  const list = h('div', { class: 'scroll' }, h('table', {},
    h('thead', {}, h('tr', {}, ['Customer', 'Email', 'Phone', 'Orders', 'Spent', 'Last order'].map((name) => h('th', { scope: 'col' }, name)))), results));
  view.replaceChildren(h('h2', {}, 'Customers'), search, segmentBuilder(() => loadSegments()), list, more, profileBox);

  const loadSegments = async () => {
    const chosen = segmentSelect.value;
    const segments = await api('GET', '/v1/segments?limit=100');
    segmentSelect.replaceChildren(h('option', { value: '' }, 'Every customer'),
      ...segments.items.map((segment) => h('option', { value: segment.id }, `${segment.name} (${segment.count})`)));
    segmentSelect.value = chosen;
  };
  const row = (customer) => h('tr', { 'data-customer': customer.id },
    h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => showProfile(customer.id, profileBox).catch(showError) }, personName(customer))),
    h('td', {}, customer.email || ''), h('td', {}, customer.phone || ''), h('td', {}, customer.stats.orders_count),
    h('td', {}, money(customer.stats.total_spent)), h('td', {}, customer.stats.last_order_at ? new Date(customer.stats.last_order_at).toLocaleDateString() : ''));
  const load = async (cursor) => {
    const query = new URLSearchParams({ limit: '25' });
    if (search.elements.q.value.trim()) query.set('q', search.elements.q.value.trim());
    if (segmentSelect.value) query.set('segment', segmentSelect.value);
    if (cursor) query.set('cursor', cursor);
    const page = await api('GET', `/v1/customers?${query}`);
    if (!cursor) results.replaceChildren();
    results.append(...page.items.map(row));
    if (!results.children.length) results.append(h('tr', {}, h('td', { colspan: '6', class: 'muted' }, 'No customers found.')));
    more.replaceChildren(page.next_cursor
      ? h('button', { type: 'button', class: 'secondary', onclick: () => load(page.next_cursor).catch(showError) }, 'More') : '');
  };
  search.addEventListener('submit', (event) => { event.preventDefault(); load().catch(showError); });
  segmentSelect.addEventListener('change', () => load().catch(showError));
  await Promise.all([loadSegments(), load()]);
  live.subscribe(['customers'], () => { if (location.hash === '#customers') load().catch(showError); });
}

/** Conditions joined by all or any, counted by the server as they change (`POST /v1/segments/preview`). */
function segmentBuilder(saved) {
  const rows = h('div', { class: 'conditions' });
  const count = h('strong', { 'data-segment-count': '' }, '—');
  const join = h('select', { id: 'segment-join', name: 'join' }, h('option', { value: 'all' }, 'all of these'), h('option', { value: 'any' }, 'any of these'));
  let currency = 'GBP';
  api('GET', '/v1/stats/live').then((stats) => { currency = stats.revenue_today.currency; }, showError);
  let timer = null;
  let asked = 0;
  const filter = () => {
    const conditions = [...rows.children].map((line) => {
      const kind = CONDITIONS[line.querySelector('[name=kind]').value];
      const value = line.querySelector('[name=value]').value.trim();
      return value === '' ? null : kind.make(value, currency);
    }).filter(Boolean);
    if (!conditions.length) return null;
    return conditions.length === 1 ? conditions[0] : { [join.value]: conditions };
  };
  const recount = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const current = filter();
      const mine = ++asked;
      if (!current) { count.textContent = '—'; return; }
      try {
        const answer = await api('POST', '/v1/segments/preview', { filter: current });
        if (mine === asked) count.textContent = String(answer.count);
      } catch (error) {
        if (mine === asked) count.textContent = error instanceof Problem && error.status === 422 ? 'not a valid filter' : '?';
      }
    }, 250);
  };
  const addRow = () => {
    const index = rows.children.length + 1;
    const valueField = (kind) => (kind.options
      ? h('select', { name: 'value', id: `cond-value-${index}` }, kind.options.map((option) => h('option', { value: option }, option)))
      : h('input', { name: 'value', id: `cond-value-${index}`, type: kind.input, min: kind.input === 'number' ? '0' : null }));
    const kindSelect = h('select', { name: 'kind', id: `cond-kind-${index}` },
      Object.entries(CONDITIONS).map(([key, kind]) => h('option', { value: key }, kind.label)));
    const line = h('div', { class: 'row condition' },
      h('label', { class: 'visually-hidden', for: `cond-kind-${index}` }, `Condition ${index}`), kindSelect,
      h('label', { class: 'visually-hidden', for: `cond-value-${index}` }, `Value ${index}`), valueField(CONDITIONS.tag),
      h('button', { type: 'button', class: 'link', onclick: () => { line.remove(); recount(); } }, 'Remove'));
    kindSelect.addEventListener('change', () => {
      line.querySelector('[name=value]').replaceWith(valueField(CONDITIONS[kindSelect.value]));
      recount();
    });
    rows.append(line);
  };
  const name = h('input', { id: 'segment-name', name: 'name', placeholder: 'Name of the segment', maxlength: '200' });
  const box = h('details', { class: 'card builder' },
    h('summary', {}, 'Build a segment'),
    h('div', { class: 'row' }, h('label', { for: 'segment-join' }, 'Customers matching'), join),
    rows,
    h('button', { type: 'button', class: 'secondary', onclick: () => { addRow(); recount(); } }, 'Add a condition'),
    h('p', { 'aria-live': 'polite' }, 'Customers now: ', count),
    h('form', { class: 'inline', onsubmit: async (event) => {
      event.preventDefault();
      const current = filter();
      if (!current || !name.value.trim()) { notice('Give the segment a name and at least one condition.', 'error'); return; }
      try {
        const made = await api('POST', '/v1/segments', { name: name.value.trim(), filter: current });
        notice(`Segment ${made.name} saved: ${made.count} customers.`);
        name.value = '';
        await saved();
      } catch (error) { showError(error); }
    } }, h('label', { class: 'visually-hidden', for: 'segment-name' }, 'Segment name'), name, h('button', { type: 'submit' }, 'Save segment')));
  box.addEventListener('input', recount);
  join.addEventListener('change', recount);
  addRow();
  return box;
}

async function showProfile(id, box) {
  const [customer, timeline] = await Promise.all([
    api('GET', `/v1/customers/${encodeURIComponent(id)}`),
    api('GET', `/v1/customers/${encodeURIComponent(id)}/timeline?limit=30`)]);
  const consentRow = (channel) => {
    const current = customer.consent[channel];
    const select = h('select', { id: `consent-${channel}`, name: channel },
      ['subscribed', 'unsubscribed', 'not_subscribed'].map((state) => h('option', { value: state, selected: state === current.state }, state.replace('_', ' '))));
    select.addEventListener('change', async () => {
      try {
        await api('PUT', `/v1/customers/${encodeURIComponent(id)}/consent/${channel}`, { state: select.value, source: 'back office' });
        await showProfile(id, box);
      } catch (error) { showError(error); }
    });
    return h('tr', {}, h('th', { scope: 'row' }, h('label', { for: `consent-${channel}` }, channel)), h('td', {}, select),
      h('td', { class: 'muted' }, [current.level, current.source, current.updated_at && new Date(current.updated_at).toLocaleDateString()].filter(Boolean).join(' · ')));
  };
  const stats = customer.stats;
  const preferences = customer.preferences;
  box.replaceChildren(h('article', { class: 'card profile', 'data-profile': id },
    h('div', { class: 'spread' }, h('h3', {}, personName(customer)), h('button', { type: 'button', class: 'secondary', onclick: () => box.replaceChildren() }, 'Close')),
    h('p', { class: 'muted' }, [customer.email, customer.phone, customer.tags.length ? `tags: ${customer.tags.join(', ')}` : null].filter(Boolean).join(' · ')),
    h('p', {}, `${stats.orders_count} orders, ${money(stats.total_spent) || '—'} in all`,
      stats.orders_count ? `, ${money(stats.average_order_value)} on average` : '',
      stats.average_days_between_orders ? `, every ${Math.round(stats.average_days_between_orders)} days` : ''),
    preferences.categories.length ? h('p', {}, 'Buys: ', preferences.categories.join(', ')) : null,
    customer.note ? h('p', {}, h('em', {}, customer.note)) : null,
    h('h4', {}, 'Consent'),
    h('table', { class: 'consent' }, h('tbody', {}, ['email', 'sms', 'push'].map(consentRow))),
    h('h4', {}, 'Timeline'),
    h('ol', { class: 'timeline', 'data-timeline': '' }, timeline.items.map((entry) => h('li', { 'data-kind': entry.type },
      h('span', { class: 'muted' }, new Date(entry.at).toLocaleString()), ' ', timelineText(entry))))));
  box.scrollIntoView({ block: 'nearest' });
}

function timelineText(entry) {
  switch (entry.type) {
    case 'order': return `Order ${entry.number} (${entry.channel}), ${entry.status}, ${money(entry.total)}`;
    case 'cart': return `Cart ${entry.status} (${entry.channel})`;
    case 'view': return `Viewed product ${entry.product_id}`;
    case 'message': return `${entry.channel} ${entry.template}: ${entry.status}`;
    case 'consent': return `${entry.channel} consent ${entry.state.replace('_', ' ')}${entry.source ? ` (${entry.source})` : ''}`;
    default: return entry.type;
  }
}

// ---------------------------------------------------------------- conversations

async function showConversations() {
  const list = h('ul', { class: 'conversations', id: 'conversations' });
  const thread = h('div', { id: 'thread' });
  view.replaceChildren(h('h2', {}, 'Conversations'), h('div', { class: 'split' }, list, thread));
  let open = null;
  const renderList = async () => {
    const page = await api('GET', '/v1/conversations?limit=50');
    list.replaceChildren(...(page.items.length ? page.items.map((conversation) => h('li', { 'data-conversation': conversation.id },
      h('button', { type: 'button', class: 'link', 'aria-current': conversation.id === open ? 'true' : null,
        onclick: () => { open = conversation.id; renderThread().catch(showError); renderList().catch(showError); } },
      conversation.customer_id || conversation.visitor),
      h('br'), h('span', { class: 'muted' }, conversation.last_message
        ? `${conversation.last_message.from}: ${conversation.last_message.text ?? `offer ${conversation.last_message.offer?.code}`}` : '')))
      : [h('li', { class: 'muted' }, 'No conversations yet: message a shopper from the Live view.')]));
  };
  const renderThread = async () => {
    if (!open) { thread.replaceChildren(h('p', { class: 'muted' }, 'Pick a conversation.')); return; }
    const conversation = await api('GET', `/v1/conversations/${encodeURIComponent(open)}`);
    const reply = h('form', { class: 'inline' },
      h('label', { class: 'visually-hidden', for: 'reply' }, 'Reply'),
      h('input', { id: 'reply', name: 'text', placeholder: 'Write to the shopper…', maxlength: '1000', required: true }),
      h('button', { type: 'submit' }, 'Send'),
      h('button', { type: 'button', class: 'secondary', onclick: () => sendOffer(conversation.visitor) }, 'Send 10 % offer'));
    reply.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await api('POST', `/v1/shoppers/${encodeURIComponent(conversation.visitor)}/messages`, { text: reply.elements.text.value });
        reply.reset();
      } catch (error) {
        if (error instanceof Problem && error.status === 409) notice('The shopper has left the shop: they will not see a message now.', 'error');
        else showError(error);
      }
    });
    thread.replaceChildren(h('article', { class: 'card' },
      h('h3', {}, conversation.customer_id ? `Customer ${conversation.customer_id}` : `Visitor ${conversation.visitor}`),
      h('ol', { class: 'messages', 'data-thread': open }, conversation.messages.map((message) => h('li', { class: `from-${message.from}` },
        h('span', { class: 'muted' }, `${message.from} · ${new Date(message.at).toLocaleTimeString()}`), h('br'),
        message.text ?? `Offer ${message.offer?.code} (${message.offer?.kind} ${message.offer?.kind === 'fixed' ? money(message.offer.value) : message.offer?.value ?? ''})`))),
      reply));
  };
  const sendOffer = async (visitor) => {
    try {
      const made = await api('POST', `/v1/shoppers/${encodeURIComponent(visitor)}/offers`, { kind: 'percent', value: 10, expires_in: '30m' });
      notice(`Offer ${made.code} sent.`);
    } catch (error) {
      if (error instanceof Problem && error.status === 409) notice('The shopper has left the shop: no offer sent.', 'error');
      else showError(error);
    }
  };
  await Promise.all([renderList(), renderThread()]);
  live.subscribe(['conversations'], (event) => {
    if (location.hash !== '#conversations') return;
    renderList().catch(showError);
    if (event.topic === `conversation:${open}`) renderThread().catch(showError);
  });
}

// ---------------------------------------------------------------- start

const views = {
  '#live': showLive, '#orders': showOrders, '#stock': showStock, '#customers': showCustomers, '#conversations': showConversations,
  '#automation': showAutomation, '#messages': showMessages, '#tasks': showTasks,
};

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
