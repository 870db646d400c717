import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createIdGenerator } from '../../src/gateway/index.js';
import { recordAttemptRequiresAttention } from '../../src/gateway/core/attention.js';
import { createOperator, listAudit } from '../../src/gateway/core/operators.js';
import type { OperatorDeps } from '../../src/gateway/core/operators.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { attemptsOf, payInWallet, startPaymentStack, waitForIntentStatus, waitUntil } from '../support/e2e-harness.js';
import type { PaymentStack } from '../support/e2e-harness.js';
import { csrfTokenIn, DashboardClient } from '../support/dashboard-client.js';

const PASSWORD = 'correct horse battery';

/**
 * The dashboard's Payments pages (api.md §8) over the real sandbox: filters and search, keyset
 * paging, the detail's timeline, refunds and cancels by an admin through the API's own paths (the
 * refund reaches Alipay+), what a viewer, a form without its CSRF token and another account are
 * refused, and a refund form submitted twice refunding once. SQLite, or PostgreSQL with
 * ZHIFU_TEST_DATABASE_URL.
 */
describe('dashboard payments', () => {
  let stack: PaymentStack;
  let deps: OperatorDeps;
  let admin: DashboardClient;
  let viewer: DashboardClient;
  let outsider: DashboardClient;
  let hook: Server;
  let hookUrl: string;
  let otherPi: string;
  const hookBodies: string[] = [];

  const post = (path: string, json: unknown) => api(stack.gateway, 'POST', path, { key: stack.gateway.secretKey, json });

  /** A PaymentIntent paid in the sandbox's wallet. */
  async function paid(amount: number, extra: Record<string, unknown> = {}): Promise<string> {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), amount, ...extra });
    assert.equal(created.body.status, 'requires_action', created.text);
    assert.equal((await payInWallet(stack, { codeValue: created.body.next_action.alipay_handle_redirect.qr_code.data })).status, 200);
    return (await waitForIntentStatus(stack, created.body.id, 'succeeded')).id;
  }

  async function signedIn(email: string): Promise<DashboardClient> {
    const client = new DashboardClient(stack.gateway);
    const answer = await client.signIn(email, PASSWORD);
    assert.equal(answer.status, 303, answer.text);
    return client;
  }

  /** The `data-id`s of the list's rows, in page order. */
  function rowIds(text: string): string[] {
    return [...text.matchAll(/data-testid="payment-row" data-id="([^"]+)"/g)].map((m) => m[1]!);
  }

  async function refundsOf(pi: string) {
    return stack.gateway.database.db.selectFrom('refunds').selectAll().where('payment_intent_id', '=', pi).orderBy('created').execute();
  }

  function sandboxRefunds(refundRequestId: string): { amount_minor: number; reason: string | null }[] {
    return stack.sandbox.context.db.prepare('SELECT amount_minor, reason FROM refunds WHERE refund_request_id = ?').all(refundRequestId) as { amount_minor: number; reason: string | null }[];
  }

  /** Opens the detail page and submits its refund form as a browser would. */
  async function submitRefund(client: DashboardClient, pi: string, amount: string, reason: string) {
    const page = await client.get(`/dashboard/payments/${pi}`);
    assert.equal(page.status, 200, page.text);
    const key = /name="idempotency_key" value="([^"]+)"/.exec(page.text)?.[1];
    assert.ok(key, 'the refund form carries an idempotency key');
    const form = { csrf_token: csrfTokenIn(page.text), idempotency_key: key, amount, reason };
    return { form, answer: await client.post(`/dashboard/payments/${pi}/refund`, form) };
  }

  before(async () => {
    stack = await startPaymentStack();
    const clock = stack.gateway.clock;
    deps = { database: stack.gateway.database, clock, ids: createIdGenerator(clock) };
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => { body += String(chunk); });
      req.on('end', () => { hookBodies.push(body); res.writeHead(200).end('ok'); });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hooks`;
    assert.equal((await post('/v1/webhook_endpoints', { url: hookUrl, enabled_events: ['*'] })).status, 200);
    const other = await stack.gateway.newAccount();
    await createOperator(deps, { accountId: stack.gateway.accountId, email: 'admin@shop.test', password: PASSWORD, role: 'admin', liveAccess: false });
    await createOperator(deps, { accountId: stack.gateway.accountId, email: 'viewer@shop.test', password: PASSWORD, role: 'viewer', liveAccess: false });
    await createOperator(deps, { accountId: other.accountId, email: 'owner@other.test', password: PASSWORD, role: 'admin', liveAccess: false });
    const otherIntent = await api(stack.gateway, 'POST', '/v1/payment_intents', { key: other.test.secretKey, json: { amount: 500, currency: 'CNY', merchant_order_id: 'SHARED-1' } });
    assert.equal(otherIntent.status, 200, otherIntent.text);
    otherPi = otherIntent.body.id;
    admin = await signedIn('admin@shop.test');
    viewer = await signedIn('viewer@shop.test');
    outsider = await signedIn('owner@other.test');
  });
  after(async () => {
    await stack.stop();
    // Keep-alive connections from the webhook worker would hold close() open.
    hook.closeAllConnections();
    await new Promise((resolve) => hook.close(resolve));
  });

  it('lists payments newest first with filters, searches by order id, metadata and id, and answers bad filters with a 400 page', async () => {
    const cny = await paid(2000, { merchant_order_id: 'ORDER-100', metadata: { cart: 'c-77' }, description: 'Tea set' });
    const usd = await post('/v1/payment_intents', { amount: 999, currency: 'USD', merchant_order_id: 'ORDER-101' });
    const shared = await post('/v1/payment_intents', { amount: 300, currency: 'CNY', merchant_order_id: 'SHARED-1' });
    const list = await admin.get('/dashboard/payments');
    assert.equal(list.status, 200, list.text);
    assert.deepEqual(rowIds(list.text).slice(0, 3), [shared.body.id, usd.body.id, cny]);
    assert.ok(!rowIds(list.text).includes(otherPi), 'another account\'s payments are not listed');
    assert.match(list.text, /Tea set/);
    assert.match(list.text, /data-minor="2000"><a [^>]*>CNY 20\.00</);

    assert.deepEqual(rowIds((await admin.get('/dashboard/payments?status=succeeded')).text), [cny]);
    assert.deepEqual(rowIds((await admin.get('/dashboard/payments?currency=usd')).text), [usd.body.id]);
    // Amounts are typed in major units of the currency: 19.99 to 20 CNY is 1999 to 2000 fen.
    assert.deepEqual(rowIds((await admin.get('/dashboard/payments?currency=CNY&amount_min=19.99&amount_max=20')).text), [cny]);
    assert.deepEqual(rowIds((await admin.get('/dashboard/payments?amount_min=9.99&amount_max=9.99')).text), [usd.body.id]);
    const today = new Date(stack.gateway.clock.now()).toISOString().slice(0, 10);
    assert.ok(rowIds((await admin.get(`/dashboard/payments?from=${today}&to=${today}`)).text).includes(cny));
    assert.deepEqual(rowIds((await admin.get('/dashboard/payments?to=2000-01-01')).text), []);

    assert.deepEqual(rowIds((await admin.get('/dashboard/payments?q=ORDER-100')).text), [cny]);
    assert.deepEqual(rowIds((await admin.get('/dashboard/payments?q=SHARED-1')).text), [shared.body.id], 'the same order id in another account is not found');
    assert.deepEqual(rowIds((await admin.get('/dashboard/payments?q=cart%3Ac-77')).text), [cny]);
    assert.deepEqual(rowIds((await admin.get('/dashboard/payments?q=cart%3Ac-78')).text), []);
    const byId = await admin.get(`/dashboard/payments?q=${cny}`);
    assert.deepEqual([byId.status, byId.location], [303, `/dashboard/payments/${cny}`]);
    const foreignId = await admin.get(`/dashboard/payments?q=${otherPi}`);
    assert.equal(foreignId.status, 200);
    assert.deepEqual(rowIds(foreignId.text), []);
    assert.match(foreignId.text, /data-testid="empty"/);

    for (const [query, message] of [
      ['amount_min=abc', /not an amount/], ['amount_min=1.234', /at most 2 decimals/], ['from=2026-02-30', /not a date/],
      ['status=paid', /not a PaymentIntent status/], ['currency=XYZ', /not a currency/], ['amount_min=5&amount_max=1', /minimum amount is larger/],
      ['q=bad%20key%3Av', /not a metadata key/], ['starting_after=pi_nope', /No such payment_intent/],
    ] as const) {
      const bad = await admin.get(`/dashboard/payments?${query}`);
      assert.equal(bad.status, 400, `${query}: ${bad.text.slice(0, 200)}`);
      assert.match(bad.text, message);
      assert.match(bad.text, /data-testid="notice"/);
    }
  });

  it('pages 25 at a time with starting_after and ending_before', async () => {
    for (let i = 0; i < 27; i += 1) assert.equal((await post('/v1/payment_intents', { amount: 100 + i, currency: 'HKD', merchant_order_id: `PAGE-${i}` })).status, 200);
    const first = await admin.get('/dashboard/payments?currency=HKD');
    const firstIds = rowIds(first.text);
    assert.equal(firstIds.length, 25);
    assert.match(first.text, /data-testid="page-next"/);
    assert.doesNotMatch(first.text, /data-testid="page-previous"/);
    const nextHref = /data-testid="page-next" href="([^"]+)"/.exec(first.text)![1]!.replace(/&amp;/g, '&');
    assert.match(nextHref, new RegExp(`starting_after=${firstIds[24]}`));
    const second = await admin.get(nextHref);
    const secondIds = rowIds(second.text);
    assert.equal(secondIds.length, 2);
    assert.ok(secondIds.every((id) => !firstIds.includes(id)));
    assert.doesNotMatch(second.text, /data-testid="page-next"/);
    const previousHref = /data-testid="page-previous" href="([^"]+)"/.exec(second.text)![1]!.replace(/&amp;/g, '&');
    const back = await admin.get(previousHref);
    assert.deepEqual(rowIds(back.text), firstIds);
    assert.doesNotMatch(back.text, /data-testid="page-previous"/, 'back on the newest page there is nothing newer');
  });

  it('shows a paid payment with its events, Alipay+ attempt, webhook deliveries and amounts', async () => {
    const pi = await paid(1500, { merchant_order_id: 'ORDER-200', metadata: { note: '<b>fragile</b>' } });
    // This payment's own delivery: other tests' payments may have delivered theirs long ago.
    const delivered = () =>
      stack.gateway.database.db
        .selectFrom('webhook_deliveries')
        .innerJoin('events', 'events.id', 'webhook_deliveries.event_id')
        .select('webhook_deliveries.status')
        .where('webhook_deliveries.event_type', '=', 'payment_intent.succeeded')
        .where('webhook_deliveries.status', '=', 'delivered')
        .where('events.data', 'like', `%"id":"${pi}"%`)
        .execute();
    await waitUntil(async () => (await delivered()).length > 0, 'its payment_intent.succeeded webhook delivered');
    const page = await admin.get(`/dashboard/payments/${pi}`);
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /data-field="status"><span class="badge ok" data-status="succeeded">/);
    assert.match(page.text, /data-field="amount" data-minor="1500">CNY 15\.00/);
    assert.match(page.text, /data-field="amount_refundable" data-minor="1500"/);
    assert.match(page.text, /data-field="merchant_order_id">ORDER-200</);
    assert.match(page.text, /&lt;b&gt;fragile&lt;\/b&gt;/, 'metadata is escaped');
    const attempt = (await attemptsOf(stack, pi))[0]!;
    assert.match(page.text, new RegExp(`data-testid="timeline-attempt" data-id="${attempt.id}">[\\s\\S]*?data-status="succeeded"[\\s\\S]*?data-field="payment_request_id">${attempt.payment_request_id}<`));
    assert.match(page.text, /WEB \/ IOS/);
    const types = [...page.text.matchAll(/data-testid="timeline-event" data-type="([^"]+)"/g)].map((m) => m[1]);
    for (const type of ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded', 'charge.succeeded']) assert.ok(types.includes(type), `${type} in ${types.join(', ')}`);
    assert.ok(types.indexOf('payment_intent.created') < types.indexOf('payment_intent.succeeded'), 'oldest first');
    assert.match(page.text, new RegExp(`data-testid="timeline-delivery"[^>]*>[\\s\\S]*?data-status="delivered"[\\s\\S]*?payment_intent.succeeded</span> → <span class="mono" data-field="endpoint">${hookUrl}<`));
    assert.match(page.text, /data-field="last_status_code">200</);
    assert.match(page.text, /data-testid="refund-form"/);
  });

  it('refunds part and then the rest from the detail page: the refund reaches Alipay+, the page says so, the audit log names the admin', async () => {
    const pi = await paid(2000, { merchant_order_id: 'ORDER-300' });
    const { answer } = await submitRefund(admin, pi, '5.50', 'requested_by_customer');
    assert.equal(answer.status, 303, answer.text);
    const refunds = await refundsOf(pi);
    assert.equal(refunds.length, 1);
    const refund = refunds[0]!;
    assert.deepEqual([refund.amount, refund.status, refund.reason], [550, 'succeeded', 'requested_by_customer']);
    assert.equal(answer.location, `/dashboard/payments/${pi}?done=refunded&refund=${refund.id}`);
    assert.deepEqual(sandboxRefunds(refund.refund_request_id).map((r) => r.amount_minor), [550], 'Alipay+ (sandbox) recorded the refund');
    const shown = await admin.get(answer.location!);
    assert.match(shown.text, /data-testid="notice">已发起退款 CNY 5\.50，状态：succeeded。</);
    assert.match(shown.text, new RegExp(`data-testid="timeline-refund" data-id="${refund.id}">[\\s\\S]*?data-minor="550">CNY 5\\.50</span> <span class="badge ok" data-status="succeeded">`));
    assert.match(shown.text, /data-field="amount_refunded" data-minor="550"/);
    assert.match(shown.text, /data-field="amount_refundable" data-minor="1450"/);
    assert.match(shown.text, /data-type="refund.created"/);
    const audit = (await listAudit(deps, stack.gateway.accountId, 50)).filter((row) => row.object_id === pi);
    assert.deepEqual(audit.map((row) => row.action).reverse(), ['payment.refund', 'payment.refund.succeeded']);
    assert.equal(audit[0]!.actor_email, 'admin@shop.test');
    assert.deepEqual(JSON.parse(audit[0]!.detail!), { refund: refund.id, amount: 550, status: 'succeeded', replayed: false });
    assert.equal(JSON.parse(audit[1]!.detail!).amount, 550);

    // Empty amount: the whole remainder.
    const rest = await submitRefund(admin, pi, '', 'duplicate');
    assert.equal(rest.answer.status, 303, rest.answer.text);
    const after = await refundsOf(pi);
    assert.deepEqual(after.map((r) => [r.amount, r.status]), [[550, 'succeeded'], [1450, 'succeeded']]);
    const charge = await api(stack.gateway, 'GET', `/v1/charges/${refund.charge_id}`, { key: stack.gateway.secretKey });
    assert.deepEqual([charge.body.amount_refunded, charge.body.refunded], [2000, true]);
    const done = await admin.get(`/dashboard/payments/${pi}`);
    assert.match(done.text, /data-testid="refund-nothing"/);
  });

  it('shows the core\'s refusal on the detail page with its 4xx and refunds nothing', async () => {
    const pi = await paid(1000);
    const tooLarge = await submitRefund(admin, pi, '10.01', '');
    assert.equal(tooLarge.answer.status, 400, tooLarge.answer.text);
    assert.match(tooLarge.answer.text, /data-testid="notice">操作未完成：Refund amount \(1001\) is greater than the charge&#39;s unrefunded amount \(1000/);
    assert.match(tooLarge.answer.text, /data-testid="refund-amount" value="10.01"|value="10.01"/);
    const malformed = await submitRefund(admin, pi, '1,0.0.5', '');
    assert.equal(malformed.answer.status, 400);
    assert.match(malformed.answer.text, /not an amount/);
    const badReason = await submitRefund(admin, pi, '1', 'because');
    assert.equal(badReason.answer.status, 400);
    assert.deepEqual(await refundsOf(pi), []);
    const audit = (await listAudit(deps, stack.gateway.accountId, 50)).filter((row) => row.object_id === pi).map((row) => row.action).reverse();
    assert.deepEqual(audit, ['payment.refund', 'payment.refund.failed'], 'the refusal by the core is audited; a malformed form never reaches it');
  });

  it('refunds once when the same refund form is submitted twice, at once or again later', async () => {
    const pi = await paid(3000);
    const page = await admin.get(`/dashboard/payments/${pi}`);
    const form = { csrf_token: csrfTokenIn(page.text), idempotency_key: /name="idempotency_key" value="([^"]+)"/.exec(page.text)![1]!, amount: '3.00', reason: 'duplicate' };
    const [a, b] = await Promise.all([admin.post(`/dashboard/payments/${pi}/refund`, form), admin.post(`/dashboard/payments/${pi}/refund`, form)]);
    const again = await admin.post(`/dashboard/payments/${pi}/refund`, form);
    const refunds = await refundsOf(pi);
    assert.equal(refunds.length, 1, 'one refund');
    assert.equal(refunds[0]!.amount, 300);
    assert.deepEqual(sandboxRefunds(refunds[0]!.refund_request_id).length, 1);
    for (const answer of [a, b, again]) {
      assert.equal(answer.status, 303, answer.text.slice(0, 300));
      assert.equal(answer.location, `/dashboard/payments/${pi}?done=refunded&refund=${refunds[0]!.id}`);
    }
    // The same key with another amount is another request: refused, nothing refunded.
    const changed = await admin.post(`/dashboard/payments/${pi}/refund`, { ...form, amount: '4.00' });
    assert.equal(changed.status, 400);
    assert.match(changed.text, /same parameters/);
    assert.equal((await refundsOf(pi)).length, 1);
  });

  it('refuses a viewer (403, no form shown), a form without its CSRF token (403), and another account (404); nothing is refunded', async () => {
    const pi = await paid(1200);
    const seen = await viewer.get(`/dashboard/payments/${pi}`);
    assert.equal(seen.status, 200);
    assert.doesNotMatch(seen.text, /data-testid="refund-form"/);
    assert.match(seen.text, /data-testid="viewer-note"/);
    const refused = await viewer.post(`/dashboard/payments/${pi}/refund`, { csrf_token: csrfTokenIn(seen.text), idempotency_key: 'k1', amount: '1.00', reason: '' });
    assert.equal(refused.status, 403);
    assert.match(refused.text, /只有管理员可以执行此操作/);
    const cancelRefused = await viewer.post(`/dashboard/payments/${pi}/cancel`, { csrf_token: csrfTokenIn(seen.text) });
    assert.equal(cancelRefused.status, 403);

    const noCsrf = await admin.post(`/dashboard/payments/${pi}/refund`, { idempotency_key: 'k2', amount: '1.00', reason: '' });
    assert.equal(noCsrf.status, 403);
    const wrongCsrf = await admin.post(`/dashboard/payments/${pi}/refund`, { csrf_token: csrfTokenIn(seen.text), idempotency_key: 'k3', amount: '1.00', reason: '' });
    assert.equal(wrongCsrf.status, 403, 'the viewer\'s token is not the admin\'s');

    const foreign = await outsider.get(`/dashboard/payments/${pi}`);
    assert.equal(foreign.status, 404);
    assert.doesNotMatch(foreign.text, new RegExp(pi + '.*CNY'));
    const outsiderPage = await outsider.get('/dashboard/payments');
    const foreignRefund = await outsider.post(`/dashboard/payments/${pi}/refund`, { csrf_token: csrfTokenIn(outsiderPage.text), idempotency_key: 'k4', amount: '1.00', reason: '' });
    assert.equal(foreignRefund.status, 404);
    assert.equal((await admin.get(`/dashboard/payments/${otherPi}`)).status, 404, 'and the other way round');
    assert.equal((await admin.get('/dashboard/payments/pi_doesnotexist')).status, 404);
    assert.equal((await admin.get('/dashboard/payments/not-an-id')).status, 404);
    assert.deepEqual(await refundsOf(pi), []);
    const live = await admin.get(`/dashboard/payments/${pi}?mode=live`);
    assert.equal(live.status, 403, 'this admin has no live access');
  });

  it('cancels a payment awaiting the shopper, at Alipay+ too, and lists payments needing attention', async () => {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), amount: 800, merchant_order_id: 'ORDER-CANCEL' });
    assert.equal(created.body.status, 'requires_action');
    const pi = created.body.id as string;
    const page = await admin.get(`/dashboard/payments/${pi}`);
    assert.match(page.text, /data-testid="cancel-form"/);
    assert.doesNotMatch(page.text, /data-testid="refund-form"/);
    const canceled = await admin.post(`/dashboard/payments/${pi}/cancel`, { csrf_token: csrfTokenIn(page.text) });
    assert.deepEqual([canceled.status, canceled.location], [303, `/dashboard/payments/${pi}?done=canceled`]);
    const intent = await api(stack.gateway, 'GET', `/v1/payment_intents/${pi}`, { key: stack.gateway.secretKey });
    assert.equal(intent.body.status, 'canceled');
    const shown = await admin.get(canceled.location!);
    assert.match(shown.text, /data-testid="notice">支付已取消。</);
    assert.match(shown.text, /data-type="payment_intent.canceled"/);
    assert.doesNotMatch(shown.text, /data-testid="cancel-form"/);
    const again = await admin.post(`/dashboard/payments/${pi}/cancel`, { csrf_token: csrfTokenIn(page.text) });
    assert.equal(again.status, 400);
    assert.match(again.text, /You cannot cancel this PaymentIntent/);
    const audit = (await listAudit(deps, stack.gateway.accountId, 100)).filter((row) => row.object_id === pi).map((row) => row.action).reverse();
    assert.deepEqual(audit, ['payment.cancel', 'payment.cancel.succeeded', 'payment.cancel', 'payment.cancel.failed']);

    // A payment whose attempt the gateway could not settle: listed under "needs attention", linked from Home.
    const stuck = await stack.createPaymentIntent({ ...seedWebRequest(), amount: 700 });
    const attempt = (await attemptsOf(stack, stuck.body.id))[0]!;
    assert.equal(await recordAttemptRequiresAttention(stack.gateway.running.app.core, attempt.id, 'test: no final answer'), true);
    const home = await admin.get('/dashboard');
    assert.match(home.text, /data-testid="attention-link" href="\/dashboard\/payments\?status=requires_attention"/);
    const attention = await admin.get('/dashboard/payments?status=requires_attention');
    assert.deepEqual(rowIds(attention.text), [stuck.body.id]);
    const detail = await admin.get(`/dashboard/payments/${stuck.body.id}`);
    assert.match(detail.text, /data-testid="timeline-attention"[\s\S]*?test: no final answer/);
  });
});
