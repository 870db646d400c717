import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, seedWebRequest } from '../support/gateway-server.js';
import {
  attemptsOf,
  codeValueOf,
  eventTypesOf,
  payInWallet,
  sandboxPaymentIdsOf,
  startPaymentStack,
  waitForIntentStatus,
  type PaymentStack,
} from '../support/e2e-harness.js';

/** Injects `count` faults of `kind` on the sandbox's pay API. */
async function payFault(stack: PaymentStack, kind: 'unknown' | 'timeout' | 'bad_signature', count = 1, delayMs?: number) {
  const added = await stack.control('POST', '/sandbox/v1/faults', { target: 'pay', kind, count, ...(delayMs === undefined ? {} : { delayMs }) });
  assert.equal(added.status, 201, added.text);
}

async function activeFaults(stack: PaymentStack): Promise<unknown[]> {
  return (await stack.control('GET', '/sandbox/v1/faults')).body.faults;
}

/**
 * Creates and confirms the seed's WEB request; it must end `requires_action` on the one sandbox
 * payment of `<pi>_1`, which the shopper then pays.
 */
async function assertRecoveredAndPays(stack: PaymentStack): Promise<{ confirmMs: number }> {
  const started = Date.now();
  const created = await stack.createPaymentIntent(seedWebRequest());
  const confirmMs = Date.now() - started;
  assert.equal(created.status, 200, created.text);
  assert.equal(created.body.status, 'requires_action', created.text);
  const id = created.body.id;
  const sandboxPayments = sandboxPaymentIdsOf(stack, id);
  assert.equal(sandboxPayments.length, 1, 'one payment at Alipay+ however many sends');
  const attempts = await attemptsOf(stack, id);
  assert.deepEqual(attempts.map((a) => [a.payment_request_id, a.status, a.external_payment_id]), [[`${id}_1`, 'pending', sandboxPayments[0]]]);
  assert.deepEqual(await activeFaults(stack), [], 'the fault was consumed by a send');
  assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.requires_action'], 'no processing event for a recovered send');
  const paid = await payInWallet(stack, { codeValue: codeValueOf(created.body) });
  assert.equal(paid.body.payment.paymentId, sandboxPayments[0]);
  assert.equal((await waitForIntentStatus(stack, id, 'succeeded')).amount_received, 20);
  return { confirmMs };
}

describe('sandbox faults on pay: the connector re-sends the same paymentRequestId', () => {
  let stack: PaymentStack;
  before(async () => {
    // No attempt worker: what the connector leaves for it must still be there to see.
    stack = await startPaymentStack({ worker: false });
  });
  after(async () => {
    await stack.stop();
  });

  it('U / UNKNOWN_EXCEPTION once → re-sent, requires_action, one sandbox payment', async () => {
    await payFault(stack, 'unknown');
    await assertRecoveredAndPays(stack);
  });

  it('a response with a bad signature once (processed, but not to be trusted) → re-sent, same payment', async () => {
    await payFault(stack, 'bad_signature');
    await assertRecoveredAndPays(stack);
  });

  it('two unknown answers, then an answer on the third send', async () => {
    await payFault(stack, 'unknown', 2);
    await assertRecoveredAndPays(stack);
  });

  it('all three sends unknown → processing, the attempt left `sending` for the worker, a second confirm refused', async () => {
    await payFault(stack, 'unknown', 3);
    const created = await stack.createPaymentIntent(seedWebRequest());
    assert.equal(created.status, 200, created.text);
    const id = created.body.id;
    assert.deepEqual([created.body.status, created.body.next_action, created.body.last_payment_error], ['processing', null, null]);
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => [a.payment_request_id, a.status]), [[`${id}_1`, 'sending']]);
    assert.deepEqual(sandboxPaymentIdsOf(stack, id), [], 'U answers processed nothing');
    assert.deepEqual(await activeFaults(stack), []);
    assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.processing']);
    const again = await api(stack.gateway, 'POST', `/v1/payment_intents/${id}/confirm`, { key: stack.gateway.secretKey, json: {} });
    assert.deepEqual([again.status, again.body.error?.code], [400, 'payment_intent_unexpected_state'], 'never two live attempts for one payment');
    assert.equal((await attemptsOf(stack, id)).length, 1);
  });

  it('all three responses badly signed → processing; Alipay+ holds exactly one payment for the worker to find', async () => {
    await payFault(stack, 'bad_signature', 3);
    const created = await stack.createPaymentIntent(seedWebRequest());
    assert.equal(created.status, 200, created.text);
    const id = created.body.id;
    assert.equal(created.body.status, 'processing');
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => [a.status, a.external_payment_id]), [['sending', null]]);
    const [paymentId, ...more] = sandboxPaymentIdsOf(stack, id);
    assert.deepEqual(more, []);
    const atSandbox = await stack.control('GET', `/sandbox/v1/payments/${paymentId}`);
    assert.deepEqual([atSandbox.body.paymentRequestId, atSandbox.body.status], [`${id}_1`, 'PROCESSING']);
  });
});

describe('sandbox fault on pay: the answer comes after the client timeout', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack({ clientTimeoutMs: 300, worker: false });
  });
  after(async () => {
    await stack.stop();
  });

  it('timeout once → the re-send returns the same paymentId; requires_action', async () => {
    await payFault(stack, 'timeout', 1, 1500);
    const { confirmMs } = await assertRecoveredAndPays(stack);
    assert.ok(confirmMs >= 300, `the first send waited for the client timeout (${confirmMs} ms)`);
    assert.ok(confirmMs < 1500, `the re-send answered before the slow first answer came (${confirmMs} ms)`);
  });
});
