import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { api, seedWebRequest, startTestGateway, type TestGateway } from '../support/gateway-server.js';
import { payInWallet, startPaymentStack, waitForIntentStatus, type PaymentStack } from '../support/e2e-harness.js';

/** The unmodified official SDK creates, lists, retrieves and updates refunds of a real Alipay+ payment. */
describe('refunds with the official stripe package', () => {
  let stack: PaymentStack;
  let stripe: Stripe;
  before(async () => {
    stack = await startPaymentStack();
    stripe = new Stripe(stack.gateway.secretKey, { host: '127.0.0.1', port: stack.gateway.port, protocol: 'http', maxNetworkRetries: 0 });
  });
  after(async () => {
    await stack.stop();
  });

  it('creates, lists, retrieves and updates refunds; cancel of a sent refund is refused', async () => {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), amount: 1500 });
    assert.equal((await payInWallet(stack, { codeValue: created.body.next_action.alipay_handle_redirect.qr_code.data })).status, 200);
    const intent = await waitForIntentStatus(stack, created.body.id, 'succeeded');

    const partial = await stripe.refunds.create({ payment_intent: intent.id, amount: 500, reason: 'requested_by_customer' });
    assert.match(partial.id, /^re_\d{19}$/);
    assert.deepEqual([partial.object, partial.amount, partial.currency, partial.status, partial.charge, partial.payment_intent], ['refund', 500, 'CNY', 'succeeded', intent.latest_charge, intent.id]);
    const rest = await stripe.refunds.create({ charge: intent.latest_charge as string, metadata: { why: 'rest' } });
    assert.deepEqual([rest.amount, rest.status, rest.metadata], [1000, 'succeeded', { why: 'rest' }]);

    const listed = await stripe.refunds.list({ payment_intent: intent.id, limit: 10 });
    assert.deepEqual(listed.data.map((r) => [r.id, r.amount]), [[rest.id, 1000], [partial.id, 500]]);
    const retrieved = await stripe.refunds.retrieve(partial.id);
    assert.deepEqual([retrieved.id, retrieved.amount, retrieved.status], [partial.id, 500, 'succeeded']);
    const updated = await stripe.refunds.update(partial.id, { metadata: { note: 'ok' } });
    assert.deepEqual(updated.metadata, { note: 'ok' });

    const charge = await stripe.charges.retrieve(intent.latest_charge as string);
    assert.deepEqual([charge.amount_refunded, charge.refunded], [1500, true]);

    await assert.rejects(stripe.refunds.create({ payment_intent: intent.id }), (error: Stripe.errors.StripeError) => error.code === 'charge_already_refunded' && error.statusCode === 400);
    await assert.rejects(stripe.refunds.cancel(partial.id), (error: Stripe.errors.StripeError) => error.code === 'refund_not_cancelable' && error.statusCode === 400);
  });
});

/**
 * A gateway whose connector cannot refund (no Alipay+ side): refunds wait `pending` and unsent,
 * which is when a refund can still be canceled; canceling gives the amount back to the charge.
 */
describe('canceling a refund not yet sent', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
    gw.connector.nextPay = async (request) => ({ kind: 'succeeded', externalPaymentId: `ext_${request.paymentRequestId}`, buyerId: 'buyer_1', wallet: 'ALIPAY_CN' });
  });
  after(async () => {
    await gw.stop();
  });

  it('cancels a pending unsent refund, releases its amount, and refuses a second cancel', async () => {
    const post = (path: string, json: unknown) => api(gw, 'POST', path, { key: gw.secretKey, json });
    const created = await post('/v1/payment_intents', { ...seedWebRequest(), amount: 600 });
    assert.equal(created.body.status, 'succeeded', created.text);
    const refund = await post('/v1/refunds', { payment_intent: created.body.id, amount: 600 });
    assert.deepEqual([refund.status, refund.body.status], [200, 'pending'], refund.text);
    const full = await post('/v1/refunds', { payment_intent: created.body.id, amount: 1 });
    assert.equal(full.body.error.code, 'charge_already_refunded', 'the pending refund holds the whole amount');

    const canceled = await post(`/v1/refunds/${refund.body.id}/cancel`, {});
    assert.deepEqual([canceled.status, canceled.body.status, canceled.body.amount], [200, 'canceled', 600], canceled.text);
    const again = await post(`/v1/refunds/${refund.body.id}/cancel`, {});
    assert.deepEqual([again.status, again.body.error.code], [400, 'refund_not_cancelable']);
    assert.match(again.body.error.message, /canceled/);

    const charge = await api(gw, 'GET', `/v1/charges/${created.body.latest_charge}`, { key: gw.secretKey });
    assert.deepEqual([charge.body.amount_refunded, charge.body.refunded], [0, false]);
    const events = await gw.database.db.selectFrom('events').select(['type', 'data']).orderBy('id').execute();
    const types = events.filter((e) => (JSON.parse(e.data) as { object: { id: string } }).object.id === refund.body.id).map((e) => e.type);
    assert.deepEqual(types, ['refund.created', 'refund.updated', 'charge.refund.updated']);
    const next = await post('/v1/refunds', { payment_intent: created.body.id });
    assert.deepEqual([next.body.status, next.body.amount], ['pending', 600], 'the amount is refundable again');
  });
});
