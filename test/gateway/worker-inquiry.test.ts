import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { api } from '../support/gateway-server.js';
import { attemptsOf, chargesOf, eventTypesOf, payInWallet, retrieveIntent, sandboxPaymentIdsOf, waitUntil } from '../support/e2e-harness.js';
import { INQUIRY_FIRST_DELAY_MS, INQUIRY_INTERVAL_MAX_MS, SENDING_CHECK_DELAY_MS } from '../../src/gateway/domain/schedule.js';
import { addFault, requiresAction, sandboxPayment, startWorkerStack, type WorkerStack } from './worker-support.js';

const MINUTE_MS = 60_000;

describe('worker: attempts with no final outcome are inquired until they have one', () => {
  let ws: WorkerStack | undefined;
  afterEach(async () => {
    await ws?.stack.stop();
    ws = undefined;
  });

  it('a lost notification: the inquiry records the payment with one Charge and its Events', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    await addFault(stack, { target: 'notifyPayment', kind: 'drop', count: 8 });
    const intent = await requiresAction(stack);
    const paid = await payInWallet(stack, { codeValue: intent.codeValue });
    assert.equal(paid.status, 200, paid.text);

    assert.deepEqual(await ws.worker().runOnce(), [], 'the first inquiry is due INQUIRY_FIRST_DELAY_MS after requires_action');
    assert.equal((await retrieveIntent(stack, intent.id)).status, 'requires_action');
    clock.advance(INQUIRY_FIRST_DELAY_MS);
    const [attempt] = await attemptsOf(stack, intent.id);
    assert.deepEqual(await ws.worker().runOnce(), [attempt!.id]);

    const after = await retrieveIntent(stack, intent.id);
    assert.deepEqual([after.status, after.amount_received, after.next_action, after.last_payment_error], ['succeeded', 20, null, null]);
    const charges = await chargesOf(stack, intent.id);
    assert.deepEqual(charges.map((c) => [c.id, c.amount, c.status, c.transaction_id, c.buyer_id]), [[after.latest_charge, 20, 'succeeded', intent.paymentId, '2088102146225135']]);
    assert.deepEqual(await eventTypesOf(stack, intent.id), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded', 'charge.succeeded']);
    const [done] = await attemptsOf(stack, intent.id);
    assert.deepEqual([done!.status, done!.lease_owner, done!.lease_until, done!.checks], ['succeeded', null, null, 1]);
    const atSandbox = await sandboxPayment(stack, intent.paymentId);
    assert.equal(atSandbox.status, 'SUCCESS');
    assert.equal(atSandbox.notifications[0].sends[0].outcome, 'dropped');

    clock.advance(MINUTE_MS);
    assert.deepEqual(await ws.worker().runOnce(), [], 'a final attempt is never checked again');
  });

  it('waits for the notification first, then backs off: an abandoned payment costs 8 inquiries, the last at its expiry, then the cancel', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    // Without the sandbox's own expiry notice, only the worker can notice the expiry.
    await addFault(stack, { target: 'notifyPayment', kind: 'drop', count: 8 });
    const intent = await requiresAction(stack);
    const [opened] = await attemptsOf(stack, intent.id);
    const created = opened!.created;
    assert.equal(opened!.expires_at, created + 14 * MINUTE_MS);
    const checkAges: number[] = [];
    // Every pass moves the clock to the attempt's next check: each is one inquiry answering "still in process".
    for (let pass = 0; pass < 30; pass++) {
      const [attempt] = await attemptsOf(stack, intent.id);
      if (attempt!.status !== 'pending') break;
      assert.ok(attempt!.next_check_at! > clock.now(), 'nothing is due before its time');
      clock.set(attempt!.next_check_at!);
      assert.equal((await ws.worker().runOnce()).length, 1);
      checkAges.push(clock.now() - created);
      const [after] = await attemptsOf(stack, intent.id);
      if (after!.status === 'pending') assert.equal(after!.checks, checkAges.length, 'one inquiry per pass');
    }
    // Ages in seconds: wait 10 s for the notification, then each wait as long as the age (capped at 5 min), the last at the expiry.
    const S = 1_000;
    const first = checkAges[0]!;
    assert.ok(first >= INQUIRY_FIRST_DELAY_MS && first < INQUIRY_FIRST_DELAY_MS + S, `first inquiry ${first} ms after the attempt opened`);
    const gaps = checkAges.slice(1).map((age, i) => age - checkAges[i]!);
    assert.deepEqual(gaps.slice(0, 5), checkAges.slice(0, 5).map((age) => Math.max(age, INQUIRY_FIRST_DELAY_MS)), `backoff doubles the age: ${checkAges.join(',')}`);
    assert.ok(gaps.every((gap) => gap <= INQUIRY_INTERVAL_MAX_MS), `capped at 5 min: ${gaps.join(',')}`);
    assert.equal(checkAges.at(-1), 14 * MINUTE_MS, 'the last inquiry comes at the expiry, not a backoff step later');
    assert.equal(checkAges.length, 8, `inquiries: ${checkAges.map((age) => age / S).join(', ')} s`);
    const expired = await retrieveIntent(stack, intent.id);
    assert.deepEqual([expired.status, expired.last_payment_error.decline_code], ['requires_payment_method', 'ORDER_IS_CLOSED'], 'inquired unpaid at the expiry, then cancelled');
    assert.deepEqual((await attemptsOf(stack, intent.id)).map((a) => a.status), ['failed']);
  });

  it('pay answered U three times: processing, then the inquiry finds no order and fails the attempt; a new confirm pays', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    await addFault(stack, { target: 'pay', kind: 'unknown', count: 3 });
    const created = await stack.createPaymentIntent({ amount: 20, currency: 'CNY', confirm: true, payment_method_data: { type: 'alipay' }, return_url: 'https://shop.example/back' });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.status, 'processing');
    const id = created.body.id as string;
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => a.status), ['sending']);

    clock.advance(SENDING_CHECK_DELAY_MS - 1);
    assert.deepEqual(await ws.worker().runOnce(), [], 'the request path may still be re-sending the pay');
    clock.advance(1);
    assert.equal((await ws.worker().runOnce()).length, 1);

    const failed = await retrieveIntent(stack, id);
    assert.equal(failed.status, 'requires_payment_method');
    assert.equal(failed.last_payment_error.decline_code, 'ORDER_NOT_EXIST');
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => [a.status, a.failure_code]), [['failed', 'ORDER_NOT_EXIST']]);
    assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.processing', 'payment_intent.payment_failed']);
    assert.deepEqual(sandboxPaymentIdsOf(stack, id), [], 'the sandbox never created the order');

    const again = await api(stack.gateway, 'POST', `/v1/payment_intents/${id}/confirm`, { key: stack.gateway.secretKey, json: {} });
    assert.equal(again.body.status, 'requires_action', again.text);
    await payInWallet(stack, { codeValue: again.body.next_action.alipay_handle_redirect.qr_code.data });
    await waitUntil(async () => (await retrieveIntent(stack, id)).status === 'succeeded', 'the second attempt to succeed');
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => [a.payment_request_id, a.status]), [[`${id}_1`, 'failed'], [`${id}_2`, 'succeeded']]);
    assert.equal((await chargesOf(stack, id)).length, 1);
  });

  it('pay timed out after Alipay+ created the order: the worker closes the order nobody can pay and fails the attempt', async () => {
    ws = await startWorkerStack({ clientTimeoutMs: 300 });
    const { stack, clock } = ws;
    await addFault(stack, { target: 'pay', kind: 'timeout', count: 3, delayMs: 800 });
    const created = await stack.createPaymentIntent({ amount: 20, currency: 'CNY', confirm: true, payment_method_data: { type: 'alipay' }, return_url: 'https://shop.example/back' });
    assert.equal(created.body.status, 'processing', created.text);
    const id = created.body.id as string;
    const [paymentId] = sandboxPaymentIdsOf(stack, id);
    assert.equal((await sandboxPayment(stack, paymentId!)).status, 'PROCESSING');

    clock.advance(SENDING_CHECK_DELAY_MS);
    assert.equal((await ws.worker().runOnce()).length, 1);

    const failed = await retrieveIntent(stack, id);
    assert.deepEqual([failed.status, failed.last_payment_error.decline_code, failed.next_action], ['requires_payment_method', 'ORDER_IS_CLOSED', null]);
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => [a.status, a.failure_code]), [['failed', 'ORDER_IS_CLOSED']]);
    assert.equal((await sandboxPayment(stack, paymentId!)).status, 'CANCELLED', 'cancelPayment closed it at Alipay+');
    const refused = await payInWallet(stack, { paymentId: paymentId! });
    assert.equal(refused.status, 409, refused.text);
    assert.equal((await chargesOf(stack, id)).length, 0);
  });

  it('expiry: unpaid at expires_at, the attempt fails with ORDER_IS_CLOSED and the order is closed for the wallet', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    // Without the sandbox's own expiry notice, only the worker can notice the expiry.
    await addFault(stack, { target: 'notifyPayment', kind: 'drop', count: 8 });
    const intent = await requiresAction(stack);
    const [attempt] = await attemptsOf(stack, intent.id);
    assert.equal(attempt!.expires_at, attempt!.created + 14 * MINUTE_MS);

    clock.advance(13 * MINUTE_MS);
    assert.equal((await ws.worker().runOnce()).length, 1);
    assert.equal((await retrieveIntent(stack, intent.id)).status, 'requires_action', 'still payable a minute before expiry');
    clock.set(attempt!.expires_at! + 1);
    assert.equal((await ws.worker().runOnce()).length, 1);

    const expired = await retrieveIntent(stack, intent.id);
    assert.deepEqual([expired.status, expired.next_action, expired.last_payment_error.decline_code, expired.last_payment_error.type], ['requires_payment_method', null, 'ORDER_IS_CLOSED', 'card_error']);
    assert.deepEqual((await attemptsOf(stack, intent.id)).map((a) => [a.status, a.failure_code]), [['failed', 'ORDER_IS_CLOSED']]);
    assert.deepEqual(await eventTypesOf(stack, intent.id), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.payment_failed']);
    const atSandbox = await sandboxPayment(stack, intent.paymentId);
    assert.ok(['FAIL', 'CANCELLED'].includes(atSandbox.status) && atSandbox.resultCode === 'ORDER_IS_CLOSED', JSON.stringify(atSandbox));
    const refused = await payInWallet(stack, { codeValue: intent.codeValue });
    assert.equal(refused.status, 409, refused.text);
    assert.equal((await chargesOf(stack, intent.id)).length, 0);
  });
});
