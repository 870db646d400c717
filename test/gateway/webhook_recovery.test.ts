import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, ON_POSTGRES } from '../support/gateway-server.js';
import { waitUntil } from '../support/e2e-harness.js';
import {
  createEndpoint, createIntent, createdEventOf, deleteAllEndpoints, sharedDatabase, startGatewayProcess, startReceiver, startWebhookGateway,
} from '../support/webhook-harness.js';
import type { Receiver, SharedDatabase } from '../support/webhook-harness.js';

const MINUTE = 60_000;
/*
 * Each test starts its clock on another day: ids are minted from the clock, and a clock that
 * stands still puts every id of every process into one millisecond, where two generators (or
 * two tests) would soon meet.
 */

describe('webhooks survive receiver outages and gateway restarts', () => {
  let shared: SharedDatabase;
  let receiver: Receiver;
  let down = false;

  before(async () => {
    shared = await sharedDatabase();
    receiver = await startReceiver(() => (down ? 503 : 200));
  });
  after(async () => {
    await receiver.close();
    await shared.cleanup();
  });

  it('delivers every event once the receiver is back, across a restart, and never twice after a 2xx', async () => {
    const clock = new ManualClock();
    const first = await startWebhookGateway(shared, { clock });
    await createEndpoint(first, { url: receiver.url, enabled_events: ['*'] });
    const before = await createdEventOf(first, await createIntent(first));
    await first.running.webhooks.runOnce();
    down = true;
    const during = [];
    for (let i = 0; i < 3; i++) during.push((await createdEventOf(first, await createIntent(first))).id);
    assert.equal(await first.running.webhooks.runOnce(), 3);
    clock.advance(MINUTE);
    assert.equal(await first.running.webhooks.runOnce(), 3, 'the second attempts fail too');
    // A process dies while it holds a delivery: its lease keeps others off until it expires.
    const orphan = (await createdEventOf(first, await createIntent(first))).id;
    await first.database.db.updateTable('webhook_deliveries').set({ lease_until: clock.now() + MINUTE, lease_token: 'a-crashed-process' }).where('event_id', '=', orphan).execute();
    await first.stop();

    down = false;
    const second = await startWebhookGateway(shared, { clock });
    try {
      assert.equal(await second.running.webhooks.runOnce(), 0, 'nothing is due yet: retries keep their schedule across the restart');
      clock.advance(2 * MINUTE);
      assert.equal(await second.running.webhooks.runOnce(), 4, 'three retries and the orphan, whose lease expired');
      clock.advance(80 * 60 * MINUTE);
      assert.equal(await second.running.webhooks.runOnce(), 0);
      const accepted = receiver.acceptedCounts();
      assert.deepEqual([...accepted.keys()].sort(), [before.id, ...during, orphan].sort());
      assert.ok([...accepted.values()].every((count) => count === 1), 'no event was accepted twice');
      assert.equal(receiver.received.filter((r) => r.status === 503).length, 6);
    } finally {
      await deleteAllEndpoints(second);
      await second.stop();
    }
  });

  it(`shares the work between two gateway processes over one ${ON_POSTGRES ? 'PostgreSQL' : 'SQLite'} database: each event once per endpoint`, async () => {
    const slowA = await startReceiver(() => 200, { delayMs: 3 });
    const slowB = await startReceiver(() => 200, { delayMs: 3 });
    const a = await startWebhookGateway(shared, { clock: { now: () => Date.now() }, webhooks: { autostart: true, pollIntervalMs: 5, endpointConcurrency: 4 } });
    const b = await startGatewayProcess(shared);
    try {
      await createEndpoint(a, { url: slowA.url, enabled_events: ['payment_intent.created'] });
      await createEndpoint(b, { url: slowB.url, enabled_events: ['payment_intent.created'] });
      const events = 40;
      await Promise.all(Array.from({ length: events }, (_, i) => createIntent(i % 2 === 0 ? a : b)));
      await waitUntil(() => slowA.received.length >= events && slowB.received.length >= events, 'every event at both receivers', 20_000);
      // Give a duplicate the chance to show up before counting.
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (const r of [slowA, slowB]) {
        assert.equal(r.received.length, events);
        assert.equal(r.acceptedCounts().size, events);
      }
      const attempts = await a.database.db.selectFrom('webhook_delivery_attempts').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(attempts.n), 2 * events + receiver.received.length, 'one attempt per delivery (plus the first test\'s)');
    } finally {
      await deleteAllEndpoints(a);
      await b.stop();
      await a.stop();
      await slowA.close();
      await slowB.close();
    }
  });

  // Two gateways inside one Node process: on SQLite their connections would wait for each other's
  // lock synchronously (better-sqlite3), so this race is run where it can be, on PostgreSQL.
  it('two gateways running the same due work at the same instant still make one attempt each', { skip: !ON_POSTGRES && 'needs two OS processes on SQLite (covered above)' }, async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 20));
    const r = await startReceiver(() => 500, { delayMs: 2 });
    const a = await startWebhookGateway(shared, { clock });
    const b = await startWebhookGateway(shared, { clock });
    try {
      const endpoint = await createEndpoint(a, { url: r.url, enabled_events: ['payment_intent.created'] });
      for (let i = 0; i < 20; i++) await createIntent(a);
      const [byA, byB] = await Promise.all([a.running.webhooks.runOnce(), b.running.webhooks.runOnce()]);
      assert.equal(byA + byB, 20);
      assert.equal(r.received.length, 20);
      clock.advance(MINUTE);
      const [againA, againB] = await Promise.all([a.running.webhooks.runOnce(), b.running.webhooks.runOnce()]);
      assert.deepEqual([againA + againB, r.received.length], [20, 40]);
      const rows = await a.database.db.selectFrom('webhook_deliveries').select(['attempt_count']).where('endpoint_id', '=', endpoint.id).execute();
      assert.ok(rows.every((row) => row.attempt_count === 2));
    } finally {
      await deleteAllEndpoints(a);
      await a.stop();
      await b.stop();
      await r.close();
    }
  });
});
