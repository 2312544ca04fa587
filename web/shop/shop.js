// The demo storefront: the catalogue with availability that changes as others cart and buy, a
// basket that holds its stock for a while (the countdown), checkout with the test cards, the order's
// tracking page, a replenishment proposal by its link, and what the shop sends a shopper live
// (a message, an offer). Everything live comes over one WebSocket (shared/api.js `Live`).
import { api, Problem, Live, h, money, idempotencyKey, setBearerToken } from '../shared/api.js';
import { qrSVG } from '../shared/qr.js';

const CART_KEY = 'shopfloor.cart';
const VISITOR_KEY = 'shopfloor.visitor';
const TOKEN_KEY = 'shopfloor.customer';
const TEST_CARDS = [
  ['4242424242424242', 'succeeds'],
  ['4000000000000002', 'is declined'],
  ['4000000000009995', 'fails with insufficient funds'],
];

const view = document.getElementById('view');
const cartPanel = document.getElementById('cart');
const cartButton = document.getElementById('cart-button');
const notices = document.getElementById('notices');
const live = new Live();

let cart = null;
let countdown = null;
const availability = new Map();

// ---------------------------------------------------------------- visitor, activity

// A signed-in shopper's token: their carts are theirs, and `hello` links this visitor to them.
let customerToken = localStorage.getItem(TOKEN_KEY);
setBearerToken(customerToken);

function hello() {
  const visitor = localStorage.getItem(VISITOR_KEY);
  return { op: 'hello', ...(visitor ? { visitor } : {}), ...(cart ? { cart: cart.id } : {}), ...(customerToken ? { customer_token: customerToken } : {}) };
}

live.onOpen = () => live.raw(hello());
live.on('welcome', (message) => localStorage.setItem(VISITOR_KEY, message.visitor));
live.on('message', (message) => showMessage(message));
live.on('offer', (message) => showOffer(message));

function track(type, data = {}) {
  live.send({ op: 'track', type, data });
}

document.addEventListener('visibilitychange', () => track(document.hidden ? 'page.hidden' : 'page.visible'));
window.addEventListener('pagehide', () => {
  const visitor = localStorage.getItem(VISITOR_KEY);
  if (!visitor) return;
  const body = JSON.stringify({ visitor, events: [{ type: 'page.hidden', data: {} }] });
  navigator.sendBeacon('/v1/activity', new Blob([body], { type: 'application/json' }));
});

// ---------------------------------------------------------------- notices

function notice(text, kind = '') {
  const element = h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
  notices.append(element);
  setTimeout(() => element.remove(), 8000);
  return element;
}

/** The shop's messages, and the shopper's own replies echoed back, in one small chat that stays open. */
function showMessage(message) {
  let chat = document.getElementById('chat');
  if (!chat) {
    const form = h('form', { class: 'inline' },
      h('label', { class: 'visually-hidden', for: 'chat-reply' }, 'Reply to the shop'),
      h('input', { id: 'chat-reply', name: 'text', placeholder: 'Reply…', maxlength: '1000', required: true, autocomplete: 'off' }),
      h('button', { type: 'submit', class: 'secondary' }, 'Reply'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      live.send({ op: 'message', text: form.elements.text.value });
      form.reset();
    });
    chat = h('section', { id: 'chat', class: 'chat', 'aria-label': 'Messages from the shop' },
      h('div', { class: 'spread' }, h('strong', {}, 'The shop'),
        h('button', { type: 'button', class: 'link', onclick: () => chat.remove() }, 'Close')),
      h('ol', { role: 'log', 'aria-live': 'polite' }), form);
    notices.append(chat);
  }
  chat.querySelector('ol').append(h('li', { class: `from-${message.from || 'shop'}` },
    h('span', { class: 'visually-hidden' }, message.from === 'shopper' ? 'You: ' : 'The shop: '), message.text));
}

