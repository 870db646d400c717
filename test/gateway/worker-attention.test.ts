import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, it } from 'node:test';
import type { KyselyPlugin } from 'kysely';
import { GatewayWorker, createAccount, createIdGenerator, migrate, openDatabase, systemClock } from '../../src/gateway/index.js';
import { insertAttentionItem } from '../../src/gateway/store/attention.js';
import type { ConnectorInquiryResult, ConnectorRefundOutcome, ConnectorRefundRequest, ConnectorReverseOutcome, ConnectorReverseRequest, NetworkConnector } from '../../src/gateway/connector/types.js';
import { attentionCounts, listAttention } from '../../src/gateway/core/attention.js';
import { INQUIRY_FIRST_DELAY_MS, REVERSAL_REFUSALS_MAX, WORKER_CHECKS_MAX } from '../../src/gateway/domain/schedule.js';
import { ATTEMPT_WORKER_STATUSES } from '../../src/gateway/domain/payment_attempts.js';
import { claimRow } from '../../src/gateway/store/leases.js';
import { ManualClock, ScriptedConnector, api, seedWebRequest, startTestGateway, type TestGateway } from '../support/gateway-server.js';

/**
 * The wallet network as a script (for the worker's inquiries, reversals and refunds): each loop
 * that used to retry forever must now end in requires_attention. The product has no such component.
 */
class ScriptedNetwork extends ScriptedConnector implements NetworkConnector {
  inquiries = 0;
  reversals = 0;
  nextInquiry: () => Promise<ConnectorInquiryResult> = async () => ({ ok: true, outcome: { kind: 'pending' } });
  nextReverse: (request: ConnectorReverseRequest) => Promise<ConnectorReverseOutcome> = async () => ({ kind: 'unknown', reason: 'scripted' });
  nextRefund: (request: ConnectorRefundRequest) => Promise<ConnectorRefundOutcome> = async () => ({ kind: 'unknown', reason: 'scripted' });

  async inquire(): Promise<ConnectorInquiryResult> {
    this.inquiries++;
    return this.nextInquiry();
  }

  async reverse(request: ConnectorReverseRequest): Promise<ConnectorReverseOutcome> {
    this.reversals++;
    return this.nextReverse(request);
  }

  async refund(request: ConnectorRefundRequest): Promise<ConnectorRefundOutcome> {
    return this.nextRefund(request);
  }
}

interface Harness {
  gw: TestGateway;
  clock: ManualClock;
  network: ScriptedNetwork;
  worker: GatewayWorker;
}

