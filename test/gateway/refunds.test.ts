import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlipayPlusClient, AlipayPlusError } from '../../src/alipayplus/index.js';
import { fromRefundError, fromRefundResponse, toRefundRequest } from '../../src/gateway/connector/alipayplus/transformers.js';
import { REFUND_WINDOW_MS, decideRefundAmount } from '../../src/gateway/domain/refunds.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { E2E_CLIENT_ID, chargesOf, payInWallet, waitForIntentStatus, type PaymentStack } from '../support/e2e-harness.js';
import { fixtureKeys } from '../support/keys.js';
import { addFault, startWorkerStack, type WorkerStack } from './worker-support.js';

describe('refund rules and transformers (pure)', () => {
  const charge = { amountCapturedMinor: 1000, amountReservedMinor: 600, createdMs: 0 };
  it('decides the amount: the remainder when omitted, refusals with Stripe codes', () => {
    assert.deepEqual(decideRefundAmount(charge, undefined, 1), { ok: true, amountMinor: 400 });
    assert.deepEqual(decideRefundAmount(charge, 400, 1), { ok: true, amountMinor: 400 });
    assert.equal((decideRefundAmount(charge, 401, 1) as { code: string }).code, 'amount_too_large');
    assert.equal((decideRefundAmount({ ...charge, amountReservedMinor: 1000 }, undefined, 1) as { code: string }).code, 'charge_already_refunded');
    assert.equal(decideRefundAmount(charge, 1, REFUND_WINDOW_MS).ok, true, 'the last millisecond of the year still refunds');
    assert.equal((decideRefundAmount(charge, 1, REFUND_WINDOW_MS + 1) as { code: string }).code, 'charge_expired_for_refund');
  });

  it('maps a refund to the wire and its answers back: S with settlement, F final, U unknown, another amount a mismatch', () => {
    const request = { accountId: 'acct_1', livemode: false, refundId: 're_1', refundRequestId: 're_1', paymentRequestId: 'pi_1_1', amountMinor: 250, currency: 'CNY', reason: 'duplicate' };
    assert.deepEqual(toRefundRequest(request), { refundRequestId: 're_1', paymentRequestId: 'pi_1_1', refundAmount: { currency: 'CNY', value: '250' }, refundReason: 'duplicate' });
    const quote = { quoteId: 'q1', quoteCurrencyPair: 'CNY/GBP', quotePrice: '0.10932700', quoteStartTime: 'x', quoteExpiryTime: 'y' };
    const ok = fromRefundResponse(request, {
      result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
      refundId: 'r_9',
      refundAmount: { currency: 'CNY', value: '250' },
      settlementAmount: { currency: 'GBP', value: '27' },
      settlementQuote: quote,
    });
    assert.deepEqual(ok, { kind: 'succeeded', externalRefundId: 'r_9', settlement: { currency: 'GBP', amountMinor: 27, quote: { quoteId: 'q1', quoteCurrencyPair: 'CNY/GBP', quotePrice: '0.10932700' } } });
    const wrongAmount = fromRefundResponse(request, { result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: '' }, refundAmount: { currency: 'CNY', value: '251' } });
    assert.equal(wrongAmount.kind, 'amount_mismatch');
    assert.deepEqual(fromRefundError(new AlipayPlusError('F', 'REFUND_WINDOW_EXCEED', 'too late')), { kind: 'failed', code: 'REFUND_WINDOW_EXCEED', message: 'too late' });
    assert.equal(fromRefundError(new AlipayPlusError('U', 'UNKNOWN_EXCEPTION', 'retry')).kind, 'unknown');
    assert.equal(fromRefundError(new Error('socket hang up')).kind, 'unknown');
  });
});

/**
 * Refunds through the real connector and sandbox (api.md §4, alipayplus.md §6): full, partial and
 * several partial refunds, the remainder under concurrency, `U` then `S` through the worker, `F`,
 * and the 400s for what cannot be refunded. Both sides share one manual clock.
 */
