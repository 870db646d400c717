import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { api } from '../support/gateway-server.js';
import { attemptsOf, chargesOf, eventTypesOf, payInWallet, retrieveIntent, waitUntil, type PaymentStack } from '../support/e2e-harness.js';
import { CANCEL_CHECK_DELAY_MS, RETRY_BACKOFF_MS } from '../../src/gateway/domain/schedule.js';
import { addFault, requiresAction, sandboxPayment, startWorkerStack, type WorkerStack } from './worker-support.js';

/** 00:16 UTC+8 on the day after the manual clock's start (2026-11-26 12:00 UTC+8): past the cancel window. */
const AFTER_CANCEL_WINDOW_MS = Date.parse('2026-11-27T00:16:00+08:00');

async function cancelIntent(stack: PaymentStack, id: string) {
  const canceled = await api(stack.gateway, 'POST', `/v1/payment_intents/${id}/cancel`, { key: stack.gateway.secretKey, json: {} });
  assert.equal(canceled.status, 200, canceled.text);
  assert.equal(canceled.body.status, 'canceled');
}

/** The PaymentIntent is canceled but Alipay+ never heard (its cancel answered U on every send); then the shopper pays. */
async function paidAfterCancel(ws: WorkerStack) {
  const { stack } = ws;
  const intent = await requiresAction(stack);
  await addFault(stack, { target: 'cancelPayment', kind: 'unknown', count: 3 });
  await cancelIntent(stack, intent.id);
  assert.deepEqual((await attemptsOf(stack, intent.id)).map((a) => a.status), ['canceling']);
  const paid = await payInWallet(stack, { codeValue: intent.codeValue });
  assert.equal(paid.status, 200, paid.text);
  // The gateway acknowledges the success notification but does not record it: nobody awaits it.
  await waitUntil(async () => (await sandboxPayment(stack, intent.paymentId)).notifications[0]?.status === 'acknowledged', 'the notification to be acknowledged');
  const still = await retrieveIntent(stack, intent.id);
  assert.deepEqual([still.status, still.amount_received, still.latest_charge], ['canceled', 0, null]);
  assert.equal((await sandboxPayment(stack, intent.paymentId)).status, 'SUCCESS');
  return intent;
}

describe('worker: canceled PaymentIntents end cancelled at Alipay+, and money paid after a cancel goes back', () => {
  let ws: WorkerStack | undefined;
  afterEach(async () => {
    await ws?.stack.stop();
    ws = undefined;
  });

  it('cancel during requires_action whose network cancel failed: the worker cancels it, retrying on U', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    const intent = await requiresAction(stack);
    // 3 failed sends for the request path's cancel, 3 more for the worker's first try.
    await addFault(stack, { target: 'cancelPayment', kind: 'unknown', count: 6 });
    await cancelIntent(stack, intent.id);
    const [attempt] = await attemptsOf(stack, intent.id);
    assert.equal(attempt!.status, 'canceling');
    assert.equal((await sandboxPayment(stack, intent.paymentId)).status, 'PROCESSING');

    assert.deepEqual(await ws.worker().runOnce(), [], 'the worker waits CANCEL_CHECK_DELAY_MS first');
    clock.advance(CANCEL_CHECK_DELAY_MS);
    assert.deepEqual(await ws.worker().runOnce(), [attempt!.id]);
    assert.deepEqual((await attemptsOf(stack, intent.id)).map((a) => [a.status, a.checks, a.next_check_at]), [['canceling', 1, clock.now() + RETRY_BACKOFF_MS[0]!]]);
    clock.advance(RETRY_BACKOFF_MS[0]!);
    assert.deepEqual(await ws.worker().runOnce(), [attempt!.id]);

    assert.deepEqual((await attemptsOf(stack, intent.id)).map((a) => [a.status, a.reversal]), [['canceled', null]]);
    const atSandbox = await sandboxPayment(stack, intent.paymentId);
    assert.deepEqual([atSandbox.status, atSandbox.resultCode], ['CANCELLED', 'ORDER_IS_CLOSED']);
    const refused = await payInWallet(stack, { codeValue: intent.codeValue });
    assert.equal(refused.status, 409, refused.text);
    const after = await retrieveIntent(stack, intent.id);
    assert.deepEqual([after.status, after.amount_received], ['canceled', 0]);
    assert.deepEqual(await eventTypesOf(stack, intent.id), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.canceled']);
  });

  it('paid after cancel, within the cancel window: cancelPayment reverses the payment and the attempt notes it', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    const intent = await paidAfterCancel(ws);
    clock.advance(CANCEL_CHECK_DELAY_MS);
    assert.equal((await ws.worker().runOnce()).length, 1);

    const [attempt] = await attemptsOf(stack, intent.id);
    assert.deepEqual([attempt!.status, attempt!.reversal, attempt!.reversal_refund_request_id], ['canceled', 'cancel', null]);
    const atSandbox = await sandboxPayment(stack, intent.paymentId);
    assert.deepEqual([atSandbox.status, atSandbox.refunds.length], ['CANCELLED', 0], 'the paid order was reversed by the cancel');
    assert.equal((await chargesOf(stack, intent.id)).length, 0);
    assert.equal((await retrieveIntent(stack, intent.id)).status, 'canceled');
    assert.ok(stack.gateway.logs.some((line) => line.includes('reversed by cancelPayment') && line.includes(attempt!.payment_request_id)));
  });

  it('paid after cancel, past the cancel window: CANCEL_WINDOW_EXCEED, so a full refund under <paymentRequestId>_reversal, retried with the same id', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    const intent = await paidAfterCancel(ws);
    await addFault(stack, { target: 'refund', kind: 'unknown', count: 3 });
    clock.set(AFTER_CANCEL_WINDOW_MS);
    assert.equal((await ws.worker().runOnce()).length, 1);
    assert.deepEqual((await attemptsOf(stack, intent.id)).map((a) => a.status), ['canceling'], 'the refund answered U: retried later');
    assert.equal((await sandboxPayment(stack, intent.paymentId)).refunds.length, 0);

    clock.advance(RETRY_BACKOFF_MS[0]!);
    assert.equal((await ws.worker().runOnce()).length, 1);
    const [attempt] = await attemptsOf(stack, intent.id);
    const refundRequestId = `${intent.id}_1_reversal`;
    const atSandbox = await sandboxPayment(stack, intent.paymentId);
    assert.equal(atSandbox.status, 'SUCCESS');
    assert.deepEqual(atSandbox.refundedAmount, { currency: 'CNY', value: '20' });
    assert.deepEqual(atSandbox.refunds.map((r: { refundRequestId: string; amount: unknown }) => [r.refundRequestId, r.amount]), [[refundRequestId, { currency: 'CNY', value: '20' }]]);
    assert.deepEqual([attempt!.status, attempt!.reversal, attempt!.reversal_refund_request_id, attempt!.reversal_refund_id], ['canceled', 'refund', refundRequestId, atSandbox.refunds[0].refundId]);
    assert.equal((await chargesOf(stack, intent.id)).length, 0);
    assert.ok(stack.gateway.logs.some((line) => line.includes('refunded in full') && line.includes(refundRequestId)));

    clock.advance(RETRY_BACKOFF_MS.at(-1)!);
    assert.deepEqual(await ws.worker().runOnce(), [], 'nothing left to do');
  });
});