describe('requires_attention: every loop that used to retry forever ends for an operator', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.worker.stop();
    await h?.gw.stop();
    h = null;
  });

  async function start(options: { leaseMs?: number; concurrencyMax?: number; owner?: string } = {}): Promise<Harness> {
    const clock = new ManualClock();
    const network = new ScriptedNetwork();
    const gw = await startTestGateway({ clock, connector: network, worker: false });
    const worker = new GatewayWorker(gw.running.app.core, network, { autoStart: false, owner: options.owner ?? 'w1', ...options });
    h = { gw, clock, network, worker };
    return h;
  }

  async function awaitingShopper(harness: Harness): Promise<string> {
    const created = await api(harness.gw, 'POST', '/v1/payment_intents', { key: harness.gw.secretKey, json: seedWebRequest() });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.status, 'requires_action');
    return created.body.id as string;
  }

  const attempts = (harness: Harness, intentId: string) =>
    harness.gw.database.db.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', intentId).execute();
  const eventTypes = async (harness: Harness) => (await harness.gw.database.db.selectFrom('events').select('type').orderBy('id').execute()).map((row) => row.type);
  const errorLines = (harness: Harness, text: string) => harness.gw.logs.filter((line) => line.includes(text) && JSON.parse(line).level === 50);

  /** Runs passes, moving the clock to the attempt's next check each time, until `done` or `passes` run out. */
  async function drive(harness: Harness, intentId: string, passes: number, done: () => Promise<boolean>): Promise<number> {
    for (let pass = 1; pass <= passes; pass++) {
      const [attempt] = await attempts(harness, intentId);
      if (attempt?.next_check_at != null && attempt.next_check_at > harness.clock.now()) harness.clock.ms = attempt.next_check_at;
      await harness.worker.runOnce();
      if (await done()) return pass;
    }
    return passes;
  }

  it('an inquiry answered for another amount: requires_attention with its Event, an error log, the counter and the operator list — and no more checks', async () => {
    const harness = await start();
    const id = await awaitingShopper(harness);
    harness.network.nextInquiry = async () => ({ ok: true, outcome: { kind: 'amount_mismatch', reason: 'paymentAmount CNY 2 does not match CNY 20', externalPaymentId: `ext_${id}_1` } });
    harness.clock.advance(INQUIRY_FIRST_DELAY_MS);
    assert.equal((await harness.worker.runOnce()).length, 1);
    const [attempt] = await attempts(harness, id);
    assert.deepEqual([attempt!.status, attempt!.next_check_at], ['requires_attention', null]);
    const intent = await api(harness.gw, 'GET', `/v1/payment_intents/${id}`, { key: harness.gw.secretKey });
    assert.deepEqual([intent.body.status, intent.body.amount_received], ['requires_action', 0], 'never paid by a report for another amount');
    assert.deepEqual(await eventTypes(harness), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.requires_attention']);
    assert.equal(errorLines(harness, 'payment attempt requires attention').length, 1);
    assert.deepEqual(await attentionCounts(harness.gw.running.app.core), { payment_attempt: 1, refund: 0 });
    const listed = await listAttention(harness.gw.running.app.core);
    assert.deepEqual(listed.map((item) => [item.object, item.id, item.request_id, item.amount, item.currency, item.reason]), [
      ['payment_attempt', attempt!.id, `${id}_1`, 20, 'CNY', 'paymentAmount CNY 2 does not match CNY 20'],
    ]);
    const inquiries = harness.network.inquiries;
    harness.clock.advance(60 * 60_000);
    assert.deepEqual(await harness.worker.runOnce(), [], 'a requires_attention attempt is no longer worked');
    assert.equal(harness.network.inquiries, inquiries);
  });

  it('an inquiry naming another paymentId than pay returned: requires_attention, no Charge', async () => {
    const harness = await start();
    const id = await awaitingShopper(harness);
    harness.network.nextInquiry = async () => ({ ok: true, outcome: { kind: 'succeeded', externalPaymentId: 'someone-elses', buyerId: null, wallet: null, paidAtMs: null, settlement: null } });
    harness.clock.advance(INQUIRY_FIRST_DELAY_MS);
    await harness.worker.runOnce();
    assert.deepEqual((await attempts(harness, id)).map((a) => a.status), ['requires_attention']);
    assert.deepEqual(await harness.gw.database.db.selectFrom('charges').selectAll().execute(), []);
    assert.match((await listAttention(harness.gw.running.app.core))[0]!.reason, /paymentId someone-elses .* pay returned ext_/);
  });

  it(`a reversal refused again and again: requires_attention after ${REVERSAL_REFUSALS_MAX} refusals, not retried forever`, async () => {
    const harness = await start();
    const id = await awaitingShopper(harness);
    // The cancel does not reach the network, so the attempt stays `canceling` for the worker,
    // which finds it paid meanwhile and must return the money, but the network refuses.
    harness.network.nextCancel = async () => ({ kind: 'unknown', reason: 'scripted' });
    const canceled = await api(harness.gw, 'POST', `/v1/payment_intents/${id}/cancel`, { key: harness.gw.secretKey, json: {} });
    assert.equal(canceled.body.status, 'canceled');
    harness.network.nextInquiry = async () => ({ ok: true, outcome: { kind: 'succeeded', externalPaymentId: `ext_${id}_1`, buyerId: null, wallet: null, paidAtMs: null, settlement: null } });
    harness.network.nextReverse = async () => ({ kind: 'refused', code: 'REFUND_NOT_ALLOWED', reason: 'REFUND_NOT_ALLOWED: scripted' });
    const passes = await drive(harness, id, 3 * REVERSAL_REFUSALS_MAX, async () => (await attempts(harness, id))[0]!.status === 'requires_attention');
    assert.deepEqual((await attempts(harness, id)).map((a) => a.status), ['requires_attention']);
    assert.equal(harness.network.reversals, REVERSAL_REFUSALS_MAX);
    assert.equal(passes, REVERSAL_REFUSALS_MAX);
    assert.match((await listAttention(harness.gw.running.app.core))[0]!.reason, /refused the reversal 5 times: REFUND_NOT_ALLOWED/);
    assert.equal(errorLines(harness, 'payment attempt requires attention').length, 1);
  });

  it('an expired attempt closed by the worker counts its refusals from the close, not from its earlier inquiries', async () => {
    const harness = await start();
    const id = await awaitingShopper(harness);
    // Many inquiries while the shopper had the cashier open (the count belongs to `pending`).
    await harness.gw.database.db.updateTable('payment_attempts').set({ checks: 50 }).where('payment_intent_id', '=', id).execute();
    const [open] = await attempts(harness, id);
    harness.clock.ms = open!.expires_at!;
    harness.network.nextReverse = async () => ({ kind: 'refused', code: 'ORDER_STATUS_INVALID', reason: 'ORDER_STATUS_INVALID: scripted' });
    await harness.worker.runOnce();
    assert.deepEqual((await attempts(harness, id)).map((a) => [a.status, a.checks]), [['canceling', 1]], 'closed, the first refusal retried');
    await drive(harness, id, 3 * REVERSAL_REFUSALS_MAX, async () => (await attempts(harness, id))[0]!.status === 'requires_attention');
    assert.deepEqual((await attempts(harness, id)).map((a) => a.status), ['requires_attention']);
    assert.equal(harness.network.reversals, REVERSAL_REFUSALS_MAX);
  });

  it(`no final answer in ${WORKER_CHECKS_MAX} checks of one status: requires_attention`, async () => {
    const harness = await start();
    const id = await awaitingShopper(harness);
    harness.network.nextInquiry = async () => ({ ok: false, reason: 'timeout', unknown: true });
    harness.clock.advance(INQUIRY_FIRST_DELAY_MS);
    await harness.worker.runOnce();
    assert.deepEqual((await attempts(harness, id)).map((a) => [a.status, a.checks]), [['pending', 1]]);
    // Fast-forward the count (each real check is one more): the next check is the bound.
    await harness.gw.database.db.updateTable('payment_attempts').set({ checks: WORKER_CHECKS_MAX }).where('payment_intent_id', '=', id).execute();
    await drive(harness, id, 1, async () => true);
    assert.deepEqual((await attempts(harness, id)).map((a) => a.status), ['requires_attention']);
    assert.match((await listAttention(harness.gw.running.app.core))[0]!.reason, new RegExp(`no final answer from Alipay\\+ after ${WORKER_CHECKS_MAX} checks in status pending`));
  });

  async function paidCharge(harness: Harness): Promise<string> {
    harness.network.nextPay = async (request) => ({ kind: 'succeeded', externalPaymentId: `ext_${request.paymentRequestId}`, buyerId: 'b', wallet: 'ALIPAY_CN' });
    const created = await api(harness.gw, 'POST', '/v1/payment_intents', { key: harness.gw.secretKey, json: seedWebRequest() });
    assert.equal(created.body.status, 'succeeded', created.text);
    return created.body.id as string;
  }

  it('a refund answered for another amount: requires_attention with refund.requires_attention, the reservation kept, never refunded twice', async () => {
    const harness = await start();
    const pi = await paidCharge(harness);
    harness.network.nextRefund = async () => ({ kind: 'amount_mismatch', reason: 'refundAmount CNY 2 does not match CNY 20' });
    const refund = await api(harness.gw, 'POST', '/v1/refunds', { key: harness.gw.secretKey, json: { payment_intent: pi } });
    assert.deepEqual([refund.status, refund.body.status, refund.body.amount], [200, 'requires_attention', 20], refund.text);
    const types = await eventTypes(harness);
    assert.deepEqual(types.slice(types.indexOf('refund.created')), ['refund.created', 'refund.requires_attention', 'refund.updated']);
    const charge = await harness.gw.database.db.selectFrom('charges').selectAll().executeTakeFirstOrThrow();
    assert.deepEqual([charge.amount_refunded, charge.amount_refund_reserved], [0, 20], 'the money may have gone: the reservation stays');
    const again = await api(harness.gw, 'POST', '/v1/refunds', { key: harness.gw.secretKey, json: { payment_intent: pi } });
    assert.deepEqual([again.status, again.body.error?.code], [400, 'charge_already_refunded']);
    assert.deepEqual(await attentionCounts(harness.gw.running.app.core), { payment_attempt: 0, refund: 1 });
    assert.equal(errorLines(harness, 'refund requires attention').length, 1);
    assert.deepEqual((await listAttention(harness.gw.running.app.core)).map((item) => [item.object, item.id, item.request_id]), [['refund', refund.body.id, refund.body.id]]);
    harness.clock.advance(24 * 60 * 60_000);
    assert.deepEqual(await harness.worker.runOnce(), [], 'not re-sent');
  });

  it(`a refund without a final answer after ${WORKER_CHECKS_MAX} sends: requires_attention`, async () => {
    const harness = await start();
    const pi = await paidCharge(harness);
    const refund = await api(harness.gw, 'POST', '/v1/refunds', { key: harness.gw.secretKey, json: { payment_intent: pi } });
    assert.equal(refund.body.status, 'pending');
    await harness.gw.database.db.updateTable('refunds').set({ checks: WORKER_CHECKS_MAX }).execute();
    harness.clock.advance(24 * 60 * 60_000);
    assert.deepEqual(await harness.worker.runOnce(), [refund.body.id]);
    const got = await api(harness.gw, 'GET', `/v1/refunds/${refund.body.id}`, { key: harness.gw.secretKey });
    assert.equal(got.body.status, 'requires_attention');
  });
});

