import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkSettled, checkStep, type InvariantName, type Violation } from '../../sim/invariants.js';
import { runSimulation } from '../../sim/simulation.js';
import { SimStack } from '../../sim/stack.js';

/**
 * The seeded simulation (sim/, `npm run simulate`) on whichever database the suite runs on:
 * SQLite, or PostgreSQL under ZHIFU_TEST_DATABASE_URL.
 */
const DATABASE_URL = process.env.ZHIFU_TEST_DATABASE_URL || undefined;

/**
 * A fixed set of seeds, each a full run: crashes cut merchant calls with an Idempotency-Key (each
 * retried with its key), workers and notifier passes, under the sandbox's faults. Seed 2957 once
 * found two workers checking one row (a lease that covered a whole batch). About 6–10 s a seed.
 * Longer campaigns are `npm run simulate -- --seed 1 --seeds 50 --steps 300` (sim/README.md).
 */
const CI_RUNS: readonly { seed: number; steps: number }[] = [1, 2, 3, 4, 5, 6, 2957].map((seed) => ({ seed, steps: 150 }));

describe('seeded simulation: faults, crashes and the money-safety invariants', () => {
  for (const { seed, steps } of CI_RUNS) {
    it(`seed ${seed} × ${steps} steps keeps every invariant`, async () => {
      const result = await runSimulation({ seed, steps, ...(DATABASE_URL ? { databaseUrl: DATABASE_URL } : {}) });
      const report = () =>
        [`replay: npm run simulate -- --seed ${seed} --steps ${steps}`, ...result.violations.map((v) => `[${v.invariant}] ${v.detail}`), ...result.stepLog.slice(-40)].join('\n');
      assert.deepEqual(result.violations, [], report());
      assert.equal(result.stepsRun, steps, report());
      // The run must really have done what it claims: crashes, faults and settled comparisons.
      assert.ok(result.crashes >= 2, `${result.crashes} crashes\n${report()}`);
      assert.ok(result.faults >= 2, `${result.faults} faults\n${report()}`);
      assert.ok(result.stepLog.some((line) => / settle: /.test(line)), report());
    });
  }
});

/**
 * The checks themselves: a real payment and refund through the stack, then the store is bent in
 * the ways each invariant forbids, and the check must say so (a check that cannot fail proves
 * nothing).
 */