function showOffer(offer) {
  const words = offer.kind === 'percent' ? `${offer.value} % off` : offer.kind === 'free_shipping' ? 'free shipping'
    : `${money(offer.value)} off`;
  const box = h('div', { class: 'offer', role: 'status', 'data-offer': offer.code },
    h('p', {}, h('strong', {}, 'An offer for you: '), `${words} with code ${offer.code}`),
    h('button', { type: 'button', onclick: () => { live.send({ op: 'accept_offer', code: offer.code }); box.remove(); } }, 'Use it'));
  notices.append(box);
}

// ---------------------------------------------------------------- availability

function availabilityText(units) {
  if (units <= 0) return ['Sold out', 'availability sold-out'];
  if (units === 1) return ['Last one', 'availability in-stock'];
  return [`${units} in stock`, 'availability in-stock'];
}

function availabilityBadge(sku, units) {
  availability.set(sku, units);
  const [text, className] = availabilityText(units);
  return h('span', { class: className, 'data-availability': sku }, text);
}

function watchStock(skus) {
  live.subscribe(skus.map((sku) => `stock:${sku}`), (event) => {
    if (event.type !== 'stock.changed') return;
    const { sku, available } = event.data;
    availability.set(sku, available);
    const [text, className] = availabilityText(available);
    for (const badge of document.querySelectorAll(`[data-availability="${CSS.escape(sku)}"]`)) {
      badge.textContent = text;
      badge.className = className;
    }
    for (const button of document.querySelectorAll(`button[data-add="${CSS.escape(sku)}"]`)) button.disabled = available <= 0;
  });
}

function addButton(sku, units) {
  return h('button', { type: 'button', 'data-add': sku, disabled: units <= 0, onclick: () => addToCart(sku) }, 'Add to basket');
}

// ---------------------------------------------------------------- views

async function showCatalogue() {
  track('page.viewed', { path: location.pathname, title: 'Catalogue' });
  const page = await api('GET', '/v1/products?limit=50');
  const skus = [];
  const cards = page.items.map((product) => {
    const variant = product.variants[0];
    if (!variant) return null;
    skus.push(...product.variants.map((v) => v.sku));
    return h('article', { class: 'card product' },
      h('h2', {}, h('a', { href: `?product=${encodeURIComponent(product.id)}` }, product.title)),
      h('p', { class: 'price' }, money(variant.price)),
      h('p', {}, availabilityBadge(variant.sku, variant.available)),
      addButton(variant.sku, variant.available));
  });
  view.replaceChildren(h('h2', {}, 'Products'),
    page.items.length ? h('div', { class: 'grid' }, cards) : h('p', { class: 'muted' }, 'Nothing for sale yet.'));
  watchStock(skus);
}

async function showProduct(id) {
  const product = await api('GET', `/v1/products/${encodeURIComponent(id)}`);
  track('product.viewed', { product_id: product.id });
  document.title = product.title;
  view.replaceChildren(h('article', { class: 'product' },
    h('p', {}, h('a', { href: './' }, '← All products')),
    h('h2', {}, product.title),
    product.description ? h('p', {}, product.description) : null,
    h('table', {}, h('tbody', {}, product.variants.map((variant) => h('tr', {},
      h('td', {}, variant.title || variant.sku),
      h('td', { class: 'price' }, money(variant.price)),
      h('td', {}, availabilityBadge(variant.sku, variant.available)),
      h('td', {}, addButton(variant.sku, variant.available))))))));
  watchStock(product.variants.map((v) => v.sku));
}

async function showTracking(token) {
  track('page.viewed', { path: location.pathname, title: 'Order tracking' });
  const render = async () => {
    const order = await api('GET', `/v1/track/${encodeURIComponent(token)}`);
    view.replaceChildren(h('section', { 'aria-labelledby': 'order-title' },
      h('h2', { id: 'order-title' }, `Order ${order.number}`),
      h('p', {}, 'Status: ', h('strong', { 'data-status': order.status }, order.status)),
      order.tracking_number ? h('p', {}, 'Tracking number: ', h('strong', { 'data-tracking-number': '' }, order.tracking_number)) : null,
      h('ul', {}, order.items.map((item) => h('li', {}, `${item.quantity} × ${item.title}`))),
      h('h3', {}, 'History'),
      h('ol', { class: 'history' }, order.history.map((step) => h('li', {}, `${step.status} — ${new Date(step.at).toLocaleString()}`)))));
  };
  await render();
  live.subscribe([`track:${token}`], () => render().catch(showError));
}

