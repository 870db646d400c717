import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIdGenerator, recordAttemptSucceeded } from '../../src/gateway/index.js';
import { createOperator, listAudit } from '../../src/gateway/core/operators.js';
import { api, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';
import { createSession, inlineItem, openPage, pagePathOf } from '../support/checkout-support.js';
import { csrfTokenIn, DashboardClient } from '../support/dashboard-client.js';

const PASSWORD = 'correct horse battery';

function idsOf(page: string, testId: string): string[] {
  return [...page.matchAll(new RegExp(`data-testid="${testId}" data-id="([^"]+)"`, 'g'))].map((match) => match[1] as string);
}

function pagerLink(page: string, rel: 'next' | 'prev'): string | null {
  const match = new RegExp(`rel="${rel}" data-testid="page-(?:next|previous)" href="([^"]+)"`).exec(page);
  return match?.[1]?.replaceAll('&amp;', '&') ?? null;
}

function rowOf(page: string, testId: string, id: string): string {
  const start = page.indexOf(`data-testid="${testId}" data-id="${id}"`);
  assert.ok(start >= 0, `${id} is listed`);
  return page.slice(start, page.indexOf('</tr>', start));
}

/**
 * The dashboard's Checkout sessions and Products pages (issue 11): lists with status filters and
 * keyset paging, a session with its line items, payment and hosted page, a product with all its
 * prices — and none of it reachable from another account or the other mode.
 */
describe('dashboard checkout sessions and products', () => {
  let gw: TestGateway;
  let otherKey = '';
  const made = { tea: '', teaPrice: '', teaSmall: '', teapot: '', teapotPrices: [] as string[], mug: '', open: '', openIntent: '', openUrl: '', expired: '', complete: '', completeIntent: '' };
  const post = async (path: string, json: Record<string, unknown>, key = gw.secretKey) => {
    const answer = await api(gw, 'POST', path, { key, json });
    assert.equal(answer.status, 200, answer.text);
    return answer.body;
  };

  async function signedIn(email: string): Promise<DashboardClient> {
    const client = new DashboardClient(gw);
    assert.equal((await client.signIn(email, PASSWORD)).status, 303);
    assert.equal((await client.get('/dashboard?lang=en')).status, 200);
    return client;
  }

  before(async () => {
    gw = await startTestGateway();
    const deps = { database: gw.database, clock: gw.clock, ids: createIdGenerator(gw.clock) };
    const other = await gw.newAccount();
    otherKey = other.test.secretKey;
    await createOperator(deps, { accountId: gw.accountId, email: 'admin@tea.test', password: PASSWORD, role: 'admin', liveAccess: true });
    await createOperator(deps, { accountId: other.accountId, email: 'admin@other.test', password: PASSWORD, role: 'admin', liveAccess: false });
    await createOperator(deps, { accountId: gw.accountId, email: 'viewer@tea.test', password: PASSWORD, role: 'viewer', liveAccess: false });

    made.tea = (await post('/v1/products', { name: 'Longjing tea', description: '250 g tin' })).id;
    made.teaPrice = (await post('/v1/prices', { product: made.tea, unit_amount: 12800, currency: 'cny', lookup_key: 'tea_250' })).id;
    made.teaSmall = (await post('/v1/prices', { product: made.tea, unit_amount: 6800, currency: 'cny', nickname: 'small tin' })).id;
    made.teapot = (await post('/v1/products', { name: 'Yixing teapot' })).id;
    for (const amount of [10000, 11000, 12000, 13000, 14000, 15000]) made.teapotPrices.push((await post('/v1/prices', { product: made.teapot, unit_amount: amount, currency: 'cny' })).id);
    made.teapotPrices.push((await post('/v1/prices', { product: made.teapot, unit_amount: 900, currency: 'cny', recurring: { interval: 'month' } })).id);
    made.mug = (await post('/v1/products', { name: 'Old mug', active: false })).id;
    await post('/v1/products', { name: 'Their product' }, otherKey);

    const open = await createSession(gw, {
      mode: 'payment', success_url: 'https://tea.test/ok', cancel_url: 'https://tea.test/cart', customer_email: 'li@tea.test', client_reference_id: 'order-7',
      metadata: { channel: 'wechat' }, line_items: [{ price: made.teaPrice, quantity: 2 }, inlineItem('Gift box', 1500)],
    });
    assert.equal(open.status, 200, open.text);
    Object.assign(made, { open: open.body.id, openIntent: open.body.payment_intent, openUrl: open.body.url });
    const expired = await createSession(gw, { mode: 'payment', success_url: 'https://tea.test/ok', line_items: [{ price: made.teaSmall, quantity: 1 }] });
    made.expired = expired.body.id;
    await post(`/v1/checkout/sessions/${made.expired}/expire`, {});
    const complete = await createSession(gw, { mode: 'payment', success_url: 'https://tea.test/ok', line_items: [{ price: made.teaSmall, quantity: 3 }] });
    Object.assign(made, { complete: complete.body.id, completeIntent: complete.body.payment_intent });
    assert.equal((await openPage(gw, pagePathOf(complete.body.url))).status, 200);
    const call = gw.connector.payCalls.at(-1);
    assert.equal(call?.paymentIntentId, made.completeIntent);
    assert.equal((await recordAttemptSucceeded(gw.running.app.core, call.paymentRequestId, { externalPaymentId: 'ext-1', buyerId: 'buyer-1', wallet: 'ALIPAY_CN' })).kind, 'recorded');
    await createSession(gw, { mode: 'payment', success_url: 'https://other.test/ok', line_items: [inlineItem('Theirs', 100)] }, otherKey);
  });
  after(async () => {
    await gw?.stop();
  });

  it('lists checkout sessions newest first, by status, a page at a time', async () => {
    const admin = await signedIn('admin@tea.test');
    const all = await admin.get('/dashboard/checkout_sessions');
    assert.equal(all.status, 200, all.text);
    assert.deepEqual(idsOf(all.text, 'session-row'), [made.complete, made.expired, made.open]);
    assert.match(all.text, /data-testid="nav-checkout" href="\/dashboard\/checkout_sessions" aria-current="page"/);
    const openRow = rowOf(all.text, 'session-row', made.open);
    assert.match(openRow, />CNY 271\.00</, '2 × 128.00 + 15.00');
    assert.match(openRow, /data-status="open">Open<.*data-status="unpaid">Unpaid</s);
    assert.match(openRow, /li@tea\.test/);
    assert.match(openRow, /order-7/);
    assert.match(rowOf(all.text, 'session-row', made.complete), /data-status="complete">Complete<.*data-status="paid">Paid</s);
    for (const [status, expected] of [['open', [made.open]], ['complete', [made.complete]], ['expired', [made.expired]]] as const) {
      const page = await admin.get(`/dashboard/checkout_sessions?status=${status}`);
      assert.deepEqual(idsOf(page.text, 'session-row'), expected, status);
      assert.match(page.text, new RegExp(`<option value="${status}" selected>`));
    }
    const first = await admin.get('/dashboard/checkout_sessions?limit=2');
    assert.deepEqual(idsOf(first.text, 'session-row'), [made.complete, made.expired]);
    const second = await admin.get(pagerLink(first.text, 'next') ?? 'no next link');
    assert.deepEqual(idsOf(second.text, 'session-row'), [made.open]);
    assert.equal(pagerLink(second.text, 'next'), null);
    const back = await admin.get(pagerLink(second.text, 'prev') ?? 'no previous link');
    assert.deepEqual(idsOf(back.text, 'session-row'), [made.complete, made.expired]);
    assert.equal(pagerLink(back.text, 'prev'), null);
    const bad = await admin.get('/dashboard/checkout_sessions?status=paid');
    assert.equal(bad.status, 400);
    assert.match(bad.text.replaceAll('&#39;', "'"), /Invalid status 'paid'/);
  });

  it('shows a session: amounts, line items, status, its payment, the hosted page while open, and the expiry', async () => {
    const admin = await signedIn('admin@tea.test');
    const session = (await api(gw, 'GET', `/v1/checkout/sessions/${made.open}`, { key: gw.secretKey })).body;
    const page = await admin.get(`/dashboard/checkout_sessions/${made.open}`);
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /data-testid="session-total">CNY 271\.00</);
    assert.match(page.text, /data-testid="session-subtotal">CNY 271\.00</);
    assert.match(page.text, /data-testid="session-status"><span class="badge warn" data-status="open">Open</);
    assert.match(page.text, new RegExp(`href="/dashboard/payments/${made.openIntent}" data-testid="payment-link">${made.openIntent}<`));
    assert.ok(page.text.includes(`data-testid="hosted-page-url">${made.openUrl.replaceAll('&', '&amp;')}<`), 'the hosted page URL while open');
    assert.match(page.text, new RegExp(`data-testid="session-expires"><time datetime="${new Date(session.expires_at).toISOString()}"`));
    assert.match(page.text, /channel: wechat/);
    const lines = idsOf(page.text, 'line-item');
    assert.equal(lines.length, 2);
    const tea = rowOf(page.text, 'line-item', lines[0] as string);
    assert.match(tea, new RegExp(`href="/dashboard/products/${made.tea}">Longjing tea</a>`));
    assert.match(tea, /CNY 128\.00.*data-field="quantity">2<.*data-minor="25600">CNY 256\.00</s);
    assert.match(rowOf(page.text, 'line-item', lines[1] as string), /Gift box.*data-field="quantity">1<.*CNY 15\.00/s);

    const done = await admin.get(`/dashboard/checkout_sessions/${made.complete}`);
    assert.match(done.text, /data-status="complete">Complete/);
    assert.match(done.text, /data-testid="session-payment-status"><span class="badge ok" data-status="paid">Paid/);
    assert.match(done.text, /data-testid="hosted-page-closed"/);
    assert.doesNotMatch(done.text, /data-testid="hosted-page-url"/);
    assert.match(done.text, /data-status="succeeded">succeeded</, 'its PaymentIntent succeeded');
  });

  it('lists products with their prices, and a product with all of them', async () => {
    const admin = await signedIn('admin@tea.test');
    const list = await admin.get('/dashboard/products');
    assert.equal(list.status, 200, list.text);
    const listed = idsOf(list.text, 'product-row');
    // The session's inline price_data made a real product too (api.md §6), after the others.
    assert.deepEqual(listed.slice(1), [made.mug, made.teapot, made.tea]);
    const gift = listed[0] as string;
    assert.match(rowOf(list.text, 'product-row', gift), /Gift box.*CNY 15\.00/s);
    const tea = rowOf(list.text, 'product-row', made.tea);
    assert.match(tea, /Longjing tea.*250 g tin.*data-status="active">Active/s);
    assert.deepEqual(idsOf(tea, 'price'), [made.teaSmall, made.teaPrice]);
    assert.match(tea, /CNY 68\.00.*CNY 128\.00/s);
    assert.doesNotMatch(tea, /more-prices/);
    const teapot = rowOf(list.text, 'product-row', made.teapot);
    assert.deepEqual(idsOf(teapot, 'price'), made.teapotPrices.slice(-5).reverse(), 'the five newest prices');
    assert.match(teapot, /CNY 9\.00 · Every month/);
    assert.match(teapot, new RegExp(`href="/dashboard/products/${made.teapot}" data-testid="more-prices"`));
    assert.match(rowOf(list.text, 'product-row', made.mug), /data-status="disabled">Archived/);
    assert.deepEqual(idsOf((await admin.get('/dashboard/products?active=false')).text, 'product-row'), [made.mug]);
    assert.deepEqual(idsOf((await admin.get('/dashboard/products?active=true')).text, 'product-row'), [gift, made.teapot, made.tea]);
    assert.equal((await admin.get('/dashboard/products?active=maybe')).status, 400);

    const product = await admin.get(`/dashboard/products/${made.teapot}`);
    assert.equal(product.status, 200, product.text);
    assert.match(product.text, /data-testid="product-name">Yixing teapot</);
    assert.deepEqual(idsOf(product.text, 'price'), [...made.teapotPrices].reverse(), 'every price, newest first');
    const paged = await admin.get(`/dashboard/products/${made.teapot}?limit=4`);
    assert.deepEqual(idsOf(paged.text, 'price'), [...made.teapotPrices].reverse().slice(0, 4));
    const rest = await admin.get(pagerLink(paged.text, 'next') ?? 'no next link');
    assert.deepEqual(idsOf(rest.text, 'price'), [...made.teapotPrices].reverse().slice(4));
    const teaPage = await admin.get(`/dashboard/products/${made.tea}`);
    assert.match(rowOf(teaPage.text, 'price', made.teaPrice), /tea_250/);
    assert.match(rowOf(teaPage.text, 'price', made.teaSmall), /small tin/);
    assert.equal((await admin.get(`/dashboard/products/${made.tea}?starting_after=${made.teapotPrices[0]}`)).status, 400, 'another product\'s price is no cursor here');
  });

  it('keeps accounts and modes apart: another account\'s session and product are 404 by URL', async () => {
    const stranger = await signedIn('admin@other.test');
    assert.equal((await stranger.get(`/dashboard/checkout_sessions/${made.open}`)).status, 404);
    assert.equal((await stranger.get(`/dashboard/products/${made.tea}`)).status, 404);
    const sessions = await stranger.get('/dashboard/checkout_sessions');
    assert.equal(idsOf(sessions.text, 'session-row').length, 1, 'only their own');
    assert.ok(!idsOf(sessions.text, 'session-row').includes(made.open));
    const products = await stranger.get('/dashboard/products');
    assert.ok(!idsOf(products.text, 'product-row').some((id) => [made.tea, made.teapot, made.mug].includes(id)));
    assert.match(products.text, /Their product/);
    assert.equal((await stranger.get(`/dashboard/checkout_sessions?starting_after=${made.open}`)).status, 400);

    const admin = await signedIn('admin@tea.test');
    assert.deepEqual(idsOf((await admin.get('/dashboard/checkout_sessions?mode=live')).text, 'session-row'), []);
    assert.deepEqual(idsOf((await admin.get('/dashboard/products?mode=live')).text, 'product-row'), []);
    assert.equal((await admin.get(`/dashboard/products/${made.tea}?mode=live`)).status, 404);
    assert.equal((await admin.get(`/dashboard/checkout_sessions/${made.open}?mode=live`)).status, 404);
  });

  it('lets an admin create a product with a first price, and add a price, through the API\'s own functions, audited', async () => {
    const admin = await signedIn('admin@tea.test');
    const list = await admin.get('/dashboard/products');
    assert.match(list.text, /data-testid="new-product-form"/);
    const csrf = csrfTokenIn(list.text);
    const created = await admin.post('/dashboard/products', { csrf_token: csrf, name: 'Pu-erh cake', description: '357 g, 2019', amount: '88.5', currency: 'HKD' });
    assert.equal(created.status, 303, created.text);
    const productId = /^\/dashboard\/products\/(prod_\d{19})\?done=product_created$/.exec(created.location ?? '')?.[1];
    assert.ok(productId, created.location ?? '');
    const product = await api(gw, 'GET', `/v1/products/${productId}`, { key: gw.secretKey });
    assert.deepEqual([product.body.name, product.body.description, product.body.active], ['Pu-erh cake', '357 g, 2019', true]);
    const prices = await api(gw, 'GET', `/v1/prices?product=${productId}`, { key: gw.secretKey });
    assert.deepEqual(prices.body.data.map((price: { unit_amount: number; currency: string; type: string }) => [price.unit_amount, price.currency, price.type]), [[8850, 'HKD', 'one_time']]);
    const events = await api(gw, 'GET', '/v1/events?limit=2', { key: gw.secretKey });
    assert.deepEqual(events.body.data.map((event: { type: string }) => event.type).sort(), ['price.created', 'product.created'], 'the same events as the API');
    const shown = await admin.get(created.location ?? '');
    assert.match(shown.text, /data-testid="notice">Product created\.</);
    assert.match(shown.text, /HKD 88\.50/);

    const added = await admin.post(`/dashboard/products/${productId}/prices`, { csrf_token: csrf, amount: '1,280', currency: 'CNY', nickname: 'wholesale' });
    assert.deepEqual([added.status, added.location], [303, `/dashboard/products/${productId}?done=price_created`], added.text);
    const after = await api(gw, 'GET', `/v1/prices?product=${productId}`, { key: gw.secretKey });
    assert.deepEqual(after.body.data.map((price: { unit_amount: number; currency: string; nickname: string | null }) => [price.unit_amount, price.currency, price.nickname]), [[128000, 'CNY', 'wholesale'], [8850, 'HKD', null]]);

    const bare = await admin.post('/dashboard/products', { csrf_token: csrf, name: 'Tea towel', description: '', amount: '', currency: 'CNY' });
    assert.equal(bare.status, 303, bare.text);
    const bareId = /(prod_\d{19})/.exec(bare.location ?? '')?.[1];
    assert.deepEqual((await api(gw, 'GET', `/v1/prices?product=${bareId}`, { key: gw.secretKey })).body.data, [], 'no price asked, none made');

    const audit = (await listAudit({ database: gw.database }, gw.accountId, 50)).filter((row) => row.action.startsWith('product.') || row.action.startsWith('price.')).map((row) => row.action).reverse();
    assert.deepEqual(audit, ['product.create', 'product.create.succeeded', 'price.create', 'price.create.succeeded', 'product.create', 'product.create.succeeded']);
  });

  it('refuses a bad amount, a missing name, a viewer and another account\'s product, creating nothing', async () => {
    const admin = await signedIn('admin@tea.test');
    const count = async () => (await api(gw, 'GET', '/v1/products?limit=100', { key: gw.secretKey })).body.data.length;
    const before = await count();
    const csrf = csrfTokenIn((await admin.get('/dashboard/products')).text);
    const badAmount = await admin.post('/dashboard/products', { csrf_token: csrf, name: 'Oolong', amount: '12.345', currency: 'CNY' });
    assert.equal(badAmount.status, 400);
    assert.match(badAmount.text.replaceAll('&#39;', "'"), /data-testid="notice">Invalid amount '12\.345': give a CNY amount of 0 or more, with at most 2 decimals\.</);
    assert.match(badAmount.text, /name="name" type="text" required maxlength="250" value="Oolong"/, 'what was typed stays');
    const noName = await admin.post('/dashboard/products', { csrf_token: csrf, name: '', amount: '', currency: 'CNY' });
    assert.equal(noName.status, 400);
    assert.match(noName.text, /name/);
    const badCurrency = await admin.post(`/dashboard/products/${made.tea}/prices`, { csrf_token: csrf, amount: '10', currency: 'JPY' });
    assert.equal(badCurrency.status, 400);
    assert.match(badCurrency.text, /JPY/);
    assert.equal(await count(), before);

    const viewer = await signedIn('viewer@tea.test');
    const page = await viewer.get('/dashboard/products');
    assert.doesNotMatch(page.text, /new-product-form/);
    assert.doesNotMatch((await viewer.get(`/dashboard/products/${made.tea}`)).text, /new-price-form/);
    const viewerCsrf = csrfTokenIn(page.text);
    assert.equal((await viewer.post('/dashboard/products', { csrf_token: viewerCsrf, name: 'Sneaky', amount: '', currency: 'CNY' })).status, 403);
    assert.equal((await viewer.post(`/dashboard/products/${made.tea}/prices`, { csrf_token: viewerCsrf, amount: '1', currency: 'CNY' })).status, 403);

    const stranger = await signedIn('admin@other.test');
    const strangerCsrf = csrfTokenIn((await stranger.get('/dashboard/products')).text);
    assert.equal((await stranger.post(`/dashboard/products/${made.tea}/prices`, { csrf_token: strangerCsrf, amount: '1', currency: 'CNY' })).status, 404);
    assert.equal(await count(), before);
    const teaPrices = (await api(gw, 'GET', `/v1/prices?product=${made.tea}`, { key: gw.secretKey })).body.data.map((price: { id: string }) => price.id);
    assert.deepEqual(teaPrices, [made.teaSmall, made.teaPrice], 'no price was added to the tea');
  });
});
