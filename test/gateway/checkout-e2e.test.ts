import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { createSession, openPage, pagePathOf, retrieveSession, seedSessionRequest } from '../support/checkout-support.js';
import { attemptsOf, codeValueOf, eventTypesOf, payInWallet, retrieveIntent, sandboxPaymentIdsOf, startPaymentStack, waitUntil, type PaymentStack } from '../support/e2e-harness.js';
import { ManualClock } from '../support/gateway-server.js';

const MINUTE_MS = 60_000;

describe("the seed's hosted checkout end to end through the sandbox", () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack();
  });
  after(async () => {
    await stack.stop();
  });
  const session = (id: string) => retrieveSession(stack.gateway, id);

  it('creates the session, the page shows the QR code, the wallet pays, the session completes', async () => {
    const created = await createSession(stack.gateway, seedSessionRequest());
    assert.equal(created.status, 200, created.text);
    const cs = created.body;
    const page = await openPage(stack.gateway, pagePathOf(cs.url));
    assert.equal(page.status, 200);
    assert.match(page.text, /data-testid="qr-code"/);
    const intent = await retrieveIntent(stack, cs.payment_intent);
    assert.equal(intent.status, 'requires_action');
    assert.equal(intent.return_url, cs.url, 'the wallet sends the shopper back to the hosted page');
    assert.equal(sandboxPaymentIdsOf(stack, cs.payment_intent).length, 1);

    const paid = await payInWallet(stack, { codeValue: codeValueOf(intent) });
    assert.equal(paid.status, 200, paid.text);
    const done = await waitUntil(async () => {
      const s = await session(cs.id);
      return s.status === 'complete' ? s : null;
    }, 'the session to complete');
    assert.deepEqual([done.payment_status, done.amount_total], ['paid', 100000]);
    assert.equal((await retrieveIntent(stack, cs.payment_intent)).amount_received, 100000);
    assert.deepEqual(await eventTypesOf(stack, cs.id), ['checkout.session.completed']);
    assert.deepEqual(await eventTypesOf(stack, cs.payment_intent), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded', 'charge.succeeded', 'checkout.session.completed']);
    // Reloading the page after payment shows it complete and makes no new attempt.
    const reloaded = await openPage(stack.gateway, pagePathOf(cs.url));
    assert.match(reloaded.text, /data-state="complete"/);
    assert.equal((await attemptsOf(stack, cs.payment_intent)).length, 1);
  });

  it('the official stripe package creates and retrieves a session and lists its line items', async () => {
    const stripe = new Stripe(stack.gateway.secretKey, { host: '127.0.0.1', port: stack.gateway.port, protocol: 'http', maxNetworkRetries: 0 });
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    const created = await stripe.checkout.sessions.create({
      mode: 'payment',
      success_url: 'https://shop.test/ok?session_id={CHECKOUT_SESSION_ID}',
      cancel_url: 'https://shop.test/cart',
      line_items: [{ price_data: { currency: 'cny', unit_amount: 888, product_data: { name: '凤梨酥 Pineapple cake' } }, quantity: 3 }],
      client_reference_id: 'sdk-1',
      expires_at: expiresAt,
      metadata: { channel: 'sdk' },
    });
    assert.match(created.id, /^cs_\d{19}$/);
    assert.deepEqual([created.status, created.payment_status, created.amount_total, created.currency, created.expires_at], ['open', 'unpaid', 2664, 'CNY', expiresAt * 1000]);
    assert.match(created.url ?? '', /\/pay\/cs_\d{19}\?key=pk_test_/);
    assert.match(created.lastResponse.requestId, /^req_/);
    const retrieved = await stripe.checkout.sessions.retrieve(created.id);
    assert.deepEqual([retrieved.id, retrieved.payment_intent, retrieved.client_reference_id, retrieved.metadata], [created.id, created.payment_intent, 'sdk-1', { channel: 'sdk' }]);
    const items = await stripe.checkout.sessions.listLineItems(created.id);
    assert.deepEqual(items.data.map((item) => [item.description, item.quantity, item.amount_total]), [['凤梨酥 Pineapple cake', 3, 2664]]);
    const listed = await stripe.checkout.sessions.list({ limit: 1 });
    assert.equal(listed.data[0]?.id, created.id);
    const expired = await stripe.checkout.sessions.expire(created.id);
    assert.equal(expired.status, 'expired');
  });
});

describe('checkout session expiry by the worker through the sandbox (injected clock)', () => {
  const clock = new ManualClock(Date.now());
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack({ clock, worker: { autoStart: false } });
  });
  after(async () => {
    await stack.stop();
  });

  it('replaces a QR code that timed out, then at expires_at expires the session and cancels the live Alipay+ payment', async () => {
    const cs = (await createSession(stack.gateway, { ...seedSessionRequest(), expires_at: clock.ms + 30 * MINUTE_MS })).body;
    await openPage(stack.gateway, pagePathOf(cs.url));
    const worker = stack.gateway.running.worker!;
    // The first attempt's order closes at Alipay+ after 14 minutes; the worker records that.
    clock.advance(20 * MINUTE_MS);
    await worker.runOnce();
    assert.deepEqual((await attemptsOf(stack, cs.payment_intent)).map((a) => [a.status, a.failure_code]), [['failed', 'ORDER_IS_CLOSED']]);
    assert.equal((await retrieveSession(stack.gateway, cs.id)).status, 'open');
    // The shopper's page (reloaded by its countdown) gets a fresh QR code without asking.
    const fresh = await openPage(stack.gateway, pagePathOf(cs.url));
    assert.match(fresh.text, /data-testid="qr-code"/);
    const [, paymentId] = sandboxPaymentIdsOf(stack, cs.payment_intent);
    assert.ok(paymentId);
    clock.advance(10 * MINUTE_MS);
    await worker.runOnce();
    const expired = await retrieveSession(stack.gateway, cs.id);
    assert.deepEqual([expired.status, expired.payment_status], ['expired', 'unpaid']);
    assert.equal((await retrieveIntent(stack, cs.payment_intent)).status, 'canceled');
    assert.deepEqual((await attemptsOf(stack, cs.payment_intent)).map((a) => a.status), ['failed', 'canceled']);
    const atSandbox = await stack.control('GET', `/sandbox/v1/payments/${paymentId}`);
    assert.equal(atSandbox.body.status, 'CANCELLED');
    assert.deepEqual(await eventTypesOf(stack, cs.id), ['checkout.session.expired']);
    const page = await openPage(stack.gateway, pagePathOf(cs.url));
    assert.match(page.text, /data-state="expired"/);
  });
});
