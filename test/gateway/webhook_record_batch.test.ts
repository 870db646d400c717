import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inTransaction } from '../../src/gateway/store/database.js';
import { claimDeliveries, recordDeliveryOutcomes } from '../../src/gateway/store/webhook_deliveries.js';
import { ManualClock } from '../support/gateway-server.js';
import { createEndpoint, createIntent, deleteAllEndpoints, sharedDatabase, startReceiver, startWebhookGateway } from '../support/webhook-harness.js';
import type { Receiver, SharedDatabase, WebhookGateway } from '../support/webhook-harness.js';

/*
 * The worker records a batch of attempts in ONE statement (outcomes joined by id). What a merchant
 * relies on: each delivery gets its own attempt's values, never a neighbour's; a delivery whose
 * lease another process took is left alone; only delivered ones get `delivered_at`.
 */
describe('recording a batch of webhook outcomes in one statement', () => {
  let shared: SharedDatabase;
  let gw: WebhookGateway;
  let target: Receiver;
  const clock = new ManualClock(Date.UTC(2026, 10, 30, 4));

  before(async () => {
    shared = await sharedDatabase();
    gw = await startWebhookGateway(shared, { clock });
    target = await startReceiver();
  });

  after(async () => {
    await deleteAllEndpoints(gw);
    await gw.stop();
    await target.close();
    await shared.cleanup();
  });

  it('moves each leased delivery to its own next state, skips a lost lease, and reports which moved', async () => {
    await createEndpoint(gw, { url: target.url, enabled_events: ['payment_intent.created'] });
    for (let i = 0; i < 4; i++) await createIntent(gw);
    const db = gw.database.db;
    const ids = (await db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').orderBy('id').execute()).map((row) => row.id);
    assert.equal(ids.length, 4);
    const now = clock.now();
    assert.deepEqual((await claimDeliveries(db, gw.database.kind, ids, now, now + 60_000, 'mine')).sort(), ids);
    // ids[3]'s lease ran out and another process holds it now.
    await db.updateTable('webhook_deliveries').set({ lease_token: 'theirs' }).where('id', '=', ids[3]!).execute();
    const [a, b, c, d] = ids as [string, string, string, string];
    const moved = await inTransaction(gw.database, (tx) => recordDeliveryOutcomes(tx, gw.database.kind, [
      // Not in id order on purpose: rows are matched by id, not position.
      { id: c, token: 'mine', attempt: { attemptedAtMs: now + 3, statusCode: null, latencyMs: 10_000, error: 'timed out after 10000 ms' }, next: { status: 'pending', nextAttemptAtMs: now + 60_003 } },
      { id: a, token: 'mine', attempt: { attemptedAtMs: now + 1, statusCode: 200, latencyMs: 7, error: null }, next: { status: 'delivered', nextAttemptAtMs: null } },
      { id: d, token: 'mine', attempt: { attemptedAtMs: now + 4, statusCode: 200, latencyMs: 9, error: null }, next: { status: 'delivered', nextAttemptAtMs: null } },
      { id: b, token: 'mine', attempt: { attemptedAtMs: now + 2, statusCode: 500, latencyMs: 8, error: 'HTTP 500: nope' }, next: { status: 'failed', nextAttemptAtMs: null } },
    ]));
    assert.deepEqual([...moved].sort(), [a, b, c]);
    const rows = await db
      .selectFrom('webhook_deliveries')
      .select(['id', 'status', 'attempt_count', 'next_attempt_at', 'lease_until', 'lease_token', 'last_attempt_at', 'last_status_code', 'last_latency_ms', 'last_error', 'delivered_at'])
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    const plain = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v])));
    assert.deepEqual(plain, [
      { id: a, status: 'delivered', attempt_count: 1, next_attempt_at: null, lease_until: null, lease_token: null, last_attempt_at: now + 1, last_status_code: 200, last_latency_ms: 7, last_error: null, delivered_at: now + 1 },
      { id: b, status: 'failed', attempt_count: 1, next_attempt_at: null, lease_until: null, lease_token: null, last_attempt_at: now + 2, last_status_code: 500, last_latency_ms: 8, last_error: 'HTTP 500: nope', delivered_at: null },
      { id: c, status: 'pending', attempt_count: 1, next_attempt_at: now + 60_003, lease_until: null, lease_token: null, last_attempt_at: now + 3, last_status_code: null, last_latency_ms: 10_000, last_error: 'timed out after 10000 ms', delivered_at: null },
      { id: d, status: 'pending', attempt_count: 0, next_attempt_at: now, lease_until: now + 60_000, lease_token: 'theirs', last_attempt_at: null, last_status_code: null, last_latency_ms: null, last_error: null, delivered_at: null },
    ]);
  });
});