async function showProposal(token) {
  const render = async () => {
    const proposal = await api('GET', `/v1/proposals/${encodeURIComponent(token)}`);
    const open = proposal.status === 'open';
    const decide = (path, body) => async () => {
      try {
        const answer = await api('POST', `/v1/proposals/${encodeURIComponent(token)}/${path}`, body);
        if (answer.order) notice(`Thank you: order ${answer.order.number} is placed. We will call you to confirm.`);
        await render();
      } catch (error) { showError(error); }
    };
    view.replaceChildren(h('section', {},
      h('h2', {}, 'Your basket is ready'),
      h('ul', {}, proposal.items.map((item) => h('li', {}, `${item.quantity} × ${item.title} — ${money(item.unit_price)}`))),
      h('p', {}, 'Total: ', h('strong', {}, money(proposal.total))),
      h('p', {}, 'Status: ', h('strong', { 'data-status': proposal.status }, proposal.status)),
      open ? h('div', { class: 'row' },
        h('button', { type: 'button', onclick: decide('confirm') }, 'Confirm'),
        h('button', { type: 'button', class: 'secondary', onclick: decide('postpone', {}) }, 'Later'),
        h('button', { type: 'button', class: 'secondary', onclick: decide('postpone', { wishlist: true }) }, 'Add to wishlist')) : null));
  };
  await render();
}

// ---------------------------------------------------------------- basket

async function loadCart(id) {
  try {
    setCart(await api('GET', `/v1/carts/${encodeURIComponent(id)}`));
  } catch (error) {
    if (error instanceof Problem && error.status === 404) { localStorage.removeItem(CART_KEY); return; }
    throw error;
  }
}

function setCart(next) {
  const fresh = !cart || cart.id !== next.id;
  cart = next;
  if (cart.status === 'completed') {
    localStorage.removeItem(CART_KEY);
  } else {
    localStorage.setItem(CART_KEY, cart.id);
  }
  if (fresh) {
    live.subscribe([`cart:${cart.id}`], () => loadCart(cart.id).catch(showError));
    live.send(hello());
  }
  renderCart();
}

async function ensureCart() {
  if (cart && (cart.status === 'active' || cart.status === 'expired')) return cart;
  setCart(await api('POST', '/v1/carts', { channel: 'online' }));
  return cart;
}

async function addToCart(sku) {
  try {
    const current = await ensureCart();
    setCart(await api('POST', `/v1/carts/${current.id}/lines`, { sku, quantity: 1 }));
    openCart(true);
  } catch (error) {
    if (error instanceof Problem && error.code === 'insufficient_stock') {
      notice('Sorry, that has just sold out.', 'error');
    } else {
      showError(error);
    }
  }
}

function openCart(open) {
  cartPanel.hidden = !open;
  cartButton.setAttribute('aria-expanded', String(open));
  if (open) cartPanel.querySelector('button, a')?.focus();
}

