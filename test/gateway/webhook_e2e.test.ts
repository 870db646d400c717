import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { payInWallet, startPaymentStack, waitForIntentStatus, waitUntil } from '../support/e2e-harness.js';
import type { PaymentStack } from '../support/e2e-harness.js';
import { parseSignature, startReceiver } from '../support/webhook-harness.js';
import type { Receiver } from '../support/webhook-harness.js';

const stripe = new Stripe('sk_test_unused', { maxNetworkRetries: 0 });

describe('a payment end to end, announced by signed webhooks', () => {
  let stack: PaymentStack;
  let receiver: Receiver;
  let unsubscribed: Receiver;

  before(async () => {
    stack = await startPaymentStack();
    receiver = await startReceiver();
    unsubscribed = await startReceiver();
  });
  after(async () => {
    await stack.stop();
    await receiver.close();
    await unsubscribed.close();
  });

  it('delivers payment_intent.created, requires_action, succeeded and charge.succeeded to the subscribed endpoint', async () => {
    const key = stack.gateway.secretKey;
    const types = ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded', 'charge.succeeded'];
    const endpoint = (await api(stack.gateway, 'POST', '/v1/webhook_endpoints', { key, json: { url: receiver.url, enabled_events: types } })).body;
    await api(stack.gateway, 'POST', '/v1/webhook_endpoints', { key, json: { url: unsubscribed.url, enabled_events: ['payment_intent.canceled'] } });
    const created = await stack.createPaymentIntent(seedWebRequest());
    assert.equal(created.body.status, 'requires_action', created.text);
    const paid = await payInWallet(stack, { codeValue: created.body.next_action.alipay_handle_redirect.qr_code.data });
    assert.equal(paid.status, 200, paid.text);
    const intent = await waitForIntentStatus(stack, created.body.id, 'succeeded');
    await waitUntil(() => receiver.received.length >= 4, 'four webhooks', 10_000);
    const events = receiver.received.map((r) => stripe.webhooks.constructEvent(r.body, r.headers['stripe-signature']!, endpoint.secret));
    assert.deepEqual(events.map((e) => e.type).sort(), [...types].sort());
    for (const r of receiver.received) {
      const { t, v1 } = parseSignature(r.headers['wooshpay-signature']);
      assert.equal(v1, createHmac('sha256', endpoint.secret).update(`${t}.${r.body}`).digest('hex'));
    }
    const byType = new Map(events.map((e) => [e.type, e.data.object as unknown as { id: string; status: string; payment_intent?: string }]));
    assert.equal(byType.get('payment_intent.succeeded')!.id, intent.id);
    assert.equal(byType.get('payment_intent.succeeded')!.status, 'succeeded');
    assert.deepEqual([byType.get('charge.succeeded')!.id, byType.get('charge.succeeded')!.payment_intent], [intent.latest_charge, intent.id]);
    const succeeded = events.find((e) => e.type === 'payment_intent.succeeded')!;
    assert.equal(succeeded.request?.id, null, 'caused by the wallet network\'s notification, not an API call');
    const createdEvent = events.find((e) => e.type === 'payment_intent.created')!;
    assert.equal(createdEvent.request?.id, created.headers.get('request-id'));
    await waitUntil(async () => (await api(stack.gateway, 'GET', `/v1/events/${succeeded.id}`, { key })).body.pending_webhooks === 0, 'pending_webhooks to reach 0');
    assert.equal(unsubscribed.received.length, 0);
  });
});
