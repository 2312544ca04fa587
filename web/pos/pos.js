// The till: a salesperson signs in with the till's pos key (exchanged for a session), scans items
// with a barcode scanner (a keyboard wedge types the code and Enter into the focused field), looks the
// customer up by phone, email or the QR pass their phone shows, sees what they bought before, and
// takes payment: recorded by hand (cash, the card terminal), or handed to the customer's own phone
// by a QR code of the cart's link, after which the till enters the PIN the phone shows.
import { api, Problem, Live, h, money, idempotencyKey } from '../shared/api.js';
import { notifier, staffSession } from '../shared/staff.js';
import { qrSVG } from '../shared/qr.js';

const view = document.getElementById('view');
const nav = document.getElementById('nav');
const notice = notifier(document.getElementById('notices'));
const BARCODE = /^(?:\d{8}|\d{12,14})$/;

let live = null;
let cart = null;
let customer = null;
let handoff = false;
let saleSection = null;
let saleBody = null;
let customerSection = null;

const staff = staffSession({
  view,
  keyLabel: 'Till key',
  keyHint: 'The pos key of this till. It is exchanged for a session and not kept in this page.',
  onStart: (session) => {
    if (session.role !== 'pos') {
      view.replaceChildren(h('h2', {}, 'Not a till key'),
        h('p', {}, 'The till sells for one shop location: sign in with a pos key. ',
          h('button', { type: 'button', class: 'link', onclick: () => staff.signOut() }, 'Sign out')));
      return;
    }
    document.getElementById('location').textContent = session.location ? `· ${session.location}` : '';
    nav.hidden = false;
    live = new Live();
    newSale();
  },
  onEnd: () => {
    nav.hidden = true;
    document.getElementById('location').textContent = '';
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
document.getElementById('new-sale').addEventListener('click', () => newSale());

// ---------------------------------------------------------------- the sale

function newSale() {
  cart = null;
  customer = null;
  handoff = false;
  saleBody = h('div');
  saleSection = h('section', { class: 'sale', 'aria-labelledby': 'sale-title' }, h('h2', { id: 'sale-title' }, 'Sale'), scanForm(), saleBody);
  customerSection = h('section', { class: 'customer', 'aria-labelledby': 'customer-title' });
  view.replaceChildren(h('div', { class: 'till' }, saleSection, customerSection));
  renderSale();
  renderCustomer();
  focusScan();
}

function focusScan() {
  document.getElementById('scan')?.focus();
}

function setCart(next) {
  const fresh = !cart || cart.id !== next.id;
  cart = next;
  // The phone pays on a page of its own; the till hears the cart complete on this topic.
  if (fresh) live.subscribe([`cart:${cart.id}`], () => reloadCart().catch(showError));
  renderSale();
}

async function reloadCart() {
  if (!cart) return;
  const wasActive = cart.status !== 'completed';
  setCart(await api('GET', `/v1/carts/${encodeURIComponent(cart.id)}`));
  if (wasActive && cart.status === 'completed' && handoff) notice('Paid on the phone: enter the PIN it shows.');
}

async function ensureCart() {
  if (cart && cart.status !== 'completed') return cart;
  setCart(await api('POST', '/v1/carts', { channel: 'pos', ...(customer ? { customer_id: customer.customer.id } : {}) }));
  return cart;
}

/** A scanned barcode names the variant that carries it; anything else is taken as a SKU. */
async function skuFor(code) {
  if (!BARCODE.test(code)) return code;
  const found = await api('GET', `/v1/products?barcode=${encodeURIComponent(code)}&limit=1`);
  const variant = found.items[0]?.variants.find((v) => v.barcode === code);
  return variant ? variant.sku : code;
}

async function scan(code) {
  try {
    const sku = await skuFor(code);
    const current = await ensureCart();
    setCart(await api('POST', `/v1/carts/${encodeURIComponent(current.id)}/lines`, { sku, quantity: 1 }));
  } catch (error) {
    if (error instanceof Problem && error.code === 'insufficient_stock') notice(`${code}: none left to sell.`, 'error');
    else if (error instanceof Problem && (error.status === 404 || error.status === 422)) notice(`${code}: no such item.`, 'error');
    else showError(error);
  }
  focusScan();
}

/** The scan field stays put while the lines around it change, so a scanner's next code lands in it. */
function scanForm() {
  const form = h('form', { class: 'inline scan', autocomplete: 'off' },
    h('label', { for: 'scan' }, 'Scan or type a barcode or SKU'),
    h('input', { id: 'scan', name: 'code', required: true, enterkeyhint: 'done' }),
    h('button', { type: 'submit', class: 'secondary' }, 'Add'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const code = form.elements.code.value.trim();
    form.elements.code.value = '';
    if (code) scan(code);
  });
  return form;
}

function renderSale() {
  const lines = cart?.lines || [];
  for (const control of saleSection.querySelectorAll('form.scan input, form.scan button')) control.disabled = handoff;
  const table = lines.length ? h('table', { class: 'lines' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col' }, 'Qty'), h('th', { scope: 'col' }, 'Total'), h('th', {}, h('span', { class: 'visually-hidden' }, 'Remove')))),
    h('tbody', {}, lines.map((line) => h('tr', { 'data-line': line.sku },
      h('td', {}, line.title, h('br'), h('span', { class: 'muted' }, line.sku)),
      h('td', {}, line.quantity),
      h('td', {}, money(line.line_total)),
      h('td', {}, handoff ? '' : h('button', { type: 'button', class: 'link', 'aria-label': `Remove ${line.title}`, onclick: () => removeLine(line.id) }, 'Remove'))))))
    : h('p', { class: 'muted' }, 'Nothing scanned yet.');
  saleBody.replaceChildren(table, ...(lines.length ? [totals(cart.totals), paymentPanel()] : []));
}

function totals(values) {
  const rows = [['Subtotal', values.subtotal], ['Discount', values.discount], ['Tax', values.tax]].filter(([, value]) => value && value.amount !== 0);
  return h('table', { class: 'totals' }, h('tbody', {},
    rows.map(([name, value]) => h('tr', {}, h('th', { scope: 'row' }, name), h('td', {}, money(value)))),
    h('tr', {}, h('th', { scope: 'row' }, 'Total'), h('td', { 'data-total': '' }, h('strong', {}, money(values.total))))));
}

async function removeLine(lineId) {
  try { setCart(await api('DELETE', `/v1/carts/${encodeURIComponent(cart.id)}/lines/${encodeURIComponent(lineId)}`)); } catch (error) { showError(error); }
  focusScan();
}

// ---------------------------------------------------------------- payment

function paymentPanel() {
  if (handoff) return handoffPanel();
  return h('div', { class: 'row pay' },
    h('button', { type: 'button', onclick: takeManualPayment }, 'Paid at the till'),
    h('button', { type: 'button', class: 'secondary', onclick: () => { handoff = true; renderSale(); document.getElementById('pin')?.focus(); } }, 'Pay on their phone'));
}

async function takeManualPayment() {
  try {
    const order = await api('POST', `/v1/carts/${encodeURIComponent(cart.id)}/complete`, { payment: { method: 'manual', reference: 'till' } },
      { 'Idempotency-Key': idempotencyKey() });
    finished(order, 'paid at the till');
  } catch (error) { showError(error); }
}

/** The cart's link as a QR code for the customer's phone, and the PIN that phone shows once paid. */
function handoffPanel() {
  const link = new URL(`../shop/?pay=${encodeURIComponent(cart.id)}`, location.href).href;
  const paid = cart.status === 'completed';
  const form = h('form', { class: 'inline' },
    h('label', { for: 'pin' }, 'PIN from their phone'),
    h('input', { id: 'pin', name: 'pin', inputmode: 'numeric', pattern: '[0-9]{6}', maxlength: '6', autocomplete: 'off', required: true }),
    h('button', { type: 'submit' }, 'Hand over'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      finished(await api('POST', '/v1/pos/handover', { pin: form.elements.pin.value.trim(), cart_id: cart.id }), 'handed over');
    } catch (error) {
      form.elements.pin.value = '';
      if (error instanceof Problem && error.code === 'conflict') notice('That PIN does not match a payment for this sale: check it and try again.', 'error');
      else showError(error);
    }
  });
  return h('div', { class: 'handoff' },
    h('p', {}, paid ? h('strong', { 'data-handoff-status': 'paid' }, 'Paid on the phone.') : h('span', { 'data-handoff-status': 'waiting' }, 'Waiting for payment on their phone.'),
      ' Scan the code with their camera, or open the link.'),
    h('figure', { class: 'qr', id: 'handoff-qr' }, qrSVG(link, 'QR code of the link to pay for this sale'), h('figcaption', {}, h('code', { 'data-handoff-link': '' }, link))),
    form,
    paid ? null : h('button', { type: 'button', class: 'link', onclick: () => { handoff = false; renderSale(); focusScan(); } }, 'Back to the sale'));
}

function finished(order, how) {
  const receipt = h('div', { class: 'card done', 'data-order': order.number, role: 'status' },
    h('h3', {}, `Order ${order.number} ${how}`),
    h('p', {}, 'Status: ', h('strong', { 'data-order-status': '' }, order.status), ` · ${money(order.totals.total)}`),
    h('button', { type: 'button', onclick: () => newSale() }, 'Next sale'));
  for (const control of saleSection.querySelectorAll('form.scan input, form.scan button')) control.disabled = true;
  saleBody.replaceChildren(receipt);
  receipt.querySelector('button').focus();
}

// ---------------------------------------------------------------- the customer

function renderCustomer(message) {
  const form = h('form', { class: 'inline', role: 'search' },
    h('label', { for: 'lookup-by' }, 'Find a customer by'),
    h('select', { id: 'lookup-by', name: 'by' }, ['phone', 'email', 'pass'].map((by) => h('option', { value: by }, by))),
    h('label', { class: 'visually-hidden', for: 'lookup' }, 'Phone, email or pass'),
    h('input', { id: 'lookup', name: 'value', required: true, placeholder: '+44…, name@…, or the pass', autocomplete: 'off' }),
    h('button', { type: 'submit', class: 'secondary' }, 'Find'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    lookUp(form.elements.by.value, form.elements.value.value.trim()).catch(showError);
  });
  customerSection.replaceChildren(...[
    h('h2', { id: 'customer-title' }, 'Customer'),
    form,
    'BarcodeDetector' in window ? h('button', { type: 'button', class: 'link', onclick: scanPass }, 'Scan their pass with the camera') : null,
    message ? h('p', { class: 'notice', role: 'status' }, message) : null,
    customer ? profile(customer) : null].filter(Boolean));
}

async function lookUp(by, value) {
  try {
    customer = await api('GET', `/v1/customers/lookup?${by}=${encodeURIComponent(value)}`);
    if (cart && cart.status !== 'completed') setCart(await api('PATCH', `/v1/carts/${encodeURIComponent(cart.id)}`, { customer_id: customer.customer.id }));
    renderCustomer();
    await showViewed(customer.recently_viewed);
  } catch (error) {
    if (!(error instanceof Problem) || (error.status !== 404 && error.status !== 422)) throw error;
    customer = null;
    renderCustomer(error.status === 404 && by !== 'pass' ? null : error.message);
    if (error.status === 404 && by !== 'pass') offerToAdd(by, value);
  }
}

/** Nobody has that phone or email yet: one click makes them a customer of this sale. */
function offerToAdd(by, value) {
  const add = h('div', { class: 'notice', role: 'status' }, `No customer has ${value}. `,
    h('button', { type: 'button', class: 'secondary', onclick: async () => {
      try {
        await api('POST', '/v1/customers', { [by]: value });
        await lookUp(by, value);
      } catch (error) { showError(error); }
    } }, 'Add them as a customer'));
  customerSection.append(add);
}

function profile(found) {
  const person = found.customer;
  const name = [person.first_name, person.last_name].filter(Boolean).join(' ') || person.email || person.phone;
  const stats = person.stats || {};
  return h('article', { class: 'card', 'data-customer': person.id },
    h('h3', {}, name),
    h('p', { class: 'muted' }, [person.email, person.phone].filter(Boolean).join(' · ')),
    h('p', {}, `${stats.orders_count ?? 0} order${stats.orders_count === 1 ? '' : 's'}, ${money(stats.total_spent) || '—'} in all`,
      stats.last_order_at ? `, last on ${new Date(stats.last_order_at).toLocaleDateString()}` : ''),
    person.preferences?.attributes && Object.keys(person.preferences.attributes).length
      ? h('p', {}, 'Usually buys: ', Object.entries(person.preferences.attributes).map(([key, values]) => `${key} ${values.join('/')}`).join(', ')) : null,
    h('h4', {}, 'Bought before'),
    found.recent_orders.length ? h('ul', { class: 'history', id: 'customer-orders' }, found.recent_orders.map((order) => h('li', { 'data-order': order.number },
      h('strong', {}, order.number), ` ${new Date(order.created_at).toLocaleDateString()} · ${order.channel} · ${money(order.total)}: `,
      order.lines.map((line) => `${line.quantity} × ${line.title}`).join(', ')))) : h('p', { class: 'muted' }, 'No orders yet.'),
    h('h4', {}, 'Looked at online'),
    h('ul', { id: 'customer-viewed' }, h('li', { class: 'muted' }, found.recently_viewed.length ? 'Loading…' : 'Nothing lately.')),
    found.open_carts.length ? h('p', {}, `${found.open_carts.length} open basket${found.open_carts.length === 1 ? '' : 's'} online, `,
      found.open_carts.map((open) => open.lines.map((line) => `${line.quantity} × ${line.title}`).join(', ')).join('; ')) : null);
}

/** What they viewed online, by title, so the till can offer it at once. */
async function showViewed(views) {
  const list = document.getElementById('customer-viewed');
  if (!list || !views.length) return;
  const unique = [...new Set(views.map((viewed) => viewed.product_id))].slice(0, 5);
  const products = await Promise.all(unique.map((id) => api('GET', `/v1/products/${encodeURIComponent(id)}`).catch(() => null)));
  list.replaceChildren(...products.filter(Boolean).map((product) => h('li', {}, product.title, ' ',
    h('span', { class: 'muted' }, product.variants.map((variant) => `${variant.title || variant.sku}: ${variant.available} online`).join(', ')))));
}

/** The pass QR from their phone, read by the camera where the browser can detect barcodes. */
async function scanPass() {
  let stream = null;
  const video = h('video', { playsinline: true, muted: true, 'aria-label': 'Camera' });
  const stop = () => { stream?.getTracks().forEach((track) => track.stop()); video.remove(); };
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
    video.srcObject = stream;
    customerSection.append(video);
    await video.play();
    const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
    for (let tries = 0; tries < 300; tries++) {
      const [code] = await detector.detect(video);
      if (code) { stop(); await lookUp('pass', code.rawValue); return; }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    stop();
    notice('No pass seen: type it in instead.', 'error');
  } catch (error) {
    stop();
    showError(error);
  }
}