describe('per-row worker leases', () => {
  let h: Harness | null = null;
  afterEach(async () => {
    await h?.worker.stop();
    await h?.gw.stop();
    h = null;
  });

  async function startLeased(leaseMs: number): Promise<Harness> {
    const clock = new ManualClock();
    const network = new ScriptedNetwork();
    const gw = await startTestGateway({ clock, connector: network, worker: false });
    const worker = new GatewayWorker(gw.running.app.core, network, { autoStart: false, owner: 'slow', leaseMs, concurrencyMax: 1 });
    h = { gw, clock, network, worker };
    return h;
  }

  const leaseOf = async (harness: Harness) =>
    (await harness.gw.database.db.selectFrom('payment_attempts').select(['id', 'lease_owner', 'lease_until']).where('lease_owner', 'is not', null).execute()).map((row) => [row.lease_owner, row.lease_until]);

  it('a slow check keeps its row: the lease is renewed while it runs, so another process takes nothing', async () => {
    const leaseMs = 300;
    const harness = await startLeased(leaseMs);
    const created = await api(harness.gw, 'POST', '/v1/payment_intents', { key: harness.gw.secretKey, json: seedWebRequest() });
    assert.equal(created.body.status, 'requires_action');
    harness.clock.advance(INQUIRY_FIRST_DELAY_MS);
    const claimedAt = harness.clock.now();
    const observed: unknown[] = [];
    let other: string[] | null = null;
    harness.network.nextInquiry = async () => {
      observed.push(await leaseOf(harness));
      // The clock passes the lease the claim took; the heartbeat (every leaseMs / 3) renews it.
      harness.clock.advance(10 * leaseMs);
      await new Promise((resolve) => setTimeout(resolve, leaseMs));
      observed.push(await leaseOf(harness));
      other = await new GatewayWorker(harness.gw.running.app.core, harness.network, { autoStart: false, owner: 'other', leaseMs }).runOnce();
      return { ok: false, reason: 'scripted', unknown: true };
    };
    assert.equal((await harness.worker.runOnce()).length, 1);
    assert.deepEqual(observed, [[['slow', claimedAt + leaseMs]], [['slow', claimedAt + 10 * leaseMs + leaseMs]]]);
    assert.deepEqual(other, [], 'the other process found the row leased');
    assert.equal(harness.network.inquiries, 1, 'checked once, by one process');
    assert.deepEqual(await leaseOf(harness), [], 'released after the check');
  });

  it('each row is claimed with the clock of the moment its check starts, not the pass\'s', async () => {
    const leaseMs = 60_000;
    const harness = await startLeased(leaseMs);
    for (let i = 0; i < 2; i++) {
      const created = await api(harness.gw, 'POST', '/v1/payment_intents', { key: harness.gw.secretKey, json: seedWebRequest() });
      assert.equal(created.body.status, 'requires_action');
    }
    harness.clock.advance(INQUIRY_FIRST_DELAY_MS);
    const seen: Array<{ at: number; lease: unknown }> = [];
    harness.network.nextInquiry = async () => {
      seen.push({ at: harness.clock.now(), lease: await leaseOf(harness) });
      // Each check takes 90 s of the clock: longer than one lease.
      harness.clock.advance(90_000);
      return { ok: false, reason: 'scripted', unknown: true };
    };
    assert.equal((await harness.worker.runOnce()).length, 2);
    assert.equal(seen[1]!.at, seen[0]!.at + 90_000);
    assert.deepEqual(seen.map((s) => s.lease), [[['slow', seen[0]!.at + leaseMs]], [['slow', seen[1]!.at + leaseMs]]]);
  });
  it('a lease that runs out while it is being taken is not used: no network call, and another process may claim the row', async () => {
    const leaseMs = 60_000;
    const harness = await startLeased(leaseMs);
    const created = await api(harness.gw, 'POST', '/v1/payment_intents', { key: harness.gw.secretKey, json: seedWebRequest() });
    assert.equal(created.body.status, 'requires_action');
    harness.clock.advance(INQUIRY_FIRST_DELAY_MS);
    // The process stalls while its claim is on the way to the database: by the time the claim
    // answers, the clock has passed the lease it took (a GC pause, a suspended VM).
    let stallNextUpdate = true;
    const updates = new Set<unknown>();
    const stalling: KyselyPlugin = {
      transformQuery: (args) => {
        if (args.node.kind === 'UpdateQueryNode') updates.add(args.queryId);
        return args.node;
      },
      transformResult: async (args) => {
        if (stallNextUpdate && updates.has(args.queryId)) {
          stallNextUpdate = false;
          harness.clock.advance(leaseMs + 1);
        }
        return args.result;
      },
    };
    const core = harness.gw.running.app.core;
    const stalled = new GatewayWorker({ ...core, database: { ...core.database, db: core.database.db.withPlugin(stalling) } }, harness.network, { autoStart: false, owner: 'stalled', leaseMs });
    assert.deepEqual(await stalled.runOnce(), [], 'the stalled process checked nothing');
    assert.equal(harness.network.inquiries, 0, 'and called no one');
    const other = await new GatewayWorker(core, harness.network, { autoStart: false, owner: 'other', leaseMs }).runOnce();
    const attempt = await harness.gw.database.db.selectFrom('payment_attempts').select('id').executeTakeFirstOrThrow();
    assert.deepEqual(other, [attempt.id], 'another process claimed the row at once');
    assert.equal(harness.network.inquiries, 1, 'inquired once, by the other process');
  });
  it('a lease lost between the inquiry and the reversal stops the check: only the holder calls the network', async () => {
    const leaseMs = 60_000;
    const harness = await startLeased(leaseMs);
    const created = await api(harness.gw, 'POST', '/v1/payment_intents', { key: harness.gw.secretKey, json: seedWebRequest() });
    assert.equal(created.body.status, 'requires_action');
    // Past the attempt's deadline: an unpaid answer makes the check close it, a second network call.
    harness.clock.advance(24 * 60 * 60_000);
    const attempt = await harness.gw.database.db.selectFrom('payment_attempts').select('id').executeTakeFirstOrThrow();
    harness.network.nextInquiry = async () => {
      // The inquiry outlives the lease (a stall, a jump of the clock) and another process takes the row.
      harness.clock.advance(leaseMs + 1);
      const now = harness.clock.now();
      assert.ok(await claimRow(harness.gw.database.db, 'payment_attempts', attempt.id, ATTEMPT_WORKER_STATUSES, 'other', now, now + leaseMs));
      return { ok: true, outcome: { kind: 'pending' } };
    };
    await harness.worker.runOnce();
    assert.equal(harness.network.inquiries, 1);
    assert.equal(harness.network.reversals, 0, 'the process that lost its lease does not reverse');
    const row = await harness.gw.database.db.selectFrom('payment_attempts').select(['status', 'lease_owner']).where('id', '=', attempt.id).executeTakeFirstOrThrow();
    assert.deepEqual([row.status, row.lease_owner], ['canceling', 'other'], 'the close is recorded; the reversal is left to the holder');
    assert.ok(harness.gw.logs.some((line) => line.includes('lost before its reversal')));
  });
});


