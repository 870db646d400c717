import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordAttemptFailed, recordAttemptSucceeded } from '../../src/gateway/index.js';
import { expireCheckoutSessions } from '../../src/gateway/workers/checkout_sessions.js';
import { ANDROID_UA, IPHONE_UA, createSession, inlineItem, openPage, pagePathOf, seedSessionRequest } from '../support/checkout-support.js';
import { ManualClock, ScriptedConnector, api, getWithJsonBody, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

describe('Checkout Sessions (api.md §6)', () => {
  let gw: TestGateway;
  const clock = new ManualClock();
  const connector = new ScriptedConnector();
  const post = (path: string, json: unknown, key = gw.secretKey, headers: Record<string, string> = {}) => api(gw, 'POST', path, { key, json, headers });
  const get = (path: string, key = gw.secretKey) => api(gw, 'GET', path, { key });
  const eventTypes = async (id: string) =>
    (await gw.database.db.selectFrom('events').select(['id', 'type', 'data']).orderBy('id').execute())
      .filter((row) => (JSON.parse(row.data) as { object: { id: string } }).object.id === id)
      .map((row) => row.type);
  const attemptsOf = (piId: string) => gw.database.db.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', piId).orderBy('payment_request_id').execute();

  before(async () => {
    gw = await startTestGateway({ clock, connector });
  });
  after(async () => {
    await gw.stop();
  });

  describe('create', () => {
    it("accepts the seed's request as written and answers with the seed's response shape", async () => {
      const response = await createSession(gw, seedSessionRequest());
      assert.equal(response.status, 200, response.text);
      const cs = response.body;
      assert.match(cs.id, /^cs_\d{19}$/);
      assert.deepEqual(
        [cs.object, cs.created, cs.currency, cs.customer, cs.mode, cs.livemode, cs.status, cs.cancel_url, cs.success_url, cs.payment_status],
        ['checkout.session', clock.ms, 'CNY', '', 'payment', false, 'open', 'www.baidu.com', 'https://wooshpay.com/', 'unpaid'],
      );
      assert.deepEqual([cs.amount_subtotal, cs.amount_total, cs.billing_address_collection, cs.payment_link, cs.payment_method_types], [100000, 100000, 'auto', '', ['alipay']]);
      assert.equal(cs.expires_at, clock.ms + 24 * HOUR_MS, 'expires_at defaults to 24 h, in milliseconds');
      assert.match(cs.url, new RegExp(`^${gw.url}/pay/${cs.id}\\?key=pk_test_[A-Za-z0-9]{32}$`));
      assert.match(cs.payment_intent, /^pi_\d{19}$/);
      assert.match(cs.client_secret, new RegExp(`^${cs.payment_intent}_secret_[A-Za-z0-9]{24}$`));

      assert.equal(cs.line_items.object, 'list');
      assert.equal(cs.line_items.data.length, 1);
      const item = cs.line_items.data[0];
      assert.match(item.id, /^li_\d{19}$/);
      assert.deepEqual([item.object, item.currency, item.description, item.quantity, item.amount_subtotal, item.amount_total], ['item', 'CNY', 'taiwan fengli', 1, 100000, 100000]);
      const price = item.price;
      assert.match(price.id, /^price_\d{19}$/);
      assert.deepEqual(
        [price.object, price.created, price.active, price.currency, price.type, price.livemode, price.unit_amount, price.billing_scheme, price.lookup_key],
        ['price', clock.ms, true, 'CNY', 'one_time', false, 100000, 'per_unit', 'test_lookup_key'],
      );
      assert.match(price.product.id, /^prod_\d{19}$/);
      assert.deepEqual([price.product.object, price.product.created, price.product.active, price.product.name, price.product.livemode, price.product.updated], ['product', clock.ms, true, 'taiwan fengli', false, clock.ms]);

      // Inline price_data and product_data made real objects; the PaymentIntent was created with the session.
      assert.equal((await get(`/v1/prices/${price.id}`)).body.product, price.product.id);
      assert.equal((await get(`/v1/products/${price.product.id}`)).body.name, 'taiwan fengli');
      const pi = (await get(`/v1/payment_intents/${cs.payment_intent}`)).body;
      assert.deepEqual([pi.amount, pi.currency, pi.status, pi.client_secret], [100000, 'CNY', 'requires_payment_method', cs.client_secret]);
      assert.deepEqual(await eventTypes(cs.payment_intent), ['payment_intent.created']);
      assert.deepEqual(await eventTypes(price.id), ['price.created']);
      assert.deepEqual(await eventTypes(price.product.id), ['product.created']);
      assert.equal(connector.payCalls.length, 0, 'nothing reaches Alipay+ before the shopper opens the page');
    });

    it('computes amounts exactly across items and quantities, and keeps the items in order', async () => {
      const product = (await post('/v1/products', { name: 'Tea cup' })).body;
      const price = (await post('/v1/prices', { product: product.id, currency: 'cny', unit_amount: 333 })).body;
      const response = await createSession(gw, {
        mode: 'payment',
        success_url: 'https://shop.test/ok?session={CHECKOUT_SESSION_ID}',
        line_items: [{ price: price.id, quantity: 3 }, inlineItem('Sugar', 1, 2), inlineItem('Big pot', MAX_SAFE - 1001, 1)],
        client_reference_id: 'order-77',
        customer_email: 'buyer@example.com',
        metadata: { order: '77' },
        locale: 'en',
      });
      assert.equal(response.status, 200, response.text);
      const cs = response.body;
      assert.equal(cs.amount_total, MAX_SAFE, '999 + 2 + (2^53−1 − 1001) exactly');
      assert.deepEqual(cs.line_items.data.map((i: { description: string; amount_total: number; quantity: number }) => [i.description, i.quantity, i.amount_total]), [['Tea cup', 3, 999], ['Sugar', 2, 2], ['Big pot', 1, MAX_SAFE - 1001]]);
      assert.equal(cs.line_items.data[0].price.id, price.id);
      assert.deepEqual([cs.client_reference_id, cs.customer_email, cs.metadata, cs.locale], ['order-77', 'buyer@example.com', { order: '77' }, 'en']);
      const lineItems = await get(`/v1/checkout/sessions/${cs.id}/line_items`);
      assert.deepEqual(lineItems.body, cs.line_items);

      // Paged like every list: limit, starting_after, ending_before.
      const [first, second, third] = cs.line_items.data.map((i: { id: string }) => i.id);
      const page1 = (await get(`/v1/checkout/sessions/${cs.id}/line_items?limit=2`)).body;
      assert.deepEqual([page1.data.map((i: { id: string }) => i.id), page1.has_more], [[first, second], true]);
      const page2 = (await get(`/v1/checkout/sessions/${cs.id}/line_items?limit=2&starting_after=${second}`)).body;
      assert.deepEqual([page2.data.map((i: { id: string }) => i.id), page2.has_more], [[third], false]);
      const back = (await get(`/v1/checkout/sessions/${cs.id}/line_items?limit=1&ending_before=${third}`)).body;
      assert.deepEqual([back.data.map((i: { id: string }) => i.id), back.has_more], [[second], true]);
      const unknown = await get(`/v1/checkout/sessions/${cs.id}/line_items?starting_after=li_0000000000000000001`);
      assert.deepEqual([unknown.status, unknown.body.error.code, unknown.body.error.param], [404, 'resource_missing', 'starting_after']);
    });

    it('accepts a form body in bracket notation and expires_at in seconds or milliseconds', async () => {
      const seconds = Math.floor((clock.ms + 2 * HOUR_MS) / 1000);
      const form = `mode=payment&success_url=https%3A%2F%2Fshop.test%2Fok&line_items[0][price_data][currency]=hkd&line_items[0][price_data][unit_amount]=1500&line_items[0][price_data][product_data][name]=Egg%20tart&line_items[0][quantity]=4&expires_at=${seconds}`;
      const response = await api(gw, 'POST', '/v1/checkout/sessions', { key: gw.secretKey, form });
      assert.equal(response.status, 200, response.text);
      assert.deepEqual([response.body.currency, response.body.amount_total, response.body.expires_at], ['HKD', 6000, seconds * 1000]);
      const ms = await createSession(gw, { ...seedSessionRequest(), expires_at: clock.ms + 30 * MINUTE_MS });
      assert.equal(ms.body.expires_at, clock.ms + 30 * MINUTE_MS);
    });

    it('refuses every rule of §6 with a 400 naming the parameter', async () => {
      const product = (await post('/v1/products', { name: 'Subscription box' })).body;
      const recurring = (await post('/v1/prices', { product: product.id, currency: 'CNY', unit_amount: 100, recurring: { interval: 'month' } })).body;
      const archived = (await post('/v1/prices', { product: product.id, currency: 'CNY', unit_amount: 100, active: false })).body;
      const base = { mode: 'payment', success_url: 'https://shop.test/ok' };
      const cases: Array<[string, Record<string, unknown>, string, string, RegExp]> = [
        ['mode subscription', { ...base, mode: 'subscription', line_items: [inlineItem('a', 1)] }, 'parameter_invalid', 'mode', /mode=payment only/],
        ['no success_url', { mode: 'payment', line_items: [inlineItem('a', 1)] }, 'parameter_missing', 'success_url', /success_url/],
        ['javascript: success_url', { ...base, success_url: 'javascript:alert(1)', line_items: [inlineItem('a', 1)] }, 'parameter_invalid', 'success_url', /http/],
        ['no line_items', { ...base }, 'parameter_missing', 'line_items', /line_items/],
        ['empty line_items', { ...base, line_items: [] }, 'parameter_invalid', 'line_items', /at least 1/],
        ['two currencies', { ...base, line_items: [inlineItem('a', 1), inlineItem('b', 1, 1, 'USD')] }, 'parameter_invalid', 'line_items[1]', /line_items\[0\] is CNY, line_items\[1\] is USD/],
        ['recurring price', { ...base, line_items: [{ price: recurring.id, quantity: 1 }] }, 'parameter_invalid', 'line_items[0][price]', /recurring/],
        ['recurring price_data', { ...base, line_items: [{ price_data: { currency: 'CNY', unit_amount: 1, product_data: { name: 'x' }, recurring: { interval: 'month' } }, quantity: 1 }] }, 'parameter_invalid', 'line_items[0][price_data][recurring]', /one-time/],
        ['archived price', { ...base, line_items: [{ price: archived.id, quantity: 1 }] }, 'parameter_invalid', 'line_items[0][price]', /archived/],
        ['unknown price', { ...base, line_items: [{ price: 'price_0000000000000000001', quantity: 1 }] }, 'resource_missing', 'line_items[0][price]', /No such price/],
        ['price and price_data', { ...base, line_items: [{ price: archived.id, price_data: { currency: 'CNY', unit_amount: 1, product_data: { name: 'x' } }, quantity: 1 }] }, 'parameter_invalid', 'line_items[0][price_data]', /only specify one/],
        ['neither price', { ...base, line_items: [{ quantity: 1 }] }, 'parameter_missing', 'line_items[0][price]', /price/],
        ['no quantity', { ...base, line_items: [{ price: archived.id }] }, 'parameter_missing', 'line_items[0][quantity]', /quantity/],
        ['zero quantity', { ...base, line_items: [inlineItem('a', 1, 0)] }, 'parameter_invalid_integer', 'line_items[0][quantity]', /quantity/],
        ['unsupported currency', { ...base, line_items: [inlineItem('a', 1, 1, 'JPY')] }, 'currency_not_supported', 'line_items[0][price_data][currency]', /CNY, GBP, USD, EUR, HKD/],
        ['no product', { ...base, line_items: [{ price_data: { currency: 'CNY', unit_amount: 1 }, quantity: 1 }] }, 'parameter_missing', 'line_items[0][price_data][product]', /product_data/],
        ['no product name', { ...base, line_items: [{ price_data: { currency: 'CNY', unit_amount: 1, product_data: {} }, quantity: 1 }] }, 'parameter_missing', 'line_items[0][price_data][product_data][name]', /name/],
        ['line over 2^53-1', { ...base, line_items: [inlineItem('a', MAX_SAFE, 2)] }, 'amount_too_large', 'line_items[0]', /18014398509481982/],
        ['total over 2^53-1', { ...base, line_items: [inlineItem('a', MAX_SAFE), inlineItem('b', 1)] }, 'amount_too_large', 'line_items', /9007199254740992/],
        ['total zero', { ...base, line_items: [inlineItem('a', 0)] }, 'amount_too_small', 'line_items', /at least 1/],
        ['expires too soon', { ...base, line_items: [inlineItem('a', 1)], expires_at: clock.ms + 29 * MINUTE_MS }, 'parameter_invalid', 'expires_at', /30 minutes and 24 hours/],
        ['expires too late', { ...base, line_items: [inlineItem('a', 1)], expires_at: clock.ms + 25 * HOUR_MS }, 'parameter_invalid', 'expires_at', /30 minutes and 24 hours/],
        ['expires in the past (seconds)', { ...base, line_items: [inlineItem('a', 1)], expires_at: Math.floor(clock.ms / 1000) - 60 }, 'parameter_invalid', 'expires_at', /between/],
        ['unknown parameter', { ...base, line_items: [inlineItem('a', 1)], shipping_options: [] }, 'parameter_unknown', 'shipping_options', /unknown/],
        ['unknown locale', { ...base, line_items: [inlineItem('a', 1)], locale: 'tlh' }, 'parameter_invalid', 'locale', /zh/],
        ['other payment method', { ...base, line_items: [inlineItem('a', 1)], payment_method_types: ['card'] }, 'parameter_invalid', 'payment_method_types[0]', /alipay/],
      ];
      const before = (await gw.database.db.selectFrom('checkout_sessions').select('id').execute()).length;
      for (const [name, body, code, param, message] of cases) {
        const response = await createSession(gw, body);
        assert.equal(response.status, 400, `${name}: ${response.text}`);
        assert.deepEqual([response.body.error.type, response.body.error.code, response.body.error.param], ['invalid_request_error', code, param], name);
        assert.match(response.body.error.message, message, name);
      }
      assert.equal((await gw.database.db.selectFrom('checkout_sessions').select('id').execute()).length, before, 'a refused session leaves nothing behind');
    });

    it('replays an Idempotency-Key instead of creating a second session', async () => {
      const headers = { 'idempotency-key': `cs-${Math.random()}` };
      const first = await post('/v1/checkout/sessions', seedSessionRequest(), gw.secretKey, headers);
      const again = await post('/v1/checkout/sessions', seedSessionRequest(), gw.secretKey, headers);
      assert.equal(again.headers.get('idempotent-replayed'), 'true');
      assert.equal(again.body.id, first.body.id);
      assert.equal(again.body.payment_intent, first.body.payment_intent);
    });

    it('refuses publishable keys on the API and keeps accounts apart', async () => {
      assert.equal((await createSession(gw, seedSessionRequest(), gw.publishableKey)).status, 403);
      const cs = (await createSession(gw, seedSessionRequest())).body;
      const other = await gw.newAccount();
      const theirs = await get(`/v1/checkout/sessions/${cs.id}`, other.test.secretKey);
      assert.deepEqual([theirs.status, theirs.body.error.code], [404, 'resource_missing']);
      assert.equal((await post(`/v1/checkout/sessions/${cs.id}/expire`, {}, other.test.secretKey)).status, 404);
      const live = await get(`/v1/checkout/sessions/${cs.id}`, other.live.secretKey);
      assert.equal(live.status, 404);
      const list = await get('/v1/checkout/sessions', other.test.secretKey);
      assert.deepEqual(list.body.data, []);
    });
  });

  describe('retrieve and list', () => {
    it('retrieves with line items, lists newest first (also at /list and with a JSON body), pages and filters', async () => {
      const a = (await createSession(gw, seedSessionRequest())).body;
      clock.advance(1);
      const b = (await createSession(gw, seedSessionRequest())).body;
      const retrieved = await get(`/v1/checkout/sessions/${a.id}`);
      assert.equal(retrieved.status, 200);
      assert.deepEqual(retrieved.body, a);

      const list = await get('/v1/checkout/sessions?limit=2');
      assert.deepEqual([list.body.object, list.body.url, list.body.has_more], ['list', '/v1/checkout/sessions', true]);
      assert.deepEqual(list.body.data.map((s: { id: string }) => s.id), [b.id, a.id]);
      assert.equal(list.body.data[0].line_items, undefined, 'lists leave line_items out, as Stripe does');
      const alias = await get('/v1/checkout/sessions/list?limit=2');
      assert.deepEqual(alias.body.data.map((s: { id: string }) => s.id), [b.id, a.id]);
      const withBody = await getWithJsonBody(gw, '/v1/checkout/sessions/list', { limit: 1 });
      assert.deepEqual(withBody.body.data.map((s: { id: string }) => s.id), [b.id]);
      const next = await get(`/v1/checkout/sessions?limit=1&starting_after=${b.id}`);
      assert.deepEqual(next.body.data.map((s: { id: string }) => s.id), [a.id]);
      const byIntent = await get(`/v1/checkout/sessions?payment_intent=${a.payment_intent}`);
      assert.deepEqual(byIntent.body.data.map((s: { id: string }) => s.id), [a.id]);
      const bad = await get('/v1/checkout/sessions?status=paid');
      assert.deepEqual([bad.status, bad.body.error.param], [400, 'status']);
      assert.equal((await get('/v1/checkout/sessions/cs_0000000000000000001')).status, 404);
      assert.deepEqual((await get('/v1/checkout/sessions/nope')).body.error.param, 'id');
    });
  });

  describe('the session follows its payment', () => {
    it("completes when its PaymentIntent succeeds, in the same transaction, with checkout.session.completed", async () => {
      const cs = (await createSession(gw, seedSessionRequest())).body;
      const page = await openPage(gw, pagePathOf(cs.url));
      assert.equal(page.status, 200, page.text);
      const call = connector.payCalls.at(-1)!;
      assert.deepEqual([call.paymentIntentId, call.amountMinor, call.currency, call.terminalType, call.returnUrl], [cs.payment_intent, 100000, 'CNY', 'WEB', cs.url]);
      const result = await recordAttemptSucceeded(gw.running.app.core, call.paymentRequestId, { externalPaymentId: 'ext-1', buyerId: 'buyer-1', wallet: 'ALIPAY_CN' });
      assert.equal(result.kind, 'recorded');
      const done = (await get(`/v1/checkout/sessions/${cs.id}`)).body;
      assert.deepEqual([done.status, done.payment_status, done.url], ['complete', 'paid', null]);
      assert.deepEqual(await eventTypes(cs.id), ['checkout.session.completed']);
      const event = (await get(`/v1/events?type=checkout.session.completed&limit=1`)).body.data[0];
      assert.deepEqual([event.data.object.id, event.data.object.status, event.data.previous_attributes], [cs.id, 'complete', { status: 'open', payment_status: 'unpaid' }]);
      const expire = await post(`/v1/checkout/sessions/${cs.id}/expire`, {});
      assert.deepEqual([expire.status, expire.body.error.param], [400, 'id']);
      assert.match(expire.body.error.message, /status of complete/);
    });

    it('stays open after a decline; its PaymentIntent cannot be canceled directly', async () => {
      const cs = (await createSession(gw, seedSessionRequest())).body;
      await openPage(gw, pagePathOf(cs.url));
      const call = connector.payCalls.at(-1)!;
      await recordAttemptFailed(gw.running.app.core, call.paymentRequestId, { declineCode: 'USER_BALANCE_NOT_ENOUGH', message: 'Not enough balance' });
      const session = (await get(`/v1/checkout/sessions/${cs.id}`)).body;
      assert.deepEqual([session.status, session.payment_status], ['open', 'unpaid']);
      const cancel = await post(`/v1/payment_intents/${cs.payment_intent}/cancel`, {});
      assert.deepEqual([cancel.status, cancel.body.error.code], [400, 'payment_intent_unexpected_state']);
      assert.match(cancel.body.error.message, /Checkout Session; expire the session instead/);
    });

    it('expires on request: the PaymentIntent and its live attempt are canceled, with events', async () => {
      const cs = (await createSession(gw, seedSessionRequest())).body;
      await openPage(gw, pagePathOf(cs.url));
      const cancels = connector.cancelCalls.length;
      const response = await post(`/v1/checkout/sessions/${cs.id}/expire`, {});
      assert.equal(response.status, 200, response.text);
      assert.deepEqual([response.body.status, response.body.payment_status, response.body.url], ['expired', 'unpaid', null]);
      const pi = (await get(`/v1/payment_intents/${cs.payment_intent}`)).body;
      assert.deepEqual([pi.status, pi.cancellation_reason], ['canceled', 'abandoned']);
      assert.equal(connector.cancelCalls.length, cancels + 1);
      assert.equal(connector.cancelCalls.at(-1)!.paymentIntentId, cs.payment_intent);
      assert.deepEqual((await attemptsOf(cs.payment_intent)).map((a) => a.status), ['canceled']);
      assert.deepEqual(await eventTypes(cs.id), ['checkout.session.expired']);
      assert.deepEqual(await eventTypes(cs.payment_intent), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.canceled']);
      const again = await post(`/v1/checkout/sessions/${cs.id}/expire`, {});
      assert.deepEqual([again.status, again.body.error.code], [400, 'checkout_session_unexpected_state']);
    });

    it('expires by the worker at expires_at (injected clock), and not a moment before', async () => {
      const cs = (await createSession(gw, { ...seedSessionRequest(), expires_at: clock.ms + 30 * MINUTE_MS })).body;
      const untouched = (await createSession(gw, seedSessionRequest())).body;
      await openPage(gw, pagePathOf(cs.url));
      const core = gw.running.app.core;
      clock.advance(30 * MINUTE_MS - 1);
      assert.ok(!(await expireCheckoutSessions(core)).includes(cs.id));
      clock.advance(1);
      assert.deepEqual(await expireCheckoutSessions(core), [cs.id]);
      assert.deepEqual(await expireCheckoutSessions(core), [], 'a second pass finds nothing');
      const session = (await get(`/v1/checkout/sessions/${cs.id}`)).body;
      assert.equal(session.status, 'expired');
      assert.equal((await get(`/v1/payment_intents/${cs.payment_intent}`)).body.status, 'canceled');
      assert.deepEqual((await attemptsOf(cs.payment_intent)).map((a) => a.status), ['canceled']);
      assert.equal((await get(`/v1/checkout/sessions/${untouched.id}`)).body.status, 'open');
      // A payment reported after the expiry is not recorded (the worker reverses it).
      const late = await recordAttemptSucceeded(core, `${cs.payment_intent}_1`, { externalPaymentId: 'x', buyerId: null, wallet: null });
      assert.equal(late.kind, 'not_awaited');
      assert.equal((await get(`/v1/checkout/sessions/${cs.id}`)).body.status, 'expired');
      // The hosted page says so, and offers no QR code.
      const page = await openPage(gw, pagePathOf(cs.url));
      assert.match(page.text, /data-state="expired"/);
      assert.doesNotMatch(page.text, /data-testid="qr-code"/);
      clock.advance(24 * HOUR_MS);
      await expireCheckoutSessions(core);
    });
  });

  describe('hosted page', () => {
    it('reloading never creates a second live attempt, even when loads race', async () => {
      const cs = (await createSession(gw, seedSessionRequest())).body;
      const path = pagePathOf(cs.url);
      const calls = connector.payCalls.length;
      const pages = await Promise.all([1, 2, 3, 4, 5].map(() => openPage(gw, path)));
      pages.forEach((page) => assert.equal(page.status, 200));
      await openPage(gw, path);
      await openPage(gw, path, { 'user-agent': IPHONE_UA });
      assert.equal(connector.payCalls.length, calls + 1);
      assert.deepEqual((await attemptsOf(cs.payment_intent)).map((a) => a.status), ['pending']);
      const qr = `https://qr.test/${cs.payment_intent}_1`;
      assert.ok((await openPage(gw, path)).text.includes('data-testid="qr-code"'));
      assert.ok(pages.every((page) => page.text.includes('data-testid="qr-code"') || page.text.includes('data-testid="processing"')), 'each racing load shows the QR code or waits for it');
      assert.ok(qr);
    });

    it('sends phones to the Alipay app (WAP with os_type from the User-Agent)', async () => {
      for (const [ua, os] of [[IPHONE_UA, 'IOS'], [ANDROID_UA, 'ANDROID']] as const) {
        const cs = (await createSession(gw, seedSessionRequest())).body;
        const page = await openPage(gw, pagePathOf(cs.url), { 'user-agent': ua });
        const call = connector.payCalls.at(-1)!;
        assert.deepEqual([call.paymentIntentId, call.terminalType, call.osType], [cs.payment_intent, 'WAP', os]);
        assert.ok(page.text.includes(`href="alipays://platformapi/startApp?code=${call.paymentRequestId}"`), page.text);
        assert.ok(!page.text.includes('data-testid="qr-code"'));
      }
    });

    it('after a decline shows the failure and a retry, which makes a new attempt', async () => {
      const cs = (await createSession(gw, seedSessionRequest())).body;
      const path = pagePathOf(cs.url);
      await openPage(gw, path);
      await recordAttemptFailed(gw.running.app.core, `${cs.payment_intent}_1`, { declineCode: 'USER_BALANCE_NOT_ENOUGH', message: 'Not enough balance' });
      const status = await openPage(gw, `/pay/${cs.id}/status${new URL(cs.url).search}`);
      assert.deepEqual(JSON.parse(status.text), { status: 'open', payment_status: 'unpaid', payment_intent_status: 'requires_payment_method', payment_failed: true, attempt: null, success_url: null });
      const failed = await openPage(gw, path);
      assert.match(failed.text, /data-testid="payment-failed"/);
      assert.match(failed.text, /USER_BALANCE_NOT_ENOUGH/);
      assert.equal((await attemptsOf(cs.payment_intent)).length, 1, 'a reload after a decline waits for the shopper to retry');
      const retried = await openPage(gw, `${path}&retry=1`);
      assert.match(retried.text, /data-testid="qr-code"/);
      assert.deepEqual((await attemptsOf(cs.payment_intent)).map((a) => a.status), ['failed', 'pending']);
    });

    it('shows merchant, items and total in Chinese or English, and escapes merchant text', async () => {
      const evil = '<img src=x onerror=alert(1)>';
      const cs = (await createSession(gw, { ...seedSessionRequest(), cancel_url: 'https://shop.test/cancel?a=1&b="2"', line_items: [inlineItem(evil, 1250, 2), inlineItem('龙井 Longjing', 100, 1)] })).body;
      const path = pagePathOf(cs.url);
      const zh = await openPage(gw, path, { 'accept-language': 'zh-CN,zh;q=0.9' });
      assert.equal(zh.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.match(zh.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
      assert.ok(zh.text.includes('&lt;img src=x onerror=alert(1)&gt;'));
      assert.ok(!zh.text.includes(evil));
      assert.ok(zh.text.includes('href="https://shop.test/cancel?a=1&amp;b=&quot;2&quot;"'));
      assert.ok(zh.text.includes('Default account'));
      assert.ok(zh.text.includes('CNY 25.00') && zh.text.includes('CNY 1.00') && zh.text.includes('CNY 26.00'));
      assert.ok(zh.text.includes('数量 2') && zh.text.includes('打开手机支付宝，扫一扫付款') && zh.text.includes('lang="zh-CN"'));
      const en = await openPage(gw, path, { 'accept-language': 'en-GB,en;q=0.9' });
      assert.ok(en.text.includes('Qty 2') && en.text.includes('Open Alipay on your phone and scan to pay') && en.text.includes('lang="en"'));
      const switched = await openPage(gw, `${path}&lang=zh`, { 'accept-language': 'en' });
      assert.ok(switched.text.includes('扫一扫'));
    });

    it('refuses a missing or wrong key, and says when a session is unknown', async () => {
      const cs = (await createSession(gw, seedSessionRequest())).body;
      const missing = await openPage(gw, `/pay/${cs.id}`);
      assert.equal(missing.status, 401);
      assert.match(missing.text, /key/);
      const wrong = await openPage(gw, `/pay/${cs.id}?key=pk_test_nope`);
      assert.equal(wrong.status, 403);
      const secret = await openPage(gw, `/pay/${cs.id}?key=${gw.secretKey}`);
      assert.equal(secret.status, 403, 'a secret key never opens a page');
      assert.ok(!secret.text.includes(gw.secretKey));
      const other = await gw.newAccount();
      const theirs = await openPage(gw, `/pay/${cs.id}?key=${other.test.publishableKey}`);
      assert.equal(theirs.status, 404);
      const unknown = await openPage(gw, `/pay/cs_0000000000000000001${new URL(cs.url).search}`);
      assert.equal(unknown.status, 404);
      assert.match(unknown.text, /找不到此付款/);
      assert.match(unknown.text, /Payment not found/);
      // The merchant's own publishable key opens its sessions too.
      assert.equal((await openPage(gw, `/pay/${cs.id}?key=${gw.publishableKey}`)).status, 200);
    });

    it('goes on to success_url once complete, coming back from the wallet', async () => {
      const cs = (await createSession(gw, { ...seedSessionRequest(), success_url: 'https://shop.test/ok?cs={CHECKOUT_SESSION_ID}' })).body;
      const path = pagePathOf(cs.url);
      await openPage(gw, path);
      await recordAttemptSucceeded(gw.running.app.core, `${cs.payment_intent}_1`, { externalPaymentId: 'e', buyerId: null, wallet: null });
      const status = JSON.parse((await openPage(gw, `/pay/${cs.id}/status${new URL(cs.url).search}`)).text);
      assert.deepEqual([status.status, status.payment_status, status.success_url], ['complete', 'paid', `https://shop.test/ok?cs=${cs.id}`]);
      const back = await openPage(gw, `${path}&payment_intent=${cs.payment_intent}&redirect_status=succeeded`);
      assert.deepEqual([back.status, back.location], [303, `https://shop.test/ok?cs=${cs.id}`]);
      const later = await openPage(gw, path);
      assert.match(later.text, /data-state="complete"/);
      assert.doesNotMatch(later.text, /data-testid="qr-code"/);
    });
  });
});
