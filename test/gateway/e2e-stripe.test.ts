import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { AlipayPlusClient } from '../../src/alipayplus/index.js';
import {
  E2E_CLIENT_ID,
  attemptsOf,
  codeValueOf,
  payInWallet,
  sandboxPaymentIdsOf,
  startPaymentStack,
  waitUntil,
  type PaymentStack,
} from '../support/e2e-harness.js';
import { fixtureKeys } from '../support/keys.js';
import { payRequest } from '../support/sandbox-harness.js';

type CreateParams = Parameters<Stripe['paymentIntents']['create']>[0];

/** The Direct API's Alipay fields, which stripe-node's types do not know (terminal_type, os_type). */
function alipayCreateParams(terminalType: 'WEB' | 'WAP' | 'APP', extra: Record<string, unknown> = {}): CreateParams {
  return {
    amount: 20,
    currency: 'cny',
    confirm: true,
    payment_method_types: ['alipay'],
    payment_method_data: { type: 'alipay' },
    payment_method_options: { alipay: { terminal_type: terminalType, client_ip: '192.168.0.1', ...(terminalType === 'WEB' ? {} : { os_type: 'ANDROID' }) } },
    return_url: 'https://shop.test/return',
    ...extra,
  } as unknown as CreateParams;
}

/** The seed's `alipay_handle_redirect`, which stripe-node passes through untyped. */
const codeOf = (intent: Stripe.PaymentIntent) => codeValueOf(intent as unknown as Parameters<typeof codeValueOf>[0]);

describe('the official stripe npm package, end to end through the sandbox', () => {
  let stack: PaymentStack;
  let stripe: Stripe;
  before(async () => {
    stack = await startPaymentStack();
    stripe = new Stripe(stack.gateway.secretKey, { host: '127.0.0.1', port: stack.gateway.port, protocol: 'http', maxNetworkRetries: 0 });
  });
  after(async () => {
    await stack.stop();
  });

  it('creates+confirms an Alipay PaymentIntent, the shopper pays, retrieve shows succeeded with its Charge', async () => {
    const created = await stripe.paymentIntents.create(alipayCreateParams('WEB', { metadata: { order: 'sdk-1' } }));
    assert.equal(created.status, 'requires_action');
    assert.equal(created.next_action?.type, 'redirect_to_url');
    assert.match(created.next_action?.redirect_to_url?.url ?? '', /checkout\.htm\?codeValue=/);
    assert.equal(created.next_action?.redirect_to_url?.return_url, 'https://shop.test/return');
    assert.deepEqual((created.payment_method_options as unknown as { alipay: unknown }).alipay, { client_ip: '192.168.0.1', terminal_type: 'WEB', os_type: null });

    const paid = await payInWallet(stack, { codeValue: codeOf(created) });
    assert.equal(paid.status, 200, paid.text);
    const succeeded = await waitUntil(async () => {
      const intent = await stripe.paymentIntents.retrieve(created.id);
      return intent.status === 'succeeded' ? intent : null;
    }, 'the SDK to see succeeded');
    assert.deepEqual([succeeded.amount, succeeded.amount_received, succeeded.currency, succeeded.metadata], [20, 20, 'CNY', { order: 'sdk-1' }]);
    const charge = await stripe.charges.retrieve(String(succeeded.latest_charge));
    assert.deepEqual([charge.amount, charge.paid, charge.status, charge.payment_intent], [20, true, 'succeeded', created.id]);
    assert.deepEqual(charge.payment_method_details?.alipay, { buyer_id: '2088102146225135', transaction_id: paid.body.payment.paymentId, wallet: 'Alipay' } as unknown);
  });

  it('confirms separately; a pay-time decline is a StripeCardError carrying decline_code and the PaymentIntent', async () => {
    const created = await stripe.paymentIntents.create({ amount: 20, currency: 'cny' });
    // Alipay+ already holds `<pi>_1` with another amount, so it answers the gateway's pay with F.
    const client = new AlipayPlusClient({ baseUrl: stack.sandbox.url(), clientId: E2E_CLIENT_ID, privateKey: fixtureKeys().gatewayPrivatePem, alipayPublicKey: fixtureKeys().alipayPublicPem });
    try {
      await client.pay(payRequest({ paymentRequestId: `${created.id}_1`, value: '21' }));
    } finally {
      await client.close();
    }
    const confirmParams = { payment_method_data: { type: 'alipay' }, return_url: 'https://shop.test/return' } as Parameters<Stripe['paymentIntents']['confirm']>[1];
    await assert.rejects(stripe.paymentIntents.confirm(created.id, confirmParams), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeCardError, String(error));
      assert.equal(error.statusCode, 402);
      assert.equal(error.code, 'payment_intent_payment_attempt_failed');
      assert.equal(error.decline_code, 'REPEAT_REQ_INCONSISTENT');
      assert.equal(error.payment_intent?.id, created.id);
      assert.equal(error.payment_intent?.status, 'requires_payment_method');
      return true;
    });
    const again = await stripe.paymentIntents.confirm(created.id, {});
    assert.equal(again.status, 'requires_action');
    assert.deepEqual((await attemptsOf(stack, created.id)).map((a) => a.status), ['failed', 'pending']);
  });

  it('lists with auto-pagination across pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await stripe.paymentIntents.create(alipayCreateParams('WEB', { amount: 100 + i }))).id);
    const seen: string[] = [];
    for await (const intent of stripe.paymentIntents.list({ limit: 2 })) seen.push(intent.id);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates across pages');
    assert.deepEqual(seen.slice(0, 5), [...ids].reverse(), 'newest first');
    assert.ok(seen.length >= 7, `every PaymentIntent of this account is listed (${seen.length})`);
    const amounts = (await stripe.paymentIntents.list({ limit: 3 }).autoPagingToArray({ limit: 5 })).map((intent) => intent.amount);
    assert.deepEqual(amounts, [104, 103, 102, 101, 100]);
  });

  it('cancels a PaymentIntent waiting for the shopper; Alipay+ closes its payment', async () => {
    const created = await stripe.paymentIntents.create(alipayCreateParams('APP'));
    assert.equal(created.status, 'requires_action');
    const canceled = await stripe.paymentIntents.cancel(created.id, { cancellation_reason: 'abandoned' });
    assert.deepEqual([canceled.status, canceled.cancellation_reason], ['canceled', 'abandoned']);
    const [paymentId] = sandboxPaymentIdsOf(stack, created.id);
    assert.equal((await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.status, 'CANCELLED');
    const refused = await payInWallet(stack, { codeValue: codeOf(created) });
    assert.equal(refused.status, 409);
    assert.equal((await stripe.paymentIntents.retrieve(created.id)).status, 'canceled');
  });
});