describe('zhifu attention', () => {
  it('lists what requires an operator, oldest first, with what to look up at Alipay+', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-attention-'));
    const url = `sqlite:${path.join(dir, 'zhifu.db')}`;
    const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
    const env = { ...process.env, ZHIFU_DATABASE_URL: url, ZHIFU_DATA_DIR: dir };
    try {
      const empty = spawnSync(process.execPath, [cli, 'attention'], { env, encoding: 'utf8' });
      assert.deepEqual([empty.status, empty.stdout.trim()], [0, 'nothing requires attention'], empty.stderr);
      const database = openDatabase(url);
      try {
        await migrate(database);
        const account = await createAccount(database.db, systemClock, createIdGenerator(systemClock), { name: 'Shop' });
        const base = { account_id: account.id, livemode: 0, payment_intent_id: 'pi_1', amount: 20, currency: 'CNY' };
        await insertAttentionItem(database.db, { ...base, id: 're_2', object: 'refund', created: Date.UTC(2026, 10, 26, 13), request_id: 're_2', reason: 'refundAmount CNY 2 does not match CNY 20' });
        await insertAttentionItem(database.db, { ...base, id: 'pa_1', object: 'payment_attempt', created: Date.UTC(2026, 10, 26, 12), request_id: 'pi_1_1', reason: 'Alipay+ refused the reversal 5 times' });
      } finally {
        await database.close();
      }
      const listed = spawnSync(process.execPath, [cli, 'attention'], { env, encoding: 'utf8' });
      assert.equal(listed.status, 0, listed.stderr);
      assert.deepEqual(listed.stdout.trim().split('\n').map((line) => line.split('\t')), [
        ['2026-11-26T12:00:00.000Z', 'test', 'payment_attempt', 'pa_1', 'pi_1', 'request pi_1_1', 'CNY 20', 'Alipay+ refused the reversal 5 times'],
        ['2026-11-26T13:00:00.000Z', 'test', 'refund', 're_2', 'pi_1', 'request re_2', 'CNY 20', 'refundAmount CNY 2 does not match CNY 20'],
      ]);
      const json = spawnSync(process.execPath, [cli, 'attention', '--json'], { env, encoding: 'utf8' });
      assert.deepEqual(json.stdout.trim().split('\n').map((line) => JSON.parse(line).id), ['pa_1', 're_2']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
