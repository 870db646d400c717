import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, describe, it } from 'node:test';
import { createGatewayLogger, createIdGenerator, GatewayWorker } from '../../src/gateway/index.js';
import { ATTEMPT_WORKER_STATUSES } from '../../src/gateway/domain/payment_attempts.js';
import { claimRow } from '../../src/gateway/store/leases.js';
import { INQUIRY_FIRST_DELAY_MS } from '../../src/gateway/domain/schedule.js';
import { WORKER_LEASE_MS } from '../../src/gateway/workers/worker.js';
import { attemptsOf, chargesOf, eventTypesOf, payInWallet, retrieveIntent, waitUntil, type PaymentStack } from '../support/e2e-harness.js';
import { addFault, requiresAction, sandboxPayment, startWorkerStack, type WorkerStack } from './worker-support.js';

const MINUTE_MS = 60_000;
const SUCCEEDED_EVENTS = ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded', 'charge.succeeded'];

/** Another gateway process's worker over the same database (its own owner id in leases). */
function secondWorker(ws: WorkerStack, owner: string): GatewayWorker {
  const quiet = new Writable({ write(_chunk, _enc, done) { done(); } });
  const deps = { database: ws.stack.gateway.database, clock: ws.clock, ids: createIdGenerator(ws.clock), connector: ws.stack.alipayPlus, logger: createGatewayLogger({ level: 'warn' }, quiet) };
  return new GatewayWorker(deps, ws.stack.alipayPlus, { autoStart: false, owner, concurrencyMax: 2 });
}

async function expectPaidOnce(stack: PaymentStack, id: string): Promise<void> {
  const intent = await retrieveIntent(stack, id);
  assert.deepEqual([intent.status, intent.amount_received], ['succeeded', 20]);
  const charges = await chargesOf(stack, id);
  assert.deepEqual(charges.map((c) => c.id), [intent.latest_charge]);
  assert.deepEqual(await eventTypesOf(stack, id), SUCCEEDED_EVENTS);
}

describe('worker: restarts and several gateway processes', () => {
  let ws: WorkerStack | undefined;
  afterEach(async () => {
    await ws?.stack.stop();
    ws = undefined;
  });

  it('restart between pay and notification: the new process finishes it, with exactly one Charge', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    const intent = await requiresAction(stack);
    const firstWorker = ws.worker();
    await stack.gateway.restart(async () => {
      const paid = await payInWallet(stack, { codeValue: intent.codeValue });
      assert.equal(paid.status, 200, paid.text);
      await waitUntil(async () => (await sandboxPayment(stack, intent.paymentId)).notifications[0]?.sends.length === 1, 'the first notification send to fail');
    });
    assert.notEqual(ws.worker(), firstWorker);
    const atSandbox = await sandboxPayment(stack, intent.paymentId);
    assert.deepEqual([atSandbox.status, atSandbox.notifications[0].status], ['SUCCESS', 'pending'], 'nobody was listening');
    assert.equal((await retrieveIntent(stack, intent.id)).status, 'requires_action');

    // The schedule is in the row, so the new process's worker picks the attempt up where it was.
    clock.advance(INQUIRY_FIRST_DELAY_MS);
    assert.equal((await ws.worker().runOnce()).length, 1);
    await expectPaidOnce(stack, intent.id);

    // The sandbox's retry (2 min later) now reaches the new process: a duplicate, acknowledged, changing nothing.
    clock.advance(2 * MINUTE_MS);
    await waitUntil(async () => (await sandboxPayment(stack, intent.paymentId)).notifications[0].status === 'acknowledged', 'the retried notification to be acknowledged');
    await expectPaidOnce(stack, intent.id);
  });

  it('restart while the notification is retried: the notification alone makes it succeeded', async () => {
    ws = await startWorkerStack({ worker: false });
    const { stack, clock } = ws;
    const intent = await requiresAction(stack);
    await stack.gateway.restart(async () => {
      await payInWallet(stack, { codeValue: intent.codeValue });
      await waitUntil(async () => (await sandboxPayment(stack, intent.paymentId)).notifications[0]?.sends.length === 1, 'the first notification send to fail');
    });
    clock.advance(2 * MINUTE_MS);
    await waitUntil(async () => (await retrieveIntent(stack, intent.id)).status === 'succeeded', 'the retried notification to be recorded');
    await expectPaidOnce(stack, intent.id);
  });

  it('two workers over one database split the due attempts and never check one twice', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    await addFault(stack, { target: 'notifyPayment', kind: 'drop', count: 8 });
    const intents = [];
    for (let i = 0; i < 6; i++) {
      const intent = await requiresAction(stack);
      await payInWallet(stack, { codeValue: intent.codeValue });
      intents.push(intent);
    }
    clock.advance(INQUIRY_FIRST_DELAY_MS);
    const other = secondWorker(ws, 'second-process');
    const [a, b] = await Promise.all([ws.worker().runOnce(), other.runOnce()]);
    const all = [...a, ...b];
    assert.equal(new Set(all).size, all.length, `no attempt checked twice: ${a.join(',')} | ${b.join(',')}`);
    const attemptIds = (await Promise.all(intents.map(async (intent) => (await attemptsOf(stack, intent.id))[0]!.id))).sort();
    assert.deepEqual([...all].sort(), attemptIds);
    for (const intent of intents) await expectPaidOnce(stack, intent.id);
    await other.stop();
  });

  it('a lease held by a crashed process keeps others off until it runs out', async () => {
    ws = await startWorkerStack();
    const { stack, clock } = ws;
    await addFault(stack, { target: 'notifyPayment', kind: 'drop', count: 8 });
    const intent = await requiresAction(stack);
    await payInWallet(stack, { codeValue: intent.codeValue });
    clock.advance(INQUIRY_FIRST_DELAY_MS);
    const database = stack.gateway.database;
    // A process claims the attempt and dies before checking it.
    const attemptId = (await attemptsOf(stack, intent.id))[0]!.id;
    const claimed = await claimRow(database.db, 'payment_attempts', attemptId, ATTEMPT_WORKER_STATUSES, 'crashed', clock.now(), clock.now() + WORKER_LEASE_MS);
    assert.deepEqual([claimed?.id, claimed?.lease_owner], [attemptId, 'crashed']);

    assert.deepEqual(await ws.worker().runOnce(), [], 'the lease is live');
    clock.advance(WORKER_LEASE_MS);
    assert.deepEqual(await ws.worker().runOnce(), [], 'held through lease_until');
    clock.advance(1);
    assert.equal((await ws.worker().runOnce()).length, 1, 'the lease ran out: another process takes the attempt');
    await expectPaidOnce(stack, intent.id);
    const [attempt] = await attemptsOf(stack, intent.id);
    assert.deepEqual([attempt!.lease_owner, attempt!.lease_until], [null, null]);
  });
});