describe('refunds through Alipay+', () => {
  let ws: WorkerStack;
  let stack: PaymentStack;
  const post = (path: string, json: unknown, headers?: Record<string, string>) => api(stack.gateway, 'POST', path, { key: stack.gateway.secretKey, json, ...(headers ? { headers } : {}) });
  const get = (path: string) => api(stack.gateway, 'GET', path, { key: stack.gateway.secretKey });

  before(async () => {
    ws = await startWorkerStack();
    stack = ws.stack;
  });
  after(async () => {
    await stack.stop();
  });

  /** A PaymentIntent of `amount` CNY fen, paid in the wallet: its id and charge id. */
  async function paid(amount: number): Promise<{ pi: string; ch: string }> {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), amount });
    assert.equal(created.body.status, 'requires_action', created.text);
    assert.equal((await payInWallet(stack, { codeValue: created.body.next_action.alipay_handle_redirect.qr_code.data })).status, 200);
    const intent = await waitForIntentStatus(stack, created.body.id, 'succeeded');
    return { pi: intent.id, ch: intent.latest_charge };
  }

  async function charge(id: string) {
    const got = await get(`/v1/charges/${id}`);
    assert.equal(got.status, 200, got.text);
    return got.body;
  }

  /** Event types about one refund, oldest first. */
  async function refundEventTypes(refundId: string): Promise<string[]> {
    const rows = await stack.gateway.database.db.selectFrom('events').select(['id', 'type', 'data']).orderBy('id').execute();
    return rows.filter((row) => (JSON.parse(row.data) as { object: { id: string } }).object.id === refundId).map((row) => row.type);
  }

  /** The sandbox's refunds of a payment request id (from its store). */
  function sandboxRefunds(paymentRequestPrefix: string): { refund_request_id: string; amount_minor: number }[] {
    return stack.sandbox.context.db
      .prepare('SELECT r.refund_request_id, r.amount_minor FROM refunds r JOIN payments p ON p.payment_id = r.payment_id WHERE p.payment_request_id LIKE ? ORDER BY r.created_at')
      .all(`${paymentRequestPrefix}_%`) as { refund_request_id: string; amount_minor: number }[];
  }

  it('refunds in full when amount is omitted; the charge follows; a second refund is charge_already_refunded', async () => {
    const { pi, ch } = await paid(2000);
    const refund = await post('/v1/refunds', { payment_intent: pi, reason: 'requested_by_customer', metadata: { ticket: 'T-1' } });
    assert.equal(refund.status, 200, refund.text);
    assert.match(refund.body.id, /^re_\d{19}$/);
    assert.deepEqual(
      [refund.body.object, refund.body.amount, refund.body.currency, refund.body.status, refund.body.charge, refund.body.payment_intent, refund.body.reason, refund.body.failure_reason, refund.body.metadata],
      ['refund', 2000, 'CNY', 'succeeded', ch, pi, 'requested_by_customer', undefined, { ticket: 'T-1' }],
    );
    const after = await charge(ch);
    assert.deepEqual([after.amount, after.amount_refunded, after.refunded], [2000, 2000, true]);
    assert.deepEqual(await refundEventTypes(refund.body.id), ['refund.created', 'refund.updated', 'charge.refund.updated']);
    const chargeEvents = (await stack.gateway.database.db.selectFrom('events').select(['type', 'data']).where('type', '=', 'charge.refunded').execute())
      .map((row) => JSON.parse(row.data) as { object: { id: string; amount_refunded: number } })
      .filter((data) => data.object.id === ch);
    assert.deepEqual(chargeEvents.map((data) => data.object.amount_refunded), [2000]);
    assert.deepEqual(sandboxRefunds(pi), [{ refund_request_id: refund.body.id, amount_minor: 2000 }], 'refundRequestId is the refund id');

    const again = await post('/v1/refunds', { charge: ch });
    assert.equal(again.status, 400, again.text);
    assert.equal(again.body.error.code, 'charge_already_refunded');
    assert.equal(again.body.error.type, 'invalid_request_error');
  });

  it('takes three partial refunds summing to the amount, refuses more than the remainder and then a fourth', async () => {
    const { pi, ch } = await paid(1000);
    const first = await post('/v1/refunds', { charge: ch, amount: 300 });
    assert.deepEqual([first.status, first.body.status, first.body.amount], [200, 'succeeded', 300], first.text);
    assert.equal((await charge(ch)).amount_refunded, 300);
    const second = await post('/v1/refunds', { payment_intent: pi, amount: 333 });
    assert.deepEqual([second.status, second.body.status], [200, 'succeeded'], second.text);
    const tooLarge = await post('/v1/refunds', { payment_intent: pi, amount: 368 });
    assert.equal(tooLarge.status, 400, tooLarge.text);
    assert.deepEqual([tooLarge.body.error.code, tooLarge.body.error.param], ['amount_too_large', 'amount']);
    assert.match(tooLarge.body.error.message, /367/);
    const third = await post('/v1/refunds', { payment_intent: pi, amount: 367 });
    assert.deepEqual([third.status, third.body.status, third.body.amount], [200, 'succeeded', 367], third.text);
    const done = await charge(ch);
    assert.deepEqual([done.amount_refunded, done.refunded], [1000, true]);
    const fourth = await post('/v1/refunds', { payment_intent: pi, amount: 1 });
    assert.equal(fourth.status, 400, fourth.text);
    assert.equal(fourth.body.error.code, 'charge_already_refunded');
    assert.deepEqual(sandboxRefunds(pi).map((r) => r.amount_minor), [300, 333, 367]);

    const listed = await get(`/v1/refunds?payment_intent=${pi}`);
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual([listed.body.object, listed.body.url, listed.body.has_more], ['list', '/v1/refunds', false]);
    assert.deepEqual(listed.body.data.map((r: { id: string }) => r.id), [third.body.id, second.body.id, first.body.id], 'newest first');
    const paged = await get(`/v1/refunds?charge=${ch}&limit=2`);
    assert.deepEqual([paged.body.data.length, paged.body.has_more], [2, true]);
    const rest = await get(`/v1/refunds?charge=${ch}&limit=2&starting_after=${paged.body.data[1].id}`);
    assert.deepEqual(rest.body.data.map((r: { id: string }) => r.id), [first.body.id]);
  });

  it('never refunds more than was received under 20 concurrent partial refunds', async () => {
    const { pi, ch } = await paid(1000);
    const results = await Promise.all(Array.from({ length: 20 }, (_, n) => post('/v1/refunds', { payment_intent: pi, amount: 90 + n })));
    const succeeded = results.filter((r) => r.status === 200);
    for (const r of succeeded) assert.equal(r.body.status, 'succeeded', r.text);
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.ok(['amount_too_large', 'charge_already_refunded', 'lock_timeout'].includes(r.body.error.code), r.text);
    }
    const total = succeeded.reduce((sum, r) => sum + (r.body.amount as number), 0);
    assert.ok(total <= 1000, `refunded ${total} of 1000`);
    assert.ok(succeeded.length >= 8, `only ${succeeded.length} refunds went through`);
    const [row] = await chargesOf(stack, pi);
    assert.equal(row!.amount_refunded, total);
    assert.equal(row!.amount_refund_reserved, total);
    assert.equal((await charge(ch)).amount_refunded, total);
    assert.equal(sandboxRefunds(pi).reduce((sum, r) => sum + r.amount_minor, 0), total, 'the sandbox refunded the same total');
  });

  it('keeps a refund pending on U and the worker finishes it with the same refundRequestId', async () => {
    const { pi, ch } = await paid(500);
    await addFault(stack, { target: 'refund', kind: 'unknown', count: 3 });
    const pending = await post('/v1/refunds', { payment_intent: pi, amount: 200 });
    assert.deepEqual([pending.status, pending.body.status], [200, 'pending'], pending.text);
    assert.equal((await charge(ch)).amount_refunded, 0, 'nothing refunded yet');
    assert.deepEqual(sandboxRefunds(pi), []);
    // The remainder already counts the pending refund.
    const over = await post('/v1/refunds', { payment_intent: pi, amount: 301 });
    assert.equal(over.body.error.code, 'amount_too_large', over.text);
    const cancel = await post(`/v1/refunds/${pending.body.id}/cancel`, {});
    assert.deepEqual([cancel.status, cancel.body.error?.code], [400, 'refund_not_cancelable'], 'it was sent already');

    assert.deepEqual(await ws.worker().runOnce(), [], 'not due before the retry delay');
    ws.clock.advance(3_000);
    assert.deepEqual(await ws.worker().runOnce(), [pending.body.id]);
    const done = await get(`/v1/refunds/${pending.body.id}`);
    assert.deepEqual([done.body.status, done.body.amount], ['succeeded', 200]);
    assert.deepEqual([(await charge(ch)).amount_refunded, (await charge(ch)).refunded], [200, false]);
    assert.deepEqual(sandboxRefunds(pi), [{ refund_request_id: pending.body.id, amount_minor: 200 }]);
    assert.deepEqual(await refundEventTypes(pending.body.id), ['refund.created', 'refund.updated', 'charge.refund.updated']);
    ws.clock.advance(600_000);
    assert.deepEqual(await ws.worker().runOnce(), [], 'a final refund is not retried');
  });

  it('sends a refund the request path recorded but never sent (a crash between its transactions)', async () => {
    const { pi, ch } = await paid(300);
    await addFault(stack, { target: 'refund', kind: 'unknown', count: 3 });
    const pending = await post('/v1/refunds', { payment_intent: pi });
    assert.equal(pending.body.status, 'pending', pending.text);
    // As if the process died after recording the refund and before marking it sent.
    await stack.gateway.database.db.updateTable('refunds').set({ sent_at: null, next_check_at: ws.clock.now() + 60_000 }).where('id', '=', pending.body.id).execute();
    ws.clock.advance(59_000);
    assert.deepEqual(await ws.worker().runOnce(), []);
    ws.clock.advance(1_000);
    assert.deepEqual(await ws.worker().runOnce(), [pending.body.id]);
    const done = await get(`/v1/refunds/${pending.body.id}`);
    assert.deepEqual([done.body.status, done.body.amount], ['succeeded', 300]);
    assert.deepEqual([(await charge(ch)).amount_refunded, (await charge(ch)).refunded], [300, true]);
    assert.deepEqual(sandboxRefunds(pi), [{ refund_request_id: pending.body.id, amount_minor: 300 }]);
    const [row] = await stack.gateway.database.db.selectFrom('refunds').select(['sent_at', 'lease_owner']).where('id', '=', pending.body.id).execute();
    assert.ok(row!.sent_at !== null, 'marked sent before sending');
    assert.equal(row!.lease_owner, null, 'lease released');
  });

  it('records F as failed with failure_reason and gives the amount back', async () => {
    const { pi, ch } = await paid(800);
    // Refunded out of band at Alipay+ (as an operator might in its portal): the gateway's refund then gets F / REFUND_AMOUNT_EXCEED.
    const keys = fixtureKeys();
    const client = new AlipayPlusClient({ baseUrl: stack.sandbox.url(), clientId: E2E_CLIENT_ID, privateKey: keys.gatewayPrivatePem, alipayPublicKey: keys.alipayPublicPem });
    await client.refund({ refundRequestId: `oob_${pi}`, paymentRequestId: `${pi}_1`, refundAmount: { currency: 'CNY', value: '700' } });
    await client.close();
    const failed = await post('/v1/refunds', { payment_intent: pi, amount: 500 });
    assert.equal(failed.status, 200, failed.text);
    assert.deepEqual([failed.body.status, failed.body.failure_reason, failed.body.amount], ['failed', 'declined', 500]);
    const after = await charge(ch);
    assert.deepEqual([after.amount_refunded, after.refunded], [0, false]);
    const [row] = await chargesOf(stack, pi);
    assert.equal(row!.amount_refund_reserved, 0, 'the failed refund released its reservation');
    assert.deepEqual(await refundEventTypes(failed.body.id), ['refund.created', 'refund.failed', 'refund.updated', 'charge.refund.updated']);
    const small = await post('/v1/refunds', { payment_intent: pi, amount: 100 });
    assert.deepEqual([small.body.status, small.body.amount], ['succeeded', 100], small.text);
    assert.equal((await charge(ch)).amount_refunded, 100);
  });

  it('refuses refunds of unpaid and canceled PaymentIntents with payment_intent_unexpected_state', async () => {
    const unpaid = await stack.createPaymentIntent(seedWebRequest());
    assert.equal(unpaid.body.status, 'requires_action');
    const refused = await post('/v1/refunds', { payment_intent: unpaid.body.id });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error.code, 'payment_intent_unexpected_state');
    assert.match(refused.body.error.message, /requires_action/);
    const canceled = await post(`/v1/payment_intents/${unpaid.body.id}/cancel`, {});
    assert.equal(canceled.body.status, 'canceled', canceled.text);
    const again = await post('/v1/refunds', { payment_intent: unpaid.body.id, amount: 5 });
    assert.deepEqual([again.status, again.body.error.code], [400, 'payment_intent_unexpected_state']);
    assert.match(again.body.error.message, /canceled/);
    const created = await post('/v1/payment_intents', { amount: 100, currency: 'cny' });
    const fresh = await post('/v1/refunds', { payment_intent: created.body.id });
    assert.deepEqual([fresh.status, fresh.body.error.code], [400, 'payment_intent_unexpected_state']);
    assert.equal((await stack.gateway.database.db.selectFrom('refunds').selectAll().where('payment_intent_id', 'in', [unpaid.body.id, created.body.id]).execute()).length, 0);
  });

  it('validates parameters, replays by Idempotency-Key, updates metadata and hides other accounts\' refunds', async () => {
    const { pi } = await paid(300);
    const missing = await post('/v1/refunds', { amount: 5 });
    assert.deepEqual([missing.status, missing.body.error.code], [400, 'parameter_missing']);
    const zero = await post('/v1/refunds', { payment_intent: pi, amount: 0 });
    assert.equal(zero.status, 400, zero.text);
    const unknown = await post('/v1/refunds', { payment_intent: pi, bogus: 1 });
    assert.deepEqual([unknown.status, unknown.body.error.code], [400, 'parameter_unknown']);
    const badReason = await post('/v1/refunds', { payment_intent: pi, reason: 'bored' });
    assert.equal(badReason.status, 400);

    const key = { 'Idempotency-Key': `refund-${pi}` };
    const first = await post('/v1/refunds', { payment_intent: pi, amount: 50 }, key);
    const replay = await post('/v1/refunds', { payment_intent: pi, amount: 50 }, key);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.equal(replay.body.id, first.body.id);
    assert.equal(sandboxRefunds(pi).length, 1, 'one refund at Alipay+');

    const updated = await post(`/v1/refunds/${first.body.id}`, { metadata: { note: 'x' } });
    assert.deepEqual([updated.status, updated.body.metadata], [200, { note: 'x' }], updated.text);
    const types = await refundEventTypes(first.body.id);
    assert.equal(types.at(-1), 'refund.updated');
    const retrieved = await get(`/v1/refunds/${first.body.id}`);
    assert.deepEqual(retrieved.body.metadata, { note: 'x' });

    const other = await stack.gateway.newAccount();
    const hidden = await api(stack.gateway, 'GET', `/v1/refunds/${first.body.id}`, { key: other.test.secretKey });
    assert.deepEqual([hidden.status, hidden.body.error.code], [404, 'resource_missing']);
    const foreign = await api(stack.gateway, 'POST', '/v1/refunds', { key: other.test.secretKey, json: { payment_intent: pi } });
    assert.equal(foreign.status, 404, foreign.text);
    const otherList = await api(stack.gateway, 'GET', '/v1/refunds', { key: other.test.secretKey });
    assert.deepEqual(otherList.body.data, []);
  });

  it('refuses refunds more than a year after payment (the clock moves; run last)', async () => {
    const { pi } = await paid(400);
    ws.clock.advance(365 * 24 * 60 * 60 * 1000 + 60_000);
    const late = await post('/v1/refunds', { payment_intent: pi });
    assert.equal(late.status, 400, late.text);
    assert.equal(late.body.error.code, 'charge_expired_for_refund');
    assert.match(late.body.error.message, /one year/);
  });
});
