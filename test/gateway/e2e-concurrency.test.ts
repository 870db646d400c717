import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, seedWebRequest, type ApiResponse } from '../support/gateway-server.js';
import {
  attemptsOf,
  codeValueOf,
  eventTypesOf,
  payInWallet,
  sandboxPaymentIdsOf,
  startPaymentStack,
  waitForIntentStatus,
  waitUntil,
  type PaymentStack,
} from '../support/e2e-harness.js';

const PARALLEL = 20;

/** Status → how many responses had it. */
function tally(responses: ApiResponse[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const response of responses) counts[response.status] = (counts[response.status] ?? 0) + 1;
  return counts;
}

describe('concurrent confirms on the real path: one attempt, one payment at Alipay+', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack();
  });
  after(async () => {
    await stack.stop();
  });

  it(`${PARALLEL} concurrent confirms of one PaymentIntent → one succeeds, the rest are refused; one sandbox payment`, async () => {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), confirm: false });
    assert.equal(created.body.status, 'requires_confirmation', created.text);
    const id = created.body.id;
    const responses = await Promise.all(
      Array.from({ length: PARALLEL }, () => api(stack.gateway, 'POST', `/v1/payment_intents/${id}/confirm`, { key: stack.gateway.secretKey, json: {} })),
    );
    assert.deepEqual(tally(responses), { 200: 1, 400: PARALLEL - 1 }, responses.map((r) => r.text).join('\n'));
    for (const refused of responses.filter((r) => r.status === 400)) assert.equal(refused.body.error.code, 'payment_intent_unexpected_state');
    const winner = responses.find((r) => r.status === 200) as ApiResponse;
    assert.equal(winner.body.status, 'requires_action');

    const attempts = await attemptsOf(stack, id);
    assert.deepEqual(attempts.map((a) => a.payment_request_id), [`${id}_1`]);
    const payments = sandboxPaymentIdsOf(stack, id);
    assert.deepEqual(payments, [attempts[0]?.external_payment_id]);
    assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.requires_action']);

    assert.equal((await payInWallet(stack, { codeValue: codeValueOf(winner.body) })).status, 200);
    assert.equal((await waitForIntentStatus(stack, id, 'succeeded')).amount_received, 20);
  });

  it(`${PARALLEL} concurrent create+confirm with one Idempotency-Key → one PaymentIntent, one attempt, one sandbox payment`, async () => {
    const key = `e2e-create-confirm-${process.pid}-${Date.now()}`;
    const body = { ...seedWebRequest(), amount: 777, metadata: { idem: key } };
    const responses = await Promise.all(Array.from({ length: PARALLEL }, () => stack.createPaymentIntent(body, { 'Idempotency-Key': key })));
    const ok = responses.filter((r) => r.status === 200);
    const inUse = responses.filter((r) => r.status === 409);
    assert.equal(ok.length + inUse.length, PARALLEL, `only 200 or 409: ${JSON.stringify(tally(responses))}`);
    assert.ok(ok.length >= 1);
    for (const response of inUse) assert.equal(response.body.error.code, 'idempotency_key_in_use');
    const ids = new Set(ok.map((r) => r.body.id));
    assert.equal(ids.size, 1, 'every 200 is the same PaymentIntent');
    const id = [...ids][0] as string;

    const listed = await api(stack.gateway, 'GET', '/v1/payment_intents/search?query=' + encodeURIComponent(`metadata['idem']:'${key}'`), { key: stack.gateway.secretKey });
    assert.deepEqual(listed.body.data.map((pi: { id: string }) => pi.id), [id], 'exactly one PaymentIntent was created');
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => a.payment_request_id), [`${id}_1`]);
    assert.equal(sandboxPaymentIdsOf(stack, id).length, 1);

    const replay = await stack.createPaymentIntent(body, { 'Idempotency-Key': key });
    assert.deepEqual([replay.status, replay.body.id, replay.body.status, replay.headers.get('idempotent-replayed')], [200, id, 'requires_action', 'true']);
    assert.equal(replay.body.next_action.alipay_handle_redirect.qr_code.data, codeValueOf(ok[0]?.body));
    assert.equal(sandboxPaymentIdsOf(stack, id).length, 1, 'a replay sends nothing');
  });
});

/**
 * Cancel while confirm's pay is between sends: cancelPayment finds no order yet (ORDER_NOT_EXIST),
 * then the re-send opens one. That order must still end closed at Alipay+ — never paid and kept —
 * whether it is closed before the shopper can pay it or reversed after.
 */
describe('cancel racing a confirm whose pay is being re-sent', () => {
  let stack: PaymentStack;
  before(async () => {
    // A long pause between sends opens a window in which the attempt is `sending` and Alipay+ has
    // no order yet. The attempt worker runs: closing what the race leaves open may be its job.
    stack = await startPaymentStack({ resendBackoffMs: 600 });
  });
  after(async () => {
    await stack.stop();
  });

  it('the order the re-send opens after the cancel ends CANCELLED, whether or not the shopper tried to pay it', async () => {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), confirm: false });
    const id: string = created.body.id;
    await stack.control('POST', '/sandbox/v1/faults', { target: 'pay', kind: 'unknown', count: 1 });
    const confirming = api(stack.gateway, 'POST', `/v1/payment_intents/${id}/confirm`, { key: stack.gateway.secretKey, json: {} });
    // Cancel while the first send has been answered U and the re-send is still waiting.
    await waitUntil(async () => (await stack.control('GET', '/sandbox/v1/faults')).body.faults.length === 0, 'the first send');
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => a.status), ['sending']);
    const canceled = await api(stack.gateway, 'POST', `/v1/payment_intents/${id}/cancel`, { key: stack.gateway.secretKey, json: {} });
    assert.equal(canceled.body.status, 'canceled', canceled.text);
    assert.equal((await confirming).body.status, 'canceled');

    const [paymentId, ...more] = sandboxPaymentIdsOf(stack, id);
    assert.ok(paymentId, 'the re-send did open the order at Alipay+');
    assert.deepEqual(more, []);
    await payInWallet(stack, { paymentId }); // 409 if it is already closed; a payment to be reversed otherwise
    await waitUntil(async () => (await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.status === 'CANCELLED', 'the order to end CANCELLED', 8000);
    const intent = await api(stack.gateway, 'GET', `/v1/payment_intents/${id}`, { key: stack.gateway.secretKey });
    assert.deepEqual([intent.body.status, intent.body.latest_charge, intent.body.amount_received], ['canceled', null, 0]);
    assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.canceled'], 'no charge.succeeded for money returned');
  });
});
