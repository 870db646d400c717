import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, seedWebRequest } from '../support/gateway-server.js';
import {
  attemptsOf,
  chargesOf,
  codeValueOf,
  eventTypesOf,
  payInWallet,
  retrieveIntent,
  sandboxPaymentIdsOf,
  startPaymentStack,
  waitForIntentStatus,
  type PaymentStack,
} from '../support/e2e-harness.js';

describe('cancel before confirm and while the shopper is at the wallet', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack();
  });
  after(async () => {
    await stack.stop();
  });

  const cancel = (id: string, json: Record<string, unknown> = {}) => api(stack.gateway, 'POST', `/v1/payment_intents/${id}/cancel`, { key: stack.gateway.secretKey, json });
  const confirm = (id: string) => api(stack.gateway, 'POST', `/v1/payment_intents/${id}/confirm`, { key: stack.gateway.secretKey, json: {} });

  it('before confirm: canceled at once, nothing sent to Alipay+, confirm refused afterwards', async () => {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), confirm: false });
    assert.equal(created.body.status, 'requires_confirmation', created.text);
    const id = created.body.id;
    const canceled = await cancel(id, { cancellation_reason: 'requested_by_customer' });
    assert.equal(canceled.status, 200, canceled.text);
    assert.deepEqual([canceled.body.status, canceled.body.cancellation_reason], ['canceled', 'requested_by_customer']);
    assert.ok(Math.abs(canceled.body.canceled_at - Date.now()) < 60_000, 'canceled_at is a millisecond timestamp of now');

    const refused = await confirm(id);
    assert.deepEqual([refused.status, refused.body.error.code], [400, 'payment_intent_unexpected_state']);
    assert.equal(refused.body.error.payment_intent.status, 'canceled');
    assert.deepEqual(await attemptsOf(stack, id), []);
    assert.deepEqual(sandboxPaymentIdsOf(stack, id), []);
    assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.canceled']);
    const again = await cancel(id);
    assert.deepEqual([again.status, again.body.error.code], [400, 'payment_intent_unexpected_state']);
  });

  it('during requires_action: the sandbox payment is CANCELLED and the wallet refuses to pay it (409)', async () => {
    const created = await stack.createPaymentIntent(seedWebRequest());
    assert.equal(created.body.status, 'requires_action', created.text);
    const id = created.body.id;
    const [paymentId] = sandboxPaymentIdsOf(stack, id);
    assert.ok(paymentId);

    const canceled = await cancel(id, { cancellation_reason: 'abandoned' });
    assert.equal(canceled.status, 200, canceled.text);
    assert.deepEqual([canceled.body.status, canceled.body.next_action, canceled.body.cancellation_reason], ['canceled', null, 'abandoned']);
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => [a.payment_request_id, a.status]), [[`${id}_1`, 'canceled']]);
    const atSandbox = await stack.control('GET', `/sandbox/v1/payments/${paymentId}`);
    assert.deepEqual([atSandbox.body.status, atSandbox.body.resultCode, atSandbox.body.paymentRequestId], ['CANCELLED', 'ORDER_IS_CLOSED', `${id}_1`]);

    const byControl = await payInWallet(stack, { codeValue: codeValueOf(created.body) });
    assert.deepEqual([byControl.status, byControl.body.error.code], [409, 'payment_not_in_process']);
    const byWalletPage = await fetch(`${stack.sandbox.url()}/wallet/order`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ codeValue: codeValueOf(created.body), shopper: 'alice', action: 'pay' }).toString(),
      redirect: 'manual',
    });
    assert.equal(byWalletPage.status, 409);

    const after = await retrieveIntent(stack, id);
    assert.deepEqual([after.status, after.amount_received, after.latest_charge], ['canceled', 0, null]);
    assert.deepEqual(await chargesOf(stack, id), []);
    assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.canceled']);
    const stillCancelled = await stack.control('GET', `/sandbox/v1/payments/${paymentId}`);
    assert.deepEqual([stillCancelled.body.status, stillCancelled.body.notifications], ['CANCELLED', []], 'no payment, so nothing was notified');
  });

  it('a succeeded PaymentIntent cannot be canceled', async () => {
    const created = await stack.createPaymentIntent(seedWebRequest());
    assert.equal((await payInWallet(stack, { codeValue: codeValueOf(created.body) })).status, 200);
    await waitForIntentStatus(stack, created.body.id, 'succeeded');
    const refused = await cancel(created.body.id);
    assert.deepEqual([refused.status, refused.body.error.code, refused.body.error.payment_intent.status], [400, 'payment_intent_unexpected_state', 'succeeded']);
    const [paymentId] = sandboxPaymentIdsOf(stack, created.body.id);
    assert.equal((await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.status, 'SUCCESS', 'no cancel reached Alipay+');
  });
});