function renderCart() {
  const lines = cart?.lines || [];
  document.getElementById('cart-count').textContent = String(lines.reduce((sum, line) => sum + line.quantity, 0));
  clearInterval(countdown);
  if (!cart || !lines.length) {
    cartPanel.replaceChildren(h('div', { class: 'spread' }, h('h2', {}, 'Basket'), closeButton()), h('p', { class: 'muted' }, 'Your basket is empty.'));
    return;
  }
  const timer = h('p', { class: 'countdown', 'data-countdown': '' });
  const tick = () => {
    if (cart.status === 'expired') {
      timer.textContent = 'Your basket expired and its items were released. Add them again to hold them.';
      return;
    }
    const left = Math.max(0, Math.round((Date.parse(cart.expires_at) - Date.now()) / 1000));
    timer.textContent = `Held for you for ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  };
  tick();
  countdown = setInterval(tick, 1000);
  cartPanel.replaceChildren(
    h('div', { class: 'spread' }, h('h2', {}, 'Basket'), closeButton()),
    timer,
    h('div', {}, lines.map((line) => h('div', { class: 'line', 'data-line': line.sku },
      h('span', {}, `${line.quantity} × ${line.title}`),
      h('span', {}, money(line.line_total)),
      h('button', { type: 'button', class: 'link', onclick: () => removeLine(line.id), 'aria-label': `Remove ${line.title}` }, 'Remove')))),
    totals(cart.totals),
    h('a', { class: 'button', href: '?checkout' }, 'Checkout'));
}

function totals(values) {
  const rows = [['Subtotal', values.subtotal], ['Discount', values.discount], ['Shipping', values.shipping], ['Tax', values.tax]]
    .filter(([, value]) => value && value.amount !== 0);
  return h('table', { class: 'totals' }, h('tbody', {},
    rows.map(([name, value]) => h('tr', {}, h('th', {}, name), h('td', {}, money(value)))),
    h('tr', {}, h('th', {}, 'Total'), h('td', { 'data-total': '' }, h('strong', {}, money(values.total))))));
}

function closeButton() {
  return h('button', { type: 'button', class: 'secondary', onclick: () => openCart(false) }, 'Close');
}

async function removeLine(lineId) {
  try { setCart(await api('DELETE', `/v1/carts/${cart.id}/lines/${lineId}`)); } catch (error) { showError(error); }
}

// ---------------------------------------------------------------- checkout

function field(name, label, attributes = {}) {
  return [h('label', { for: name }, label), h('input', { id: name, name, required: true, ...attributes })];
}

async function showCheckout() {
  track('checkout.step', { step: 'details' });
  if (!cart || !cart.lines.length) {
    view.replaceChildren(h('p', {}, 'Your basket is empty. ', h('a', { href: './' }, 'Keep shopping')));
    return;
  }
  const error = h('div', { 'aria-live': 'assertive' });
  const summary = h('div', {}, totals(cart.totals));
  const form = h('form', { novalidate: false },
    h('fieldset', {}, h('legend', {}, 'Contact and delivery'),
      field('email', 'Email', { type: 'email', autocomplete: 'email' }),
      field('name', 'Full name', { autocomplete: 'name' }),
      field('line1', 'Address', { autocomplete: 'address-line1' }),
      field('city', 'Town or city', { autocomplete: 'address-level2' }),
      field('postal_code', 'Postcode', { autocomplete: 'postal-code' }),
      field('country', 'Country code', { value: 'GB', maxlength: '2', autocomplete: 'country' })),
    h('fieldset', {}, h('legend', {}, 'Payment'),
      field('card_number', 'Card number', { inputmode: 'numeric', autocomplete: 'off', value: '4242424242424242' }),
      h('p', { class: 'muted' }, 'Test cards: ', TEST_CARDS.map(([number, what]) => `${number} ${what}`).join('; '), '.')),
    summary,
    error,
    h('button', { type: 'submit' }, 'Pay'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.replaceChildren();
    const data = Object.fromEntries(new FormData(form));
    const pay = form.querySelector('button[type=submit]');
    pay.disabled = true;
    try {
      const address = { name: data.name, line1: data.line1, city: data.city, postal_code: data.postal_code, country: data.country.toUpperCase() };
      setCart(await api('PATCH', `/v1/carts/${cart.id}`, { email: data.email, shipping_address: address, checkout_step: 'details' }));
      const methods = await api('GET', `/v1/carts/${cart.id}/shipping-methods`);
      const method = methods.items[0];
      setCart(await api('PATCH', `/v1/carts/${cart.id}`, { ...(method ? { shipping_method: method.id } : {}), checkout_step: 'payment' }));
      track('checkout.step', { step: 'payment' });
      summary.replaceChildren(totals(cart.totals));
      const order = await api('POST', `/v1/carts/${cart.id}/complete`, { payment: { method: 'test_card', card_number: data.card_number } },
        { 'Idempotency-Key': idempotencyKey() });
      localStorage.removeItem(CART_KEY);
      cart = null;
      renderCart();
      location.assign(`?track=${encodeURIComponent(order.tracking_token)}&placed=${encodeURIComponent(order.number)}`);
    } catch (problem) {
      const declined = problem instanceof Problem && problem.code === 'payment_declined';
      error.replaceChildren(h('p', { class: 'notice error', role: 'alert' },
        declined ? `Your card was declined (${problem.body.reason || problem.message}). Your basket is kept: try another card.` : problem.message));
    } finally {
      pay.disabled = false;
    }
  });
  view.replaceChildren(h('h2', {}, 'Checkout'), form);
}

// ---------------------------------------------------------------- account

function signedIn(token) {
  customerToken = token;
  setBearerToken(token);
  if (token) localStorage.setItem(TOKEN_KEY, token); else localStorage.removeItem(TOKEN_KEY);
  document.getElementById('account-link').textContent = token ? 'Account' : 'Sign in';
  if (token) live.send(hello());
}

/** Sign-in without a password: a code by email, then the code (API.md, Shopper accounts). */
function showSignIn(message) {
  track('page.viewed', { path: location.pathname, title: 'Sign in' });
  const error = h('div', { 'aria-live': 'assertive' }, message ? h('p', { class: 'notice', role: 'status' }, message) : null);
  const emailForm = h('form', {},
    field('email', 'Email', { type: 'email', autocomplete: 'email' }),
    h('button', { type: 'submit' }, 'Email me a code'));
  emailForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const email = emailForm.elements.email.value.trim();
    try {
      await api('POST', '/v1/auth/code', { email });
      showCodeForm(email);
    } catch (problem) { error.replaceChildren(h('p', { class: 'notice error', role: 'alert' }, problem.message)); }
  });
  view.replaceChildren(h('h2', {}, 'Sign in'), h('p', {}, 'We email you a code: no password to remember.'), error, emailForm);
}

function showCodeForm(email) {
  const error = h('div', { 'aria-live': 'assertive' });
  const form = h('form', {},
    field('code', 'The 6-digit code we emailed you', { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6' }),
    error,
    h('button', { type: 'submit' }, 'Sign in'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const session = await api('POST', '/v1/auth/session', { email, code: form.elements.code.value.trim() });
      signedIn(session.token);
      history.replaceState(null, '', '?account');
      await showAccount();
    } catch (problem) {
      form.elements.code.value = '';
      error.replaceChildren(h('p', { class: 'notice error', role: 'alert' },
        problem instanceof Problem && problem.status < 500 ? 'That code is not right, or it expired: try again or ask for a new one.' : problem.message));
    }
  });
  view.replaceChildren(h('h2', {}, 'Sign in'), h('p', {}, `We sent a code to ${email}. It works for 10 minutes.`), form,
    h('button', { type: 'button', class: 'link', onclick: () => showSignIn() }, 'Use another email'));
  form.elements.code.focus();
}

async function showAccount() {
  if (!customerToken) return showSignIn();
  let me;
  try {
    me = await api('GET', '/v1/me');
  } catch (error) {
    if (error instanceof Problem && error.status === 401) { signedIn(null); return showSignIn('Your sign-in has ended: sign in again.'); }
    throw error;
  }
  track('page.viewed', { path: location.pathname, title: 'Account' });
  const orders = await api('GET', '/v1/me/orders?limit=20');
  const pass = h('figure', { class: 'qr', id: 'pass' });
  const consent = (channel, label) => {
    const box = h('input', { type: 'checkbox', id: `consent-${channel}`, checked: me.consent[channel].state === 'subscribed' });
    box.addEventListener('change', async () => {
      try {
        await api('PUT', `/v1/me/consent/${channel}`, { state: box.checked ? 'subscribed' : 'unsubscribed' });
      } catch (error) { box.checked = !box.checked; showError(error); }
    });
    return h('div', { class: 'row' }, box, h('label', { for: `consent-${channel}`, class: 'inline-label' }, label));
  };
  view.replaceChildren(h('section', { 'aria-labelledby': 'account-title' },
    h('div', { class: 'spread' }, h('h2', { id: 'account-title' }, `Hello ${me.first_name || me.email}`),
      h('button', { type: 'button', class: 'secondary', onclick: signOut }, 'Sign out')),
    h('h3', {}, 'Your pass'),
    h('p', { class: 'muted' }, 'Show it at the till so the shop knows it is you.'),
    pass,
    h('h3', {}, 'Your orders'),
    orders.items.length ? h('ul', { id: 'my-orders' }, orders.items.map((order) => h('li', {},
      h('a', { href: `?track=${encodeURIComponent(order.tracking_token)}` }, order.number), ` — ${order.status}, ${money(order.totals.total)}`)))
      : h('p', { class: 'muted' }, 'No orders yet.'),
    h('h3', {}, 'What we may send you'),
    consent('email', 'News and offers by email'),
    consent('sms', 'Offers by text message'),
    consent('push', 'Notifications in this browser'),
    pushControls()));
  await renderPass(pass);
}

/** The pass is short-lived: it is drawn again a little before it expires, while the page is open. */
async function renderPass(figure) {
  if (!document.body.contains(figure)) return;
  const { pass, expires_at: expiresAt } = await api('GET', '/v1/me/pass');
  figure.replaceChildren(qrSVG(pass, 'Your pass as a QR code'), h('figcaption', { class: 'muted' }, `Valid until ${new Date(expiresAt).toLocaleTimeString()}`));
  figure.dataset.pass = pass;
  const renew = Math.max(5000, Date.parse(expiresAt) - Date.now() - 10000);
  setTimeout(() => renderPass(figure).catch(showError), renew);
}

async function signOut() {
  try { await api('DELETE', '/v1/auth/session'); } catch (error) { console.warn(error); }
  signedIn(null);
  showSignIn('You are signed out.');
}

// ---------------------------------------------------------------- Web Push

/** `applicationServerKey` wants bytes; the server gives base64url. */
function base64urlBytes(text) {
  const base64 = text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function pushControls() {
  if (!('serviceWorker' in navigator) || !('PushManager' in window)) return h('p', { class: 'muted' }, 'This browser cannot take notifications.');
  const status = h('p', { class: 'muted', 'data-push-status': '' });
  return h('div', {}, h('button', { type: 'button', class: 'secondary', onclick: () => enablePush(status) }, 'Turn on notifications'), status);
}

/** Registers the service worker (`sw.js` shows what the shop pushes), subscribes with the shop's VAPID key and tells the shop. */
async function enablePush(status) {
  try {
    const registration = await navigator.serviceWorker.register('sw.js');
    status.textContent = 'Asking this browser…';
    if (await Notification.requestPermission() !== 'granted') {
      status.textContent = 'Notifications are blocked for this site in the browser\'s settings.';
      return;
    }
    const { public_key: key } = await api('GET', '/v1/push/key');
    const subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: base64urlBytes(key) });
    const visitor = localStorage.getItem(VISITOR_KEY);
    await api('POST', '/v1/push/subscriptions', { ...subscription.toJSON(), ...(visitor ? { visitor } : {}) });
    status.textContent = 'Notifications are on for this browser.';
  } catch (error) {
    console.warn(error);
    status.textContent = `This browser could not turn notifications on (${error.message}).`;
  }
}

// ---------------------------------------------------------------- paying for a sale at a till

/**
 * A till's sale handed to the shopper's phone (the QR code the till shows): the shopper pays here
 * with their card and shows the till the one-time PIN the payment answers with. The sale stays the
 * till's: it is not this browser's basket.
 */
async function showPay(id) {
  track('page.viewed', { path: location.pathname, title: 'Pay at the till' });
  let sale = await api('GET', `/v1/carts/${encodeURIComponent(id)}`);
  if (sale.status === 'completed') {
    view.replaceChildren(h('h2', {}, 'Paid'), h('p', {}, 'This sale is paid. Thank you!'));
    return;
  }
  const summary = h('div', { id: 'sale' });
  const renderSale = () => summary.replaceChildren(
    h('ul', {}, sale.lines.map((line) => h('li', {}, `${line.quantity} × ${line.title} — ${money(line.line_total)}`))),
    totals(sale.totals));
  renderSale();
  const error = h('div', { 'aria-live': 'assertive' });
  const form = h('form', {},
    h('label', { for: 'email' }, 'Email for your receipt (optional)'),
    h('input', { id: 'email', name: 'email', type: 'email', autocomplete: 'email' }),
    field('card_number', 'Card number', { inputmode: 'numeric', autocomplete: 'off', value: '4242424242424242' }),
    h('p', { class: 'muted' }, 'Test cards: ', TEST_CARDS.map(([number, what]) => `${number} ${what}`).join('; '), '.'),
    error,
    h('button', { type: 'submit' }, 'Pay'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.replaceChildren();
    const pay = form.querySelector('button[type=submit]');
    pay.disabled = true;
    try {
      if (form.elements.email.value) sale = await api('PATCH', `/v1/carts/${encodeURIComponent(id)}`, { email: form.elements.email.value });
      const order = await api('POST', `/v1/carts/${encodeURIComponent(id)}/complete`,
        { payment: { method: 'test_card', card_number: form.elements.card_number.value } }, { 'Idempotency-Key': idempotencyKey() });
      view.replaceChildren(h('section', { class: 'paid', role: 'status' },
        h('h2', {}, `Paid: order ${order.number}`),
        h('p', {}, 'Show this PIN at the till to take your things:'),
        h('p', { class: 'pin', 'data-pin': order.handover_pin }, order.handover_pin)));
    } catch (problem) {
      const declined = problem instanceof Problem && problem.code === 'payment_declined';
      error.replaceChildren(h('p', { class: 'notice error', role: 'alert' },
        declined ? `Your card was declined (${problem.body.reason || problem.message}): try another card.` : problem.message));
      pay.disabled = false;
    }
  });
  view.replaceChildren(h('h2', {}, 'Pay for your purchase'), summary, form);
  // The till may still scan or remove an item while the shopper looks.
  live.subscribe([`cart:${id}`], async () => {
    if (!document.getElementById('sale')) return;
    try { sale = await api('GET', `/v1/carts/${encodeURIComponent(id)}`); renderSale(); } catch (failure) { showError(failure); }
  });
}

// ---------------------------------------------------------------- start

function showError(error) {
  console.warn(error);
  notice(error instanceof Problem ? error.message : 'Something went wrong; try again.', 'error');
}

async function route() {
  const query = new URLSearchParams(location.search);
  // A token that was signed out elsewhere or expired would make every call a 401: let it go.
  if (customerToken) await api('GET', '/v1/me').catch((error) => { if (error instanceof Problem && error.status === 401) signedIn(null); });
  if (query.get('cart')) localStorage.setItem(CART_KEY, query.get('cart'));
  const stored = localStorage.getItem(CART_KEY);
  if (stored) await loadCart(stored);
  renderCart();
  if (query.get('placed')) notice(`Thank you! Order ${query.get('placed')} is placed.`);
  if (query.has('pay')) return showPay(query.get('pay'));
  if (query.has('account')) return showAccount();
  if (query.has('product')) return showProduct(query.get('product'));
  if (query.has('track')) return showTracking(query.get('track'));
  if (query.has('proposal')) return showProposal(query.get('proposal'));
  if (query.has('checkout')) return showCheckout();
  if (query.has('cart')) openCart(true);
  return showCatalogue();
}

cartButton.addEventListener('click', () => openCart(cartPanel.hidden));
document.getElementById('account-link').textContent = customerToken ? 'Account' : 'Sign in';
route().catch(showError);