describe('simulation invariants catch what they forbid', () => {
  let stack: SimStack;
  let intentId = '';
  let chargeId = '';
  let disputeId = '';

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await stack.request(method, path, { authorization: `Bearer ${stack.secretKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body === undefined ? undefined : JSON.stringify(body), 30_000);
    return { status: response.status, body: JSON.parse(response.text) as Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any -- API JSON
  };
  const invariantsOf = (violations: Violation[]): InvariantName[] => [...new Set(violations.map((violation) => violation.invariant))];

  before(async () => {
    stack = new SimStack({ ...(DATABASE_URL ? { databaseUrl: DATABASE_URL } : {}), clientTimeoutMs: 400, workers: 2 });
    await stack.start();
    const created = await call('POST', '/v1/payment_intents', {
      amount: 5000, currency: 'CNY', confirm: true, payment_method_data: { type: 'alipay' },
      payment_method_options: { alipay: { terminal_type: 'WEB' } }, return_url: 'https://shop.example/return',
    });
    assert.equal(created.body.status, 'requires_action', JSON.stringify(created.body));
    intentId = created.body.id as string;
    const attempt = await stack.database.db.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', intentId).executeTakeFirstOrThrow();
    const paid = await fetch(`${stack.sandboxUrl}/sandbox/v1/wallet/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paymentId: attempt.external_payment_id, outcome: 'success' }) });
    assert.equal(paid.status, 200);
    await stack.sandbox.notifier.tick();
    const intent = await call('GET', `/v1/payment_intents/${intentId}`);
    assert.equal(intent.body.status, 'succeeded');
    chargeId = intent.body.latest_charge as string;
    const refund = await call('POST', '/v1/refunds', { payment_intent: intentId, amount: 1200 });
    assert.equal(refund.body.status, 'succeeded', JSON.stringify(refund.body));
    // Alipay+ escalates 1000 of what is left: the gateway records it and withdraws the amount.
    const opened = await fetch(`${stack.sandboxUrl}/sandbox/v1/payments/${attempt.external_payment_id}/disputes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'escalation', amount: 1000 }) });
    assert.equal(opened.status, 201, await opened.clone().text());
    const disputes = await call('GET', `/v1/disputes?payment_intent=${intentId}`);
    assert.equal(disputes.body.data.length, 1, JSON.stringify(disputes.body));
    disputeId = disputes.body.data[0].id as string;
  });

  after(async () => {
    await stack.stop(false);
  });

  it('hold on the untouched store, settled or not', async () => {
    assert.deepEqual(await checkStep(stack), []);
    assert.deepEqual(await checkSettled(stack), []);
  });

  it('a second charge for the PaymentIntent (paid twice) breaks one_charge_per_attempt', async () => {
    // The schema allows one charge per attempt, so the double payment is a second succeeded attempt with its own charge.
    const attempt = await stack.database.db.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', intentId).executeTakeFirstOrThrow();
    const charge = await stack.database.db.selectFrom('charges').selectAll().where('id', '=', chargeId).executeTakeFirstOrThrow();
    await stack.database.db.insertInto('payment_attempts').values({ ...attempt, id: `${attempt.id}x`, payment_request_id: `${attempt.payment_request_id}x` }).execute();
    await stack.database.db.insertInto('charges').values({ ...charge, id: `${chargeId}x`, payment_attempt_id: `${attempt.id}x`, balance_transaction: null, amount_refunded: 0, amount_refund_reserved: 0 }).execute();
    try {
      const found = await checkStep(stack);
      assert.ok(found.some((violation) => violation.invariant === 'one_charge_per_attempt' && /paid twice/.test(violation.detail)), JSON.stringify(found));
    } finally {
      await stack.database.db.deleteFrom('charges').where('id', '=', `${chargeId}x`).execute();
      await stack.database.db.deleteFrom('payment_attempts').where('id', '=', `${attempt.id}x`).execute();
    }
  });

  it('succeeded refunds over the captured amount break refunded_le_captured', async () => {
    // The charge row itself refuses amount_refunded > captured (a CHECK): the check must also see refunds that add up to more.
    const refund = await stack.database.db.selectFrom('refunds').selectAll().where('charge_id', '=', chargeId).executeTakeFirstOrThrow();
    await stack.database.db.insertInto('refunds').values({ ...refund, id: `${refund.id}x`, refund_request_id: `${refund.refund_request_id}x`, amount: 4000, balance_transaction: null }).execute();
    try {
      const found = await checkStep(stack);
      assert.ok(found.some((violation) => violation.invariant === 'refunded_le_captured' && /succeeded refunds total 5200 > captured/.test(violation.detail)), JSON.stringify(found));
    } finally {
      await stack.database.db.deleteFrom('refunds').where('id', '=', `${refund.id}x`).execute();
    }
  });

  it('a duplicated payment_intent.succeeded breaks one_event_per_state_change', async () => {
    const event = await stack.database.db.selectFrom('events').selectAll().where('type', '=', 'payment_intent.succeeded').executeTakeFirstOrThrow();
    await stack.database.db.insertInto('events').values({ ...event, id: `${event.id}x` }).execute();
    try {
      assert.deepEqual(invariantsOf(await checkStep(stack)), ['one_event_per_state_change']);
    } finally {
      await stack.database.db.deleteFrom('events').where('id', '=', `${event.id}x`).execute();
    }
  });

  it('a balance transaction for nothing breaks balance_sums', async () => {
    const txn = await stack.database.db.selectFrom('balance_transactions').selectAll().where('type', '=', 'charge').executeTakeFirstOrThrow();
    await stack.database.db.insertInto('balance_transactions').values({ ...txn, id: `${txn.id}x`, source: 'ch_nothing' }).execute();
    try {
      assert.deepEqual(invariantsOf(await checkStep(stack)), ['balance_sums']);
    } finally {
      await stack.database.db.deleteFrom('balance_transactions').where('id', '=', `${txn.id}x`).execute();
    }
  });

  it('a second withdrawal for one escalation breaks balance_sums', async () => {
    const txn = await stack.database.db.selectFrom('balance_transactions').selectAll().where('type', '=', 'dispute').where('source', '=', disputeId).executeTakeFirstOrThrow();
    await stack.database.db.insertInto('balance_transactions').values({ ...txn, id: `${txn.id}x`, reporting_category: 'dispute_again' }).execute();
    try {
      const found = await checkStep(stack);
      assert.ok(found.some((violation) => violation.invariant === 'balance_sums' && /has 2 withdrawal/.test(violation.detail)), JSON.stringify(found));
    } finally {
      await stack.database.db.deleteFrom('balance_transactions').where('id', '=', `${txn.id}x`).execute();
    }
  });

  it('an escalation over what refunds left breaks refunds_and_disputes_le_captured', async () => {
    await stack.database.db.updateTable('disputes').set({ amount: 4000 }).where('id', '=', disputeId).execute();
    try {
      const found = await checkStep(stack);
      assert.ok(found.some((violation) => violation.invariant === 'refunds_and_disputes_le_captured' && /refunds 1200 \+ escalations not won 4000 > captured/.test(violation.detail)), JSON.stringify(found));
    } finally {
      await stack.database.db.updateTable('disputes').set({ amount: 1000 }).where('id', '=', disputeId).execute();
    }
  });

  it('a second charge.dispute.created breaks one_event_per_state_change', async () => {
    const event = await stack.database.db.selectFrom('events').selectAll().where('type', '=', 'charge.dispute.created').executeTakeFirstOrThrow();
    await stack.database.db.insertInto('events').values({ ...event, id: `${event.id}x` }).execute();
    try {
      assert.deepEqual(invariantsOf(await checkStep(stack)), ['one_event_per_state_change']);
    } finally {
      await stack.database.db.deleteFrom('events').where('id', '=', `${event.id}x`).execute();
    }
  });

  it('a dispute the gateway holds as won while Alipay+ has the case open breaks gateway_equals_alipayplus', async () => {
    await stack.database.db.updateTable('disputes').set({ status: 'won' }).where('id', '=', disputeId).execute();
    try {
      const found = await checkSettled(stack);
      assert.ok(found.some((violation) => violation.invariant === 'gateway_equals_alipayplus' && violation.detail.includes(`the gateway has ${disputeId} won`)), JSON.stringify(found));
    } finally {
      await stack.database.db.updateTable('disputes').set({ status: 'needs_response' }).where('id', '=', disputeId).execute();
    }
    assert.deepEqual(await checkSettled(stack), []);
  });

  it('a payment Alipay+ holds as paid but the gateway as failed breaks gateway_equals_alipayplus (a lost payment)', async () => {
    const second = await call('POST', '/v1/payment_intents', {
      amount: 700, currency: 'CNY', confirm: true, payment_method_data: { type: 'alipay' },
      payment_method_options: { alipay: { terminal_type: 'WEB' } }, return_url: 'https://shop.example/return',
    });
    const attempt = await stack.database.db.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', second.body.id as string).executeTakeFirstOrThrow();
    // Paid at Alipay+, but the gateway is told (wrongly) that it failed, and hears nothing else.
    await fetch(`${stack.sandboxUrl}/sandbox/v1/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'notifyPayment', kind: 'drop', count: 1 }) });
    await fetch(`${stack.sandboxUrl}/sandbox/v1/wallet/pay`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ paymentId: attempt.external_payment_id, outcome: 'success' }) });
    await stack.database.db.updateTable('payment_attempts').set({ status: 'failed', next_check_at: null }).where('id', '=', attempt.id).execute();
    const found = await checkSettled(stack);
    assert.ok(found.some((violation) => violation.invariant === 'gateway_equals_alipayplus' && /LOST PAYMENT/.test(violation.detail)), JSON.stringify(found));
  });

  it('two workers inside calls for the same payment at once break no_row_checked_by_two_workers', async () => {
    const attempt = await stack.database.db.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', intentId).executeTakeFirstOrThrow();
    const expected = { paymentRequestId: attempt.payment_request_id, currency: attempt.currency, amountMinor: attempt.amount };
    // A slow inquiry (timeout fault) keeps the first call in flight while the second starts.
    await fetch(`${stack.sandboxUrl}/sandbox/v1/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ target: 'inquiryPayment', kind: 'timeout', count: 1, delayMs: 600 }) });
    const one = stack.observer.wrap(stack.alipayPlus, 'test-w1');
    const two = stack.observer.wrap(stack.alipayPlus, 'test-w2');
    const first = one.inquire(false, expected);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await Promise.all([first, two.inquire(false, expected)]);
    const found = await checkStep(stack);
    assert.ok(found.some((violation) => violation.invariant === 'no_row_checked_by_two_workers' && violation.detail.includes(attempt.payment_request_id)), JSON.stringify(found));
  });
});
