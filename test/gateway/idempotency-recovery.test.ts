import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { recordAttemptSucceeded } from '../../src/gateway/index.js';
import { IDEMPOTENCY_HEARTBEAT_MS, IDEMPOTENCY_LEASE_MS, IDEMPOTENCY_REPLAY_MS, fingerprintParams } from '../../src/gateway/core/idempotency.js';
import { STRANDED_CONFIRM_DELAY_MS } from '../../src/gateway/core/recovery.js';
import { confirmStrandedCreates } from '../../src/gateway/workers/stranded_confirms.js';
import { seedWebRequest } from '../support/gateway-server.js';
import { startCrashHarness, type CrashHarness } from './idempotency-recovery-support.js';

/** Waits for `promise`, failing the test (instead of hanging it) after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms); });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A request with an Idempotency-Key that dies between two of its transactions (the process
 * crashes: its database handle dies right after a commit, or while its call to Alipay+ is out)
 * leaves its key claimed with no response. A retry with the same key, once the dead request's
 * lease has run out, finishes what it started and answers as it would have: the same object,
 * exactly one object, attempt and Event, the same Alipay+ request id.
 */
describe('crash recovery of idempotent requests', () => {
  let h: CrashHarness;
  beforeEach(async () => {
    h = await startCrashHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  /** The retry comes after the dead request's lease ran out (nobody renews it any more). */
  async function afterCrash(): Promise<void> {
    await h.restart();
    h.clock.advance(IDEMPOTENCY_LEASE_MS + 1);
  }

  async function onlyIntent(): Promise<{ id: string }> {
    const rows = await h.database.db.selectFrom('payment_intents').select(['id']).where('account_id', '=', h.accountId).execute();
    assert.equal(rows.length, 1, 'exactly one PaymentIntent');
    return rows[0]!;
  }

  async function attemptsOf(pi: string) {
    return h.database.db.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', pi).execute();
  }

  const count = (types: string[], type: string) => types.filter((t) => t === type).length;

  it('create+confirm that died after the create: the retry confirms that PaymentIntent', async () => {
    h.process().handle.crashAfterCommits(1);
    const first = await h.post('/v1/payment_intents', 'cc-1', seedWebRequest());
    assert.equal(first.status, 500, 'the dying process could not answer');
    const { id } = await onlyIntent();
    assert.equal((await attemptsOf(id)).length, 0, 'it died before its attempt');
    await afterCrash();
    const retry = await h.post('/v1/payment_intents', 'cc-1', seedWebRequest());
    assert.equal(retry.status, 200, retry.text);
    assert.deepEqual([retry.body.id, retry.body.status], [id, 'requires_action']);
    assert.equal(retry.body.next_action.type, 'redirect_to_url');
    await onlyIntent();
    const attempts = await attemptsOf(id);
    assert.deepEqual(attempts.map((a) => a.payment_request_id), [`${id}_1`]);
    assert.deepEqual(h.connector.payCalls.map((c) => c.paymentRequestId), [`${id}_1`]);
    const types = await h.eventTypes(id);
    assert.equal(count(types, 'payment_intent.created'), 1);
    assert.equal(count(types, 'payment_intent.requires_action'), 1);
    assert.equal(await h.count('pending_confirms'), 0, 'nothing left for the worker');
    const replay = await h.post('/v1/payment_intents', 'cc-1', seedWebRequest());
    assert.deepEqual([replay.status, replay.headers.get('idempotent-replayed')], [200, 'true']);
    assert.equal(replay.text, retry.text);
  });

  it('create+confirm that died after recording its attempt, before the pay went out: the retry sends it once, same paymentRequestId', async () => {
    h.process().handle.crashAfterCommits(2);
    const first = await h.post('/v1/payment_intents', 'cc-2', seedWebRequest());
    assert.equal(first.status, 500);
    const { id } = await onlyIntent();
    assert.deepEqual((await attemptsOf(id)).map((a) => a.status), ['sending']);
    assert.equal(h.connector.payCalls.length, 0);
    await afterCrash();
    const retry = await h.post('/v1/payment_intents', 'cc-2', seedWebRequest());
    assert.equal(retry.status, 200, retry.text);
    assert.deepEqual([retry.body.id, retry.body.status], [id, 'requires_action']);
    assert.deepEqual(h.connector.payCalls.map((c) => c.paymentRequestId), [`${id}_1`]);
    const attempts = await attemptsOf(id);
    assert.deepEqual(attempts.map((a) => [a.payment_request_id, a.status, a.lease_owner]), [[`${id}_1`, 'pending', null]], 'one attempt, its lease given back');
    assert.equal(count(await h.eventTypes(id), 'payment_intent.created'), 1);
  });

  it('create+confirm that died while its pay was answered: the retry re-sends the same paymentRequestId and records one outcome', async () => {
    const pay = h.connector.nextPay;
    h.connector.nextPay = async (request) => {
      const outcome = await pay(request);
      h.process().handle.crash();
      return outcome;
    };
    const first = await h.post('/v1/payment_intents', 'cc-3', seedWebRequest());
    assert.equal(first.status, 500);
    h.connector.nextPay = pay;
    const { id } = await onlyIntent();
    await afterCrash();
    const retry = await h.post('/v1/payment_intents', 'cc-3', seedWebRequest());
    assert.deepEqual([retry.status, retry.body.id, retry.body.status], [200, id, 'requires_action']);
    assert.deepEqual(h.connector.payCalls.map((c) => c.paymentRequestId), [`${id}_1`, `${id}_1`], 'the same request id both times');
    assert.equal((await attemptsOf(id)).length, 1);
    const types = await h.eventTypes(id);
    assert.deepEqual([count(types, 'payment_intent.created'), count(types, 'payment_intent.requires_action')], [1, 1]);
  });

  it('a decline that the dead request never recorded is the retry\'s 402, replayed after', async () => {
    let crashes = 1;
    h.connector.nextPay = async () => {
      if (crashes-- > 0) h.process().handle.crash();
      return { kind: 'declined', declineCode: 'RISK_REJECT', message: 'rejected by risk control' };
    };
    assert.equal((await h.post('/v1/payment_intents', 'cc-4', seedWebRequest())).status, 500);
    const { id } = await onlyIntent();
    await afterCrash();
    const retry = await h.post('/v1/payment_intents', 'cc-4', seedWebRequest());
    assert.equal(retry.status, 402, retry.text);
    assert.deepEqual([retry.body.error.type, retry.body.error.decline_code, retry.body.error.payment_intent.id], ['card_error', 'RISK_REJECT', id]);
    assert.equal(retry.body.error.payment_intent.status, 'requires_payment_method');
    assert.deepEqual((await attemptsOf(id)).map((a) => a.status), ['failed']);
    const replay = await h.post('/v1/payment_intents', 'cc-4', seedWebRequest());
    assert.deepEqual([replay.status, replay.headers.get('idempotent-replayed'), replay.text], [402, 'true', retry.text]);
    assert.equal(h.connector.payCalls.length, 2);
  });

  it('a confirm whose attempt a notification settled meanwhile answers with that state, without paying again', async () => {
    const created = await h.post('/v1/payment_intents', null, { amount: 700, currency: 'CNY', payment_method_data: { type: 'alipay' } });
    assert.equal(created.status, 200, created.text);
    const id = created.body.id as string;
    h.process().handle.crashAfterCommits(1);
    assert.equal((await h.post(`/v1/payment_intents/${id}/confirm`, 'cf-1', { return_url: 'https://shop.example/done' })).status, 500);
    await afterCrash();
    const paid = await recordAttemptSucceeded(h.process().deps, `${id}_1`, { externalPaymentId: 'ext_1', buyerId: null, wallet: null });
    assert.equal(paid.kind, 'recorded');
    const retry = await h.post(`/v1/payment_intents/${id}/confirm`, 'cf-1', { return_url: 'https://shop.example/done' });
    assert.deepEqual([retry.status, retry.body.id, retry.body.status], [200, id, 'succeeded']);
    assert.equal(h.connector.payCalls.length, 0, 'a settled attempt is not sent again');
    assert.equal(await h.count('charges', { column: 'payment_intent_id', value: id }), 1);
  });

  it('a standalone confirm that died after its attempt: the retry re-sends that attempt', async () => {
    const created = await h.post('/v1/payment_intents', null, { amount: 700, currency: 'CNY', payment_method_data: { type: 'alipay' } });
    const id = created.body.id as string;
    h.process().handle.crashAfterCommits(1);
    assert.equal((await h.post(`/v1/payment_intents/${id}/confirm`, 'cf-2', { return_url: 'https://shop.example/done' })).status, 500);
    await afterCrash();
    const retry = await h.post(`/v1/payment_intents/${id}/confirm`, 'cf-2', { return_url: 'https://shop.example/done' });
    assert.deepEqual([retry.status, retry.body.status], [200, 'requires_action']);
    assert.deepEqual((await attemptsOf(id)).map((a) => a.payment_request_id), [`${id}_1`]);
    assert.deepEqual(h.connector.payCalls.map((c) => c.paymentRequestId), [`${id}_1`]);
  });

  /** A succeeded PaymentIntent and its charge (paid as a notification would report). */
  async function paidIntent(): Promise<{ id: string; charge: string }> {
    const created = await h.post('/v1/payment_intents', null, seedWebRequest());
    const id = created.body.id as string;
    const paid = await recordAttemptSucceeded(h.process().deps, `${id}_1`, { externalPaymentId: 'ext_p', buyerId: null, wallet: null });
    assert.equal(paid.kind, 'recorded');
    return { id, charge: String((paid as unknown as { charge: { id: string } }).charge.id) };
  }

  for (const [where, crashAt] of [['after its create', 1], ['after it was marked sent', 2]] as const) {
    it(`a refund that died ${where}: the retry sends it and answers with the refund's id`, async () => {
      const { id, charge } = await paidIntent();
      h.process().handle.crashAfterCommits(crashAt);
      assert.equal((await h.post('/v1/refunds', 'rf-1', { payment_intent: id, amount: 5 })).status, 500);
      const refunds = await h.database.db.selectFrom('refunds').selectAll().execute();
      assert.equal(refunds.length, 1);
      assert.equal(refunds[0]!.sent_at === null, crashAt === 1);
      await afterCrash();
      const retry = await h.post('/v1/refunds', 'rf-1', { payment_intent: id, amount: 5 });
      assert.equal(retry.status, 200, retry.text);
      assert.deepEqual([retry.body.id, retry.body.status, retry.body.amount, retry.body.charge], [refunds[0]!.id, 'succeeded', 5, charge]);
      assert.deepEqual(h.connector.refundCalls.map((c) => c.refundRequestId), [refunds[0]!.refund_request_id]);
      assert.equal(await h.count('refunds'), 1);
      const stored = await h.database.db.selectFrom('charges').select(['amount_refunded', 'amount_refund_reserved']).where('id', '=', charge).executeTakeFirstOrThrow();
      assert.deepEqual(stored, { amount_refunded: 5, amount_refund_reserved: 5 });
      assert.equal(count(await h.eventTypes(refunds[0]!.id), 'refund.created'), 1);
      const replay = await h.post('/v1/refunds', 'rf-1', { payment_intent: id, amount: 5 });
      assert.deepEqual([replay.headers.get('idempotent-replayed'), replay.body.id], ['true', refunds[0]!.id]);
    });
  }

  it('a refund that died with Alipay+\'s answer unrecorded: re-sent with the same refundRequestId, refunded once', async () => {
    const { id, charge } = await paidIntent();
    const refund = h.connector.nextRefund;
    h.connector.nextRefund = async (request) => {
      const outcome = await refund(request);
      h.process().handle.crash();
      return outcome;
    };
    assert.equal((await h.post('/v1/refunds', 'rf-3', { payment_intent: id })).status, 500);
    h.connector.nextRefund = refund;
    await afterCrash();
    const retry = await h.post('/v1/refunds', 'rf-3', { payment_intent: id });
    assert.deepEqual([retry.status, retry.body.status, retry.body.amount], [200, 'succeeded', 20]);
    assert.deepEqual(h.connector.refundCalls.map((c) => c.refundRequestId), [retry.body.id, retry.body.id]);
    const stored = await h.database.db.selectFrom('charges').select(['amount_refunded']).where('id', '=', charge).executeTakeFirstOrThrow();
    assert.equal(stored.amount_refunded, 20, 'refunded once');
    assert.equal(count(await h.eventTypes(charge), 'charge.refunded'), 1);
  });

  it('a retry before the dead request\'s lease ran out gets 409; one after it recovers', async () => {
    h.process().handle.crashAfterCommits(1);
    assert.equal((await h.post('/v1/payment_intents', 'cc-5', seedWebRequest())).status, 500);
    await h.restart();
    const early = await h.post('/v1/payment_intents', 'cc-5', seedWebRequest());
    assert.deepEqual([early.status, early.body.error.code], [409, 'idempotency_key_in_use']);
    h.clock.advance(IDEMPOTENCY_LEASE_MS + 1);
    const late = await h.post('/v1/payment_intents', 'cc-5', seedWebRequest());
    assert.deepEqual([late.status, late.body.status], [200, 'requires_action']);
  });

  it('of several retries at once after a crash, one finishes the request and the others get 409, then its replay', async () => {
    h.process().handle.crashAfterCommits(2);
    assert.equal((await h.post('/v1/payment_intents', 'burst-1', seedWebRequest())).status, 500);
    const { id } = await onlyIntent();
    await afterCrash();
    const retries = await Promise.all(Array.from({ length: 6 }, () => h.post('/v1/payment_intents', 'burst-1', seedWebRequest())));
    const statuses = retries.map((r) => r.status);
    assert.ok(statuses.every((s) => s === 200 || s === 409), `statuses ${statuses.join(',')}`);
    const finished = retries.filter((r) => r.status === 200 && r.headers.get('idempotent-replayed') === null);
    assert.equal(finished.length, 1, `exactly one retry finished it (${statuses.join(',')})`);
    assert.deepEqual([finished[0]!.body.id, finished[0]!.body.status], [id, 'requires_action']);
    assert.deepEqual(h.connector.payCalls.map((c) => c.paymentRequestId), [`${id}_1`]);
    assert.equal((await attemptsOf(id)).length, 1);
    const replay = await h.post('/v1/payment_intents', 'burst-1', seedWebRequest());
    assert.deepEqual([replay.headers.get('idempotent-replayed'), replay.text], ['true', finished[0]!.text]);
  });

  it('a live request keeps its key past the lease by its heartbeat: a retry gets 409, then the replay', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => { entered = resolve; });
    const pay = h.connector.nextPay;
    h.connector.nextPay = async (request) => {
      entered();
      await gate;
      return pay(request);
    };
    const firstPromise = h.post('/v1/payment_intents', 'live-1', seedWebRequest());
    await within(inside, 5_000, 'the first request to reach its pay');
    h.clock.advance(IDEMPOTENCY_LEASE_MS * 2);
    // Let one heartbeat renew the lease at the clock's new time.
    await new Promise((resolve) => setTimeout(resolve, IDEMPOTENCY_HEARTBEAT_MS + 300));
    const during = await h.post('/v1/payment_intents', 'live-1', seedWebRequest());
    assert.deepEqual([during.status, during.body.error.code], [409, 'idempotency_key_in_use']);
    release();
    const first = await firstPromise;
    assert.deepEqual([first.status, first.body.status], [200, 'requires_action']);
    const replay = await h.post('/v1/payment_intents', 'live-1', seedWebRequest());
    assert.deepEqual([replay.headers.get('idempotent-replayed'), replay.body.id], ['true', first.body.id]);
    assert.equal(h.connector.payCalls.length, 1);
    assert.equal(await h.count('payment_intents'), 1);
  });

  it('keeps the key of a create+confirm refused after its create committed: one PaymentIntent for two sends (prohibited category)', async () => {
    const gambling = await h.newAccount('online gambling');
    const send = () => h.post('/v1/payment_intents', 'prohibited-1', seedWebRequest(), gambling.secretKey);
    const first = await send();
    assert.deepEqual([first.status, first.body.error.code], [400, 'payment_method_unavailable']);
    const second = await send();
    assert.deepEqual([second.status, second.headers.get('idempotent-replayed'), second.text], [400, 'true', first.text]);
    const intents = await h.database.db.selectFrom('payment_intents').select(['id', 'status']).where('account_id', '=', gambling.accountId).execute();
    assert.equal(intents.length, 1, 'one PaymentIntent, not two');
    const created = await h.database.db.selectFrom('events').select('id').where('account_id', '=', gambling.accountId).where('type', '=', 'payment_intent.created').execute();
    assert.equal(created.length, 1, 'one payment_intent.created');
    assert.equal(await h.count('pending_confirms'), 0, 'the refused confirm leaves nothing for the worker');
  });

  it('a dead claim that committed nothing is executed afresh; a claim from before leases existed stays 409', async () => {
    const body = { amount: 42, currency: 'CNY' };
    const claim = (key: string, owner: string | null) => ({
      account_id: h.accountId, livemode: 0, idempotency_key: key, request_method: 'POST', request_path: '/v1/payment_intents',
      params_hash: fingerprintParams(body), request_id: `req_dead_${key}`, response_status: null, response_body: null,
      created: h.clock.now(), expires_at: h.clock.now() + IDEMPOTENCY_REPLAY_MS, owner, locked_until: owner === null ? null : h.clock.now() + IDEMPOTENCY_LEASE_MS, recovery_point: null,
    });
    await h.database.db.insertInto('idempotency_keys').values([claim('bare-1', 'gone-process'), claim('legacy-1', null)]).execute();
    h.clock.advance(IDEMPOTENCY_LEASE_MS + 1);
    const fresh = await h.post('/v1/payment_intents', 'bare-1', body);
    assert.deepEqual([fresh.status, fresh.body.amount, fresh.headers.get('idempotent-replayed')], [200, 42, null]);
    const replay = await h.post('/v1/payment_intents', 'bare-1', body);
    assert.deepEqual([replay.headers.get('idempotent-replayed'), replay.body.id], ['true', fresh.body.id]);
    const legacy = await h.post('/v1/payment_intents', 'legacy-1', body);
    assert.deepEqual([legacy.status, legacy.body.error.code], [409, 'idempotency_key_in_use']);
    assert.equal(await h.count('payment_intents'), 1);
  });

  it('still frees the key of a request refused before anything committed', async () => {
    const refused = await h.post('/v1/payment_intents', 'fix-1', { ...seedWebRequest(), amount: 0 });
    assert.equal(refused.status, 400);
    const fixed = await h.post('/v1/payment_intents', 'fix-1', seedWebRequest());
    assert.deepEqual([fixed.status, fixed.headers.get('idempotent-replayed')], [200, null]);
  });
});

describe('the worker finishes confirm: true creates whose request died', () => {
  let h: CrashHarness;
  beforeEach(async () => {
    h = await startCrashHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  it('without a key: confirms it after the delay, once, with <pi>_1', async () => {
    h.process().handle.crashAfterCommits(1);
    assert.equal((await h.post('/v1/payment_intents', null, seedWebRequest())).status, 500);
    await h.restart();
    const [pi] = await h.database.db.selectFrom('payment_intents').select(['id', 'status']).execute();
    assert.equal(pi!.status, 'requires_confirmation');
    const deps = h.process().deps;
    h.clock.advance(STRANDED_CONFIRM_DELAY_MS - 1);
    await confirmStrandedCreates(deps, 'worker-a');
    assert.equal(h.connector.payCalls.length, 0, 'not before the creating request is surely gone');
    h.clock.advance(1);
    await confirmStrandedCreates(deps, 'worker-a');
    await confirmStrandedCreates(deps, 'worker-b');
    const intent = await h.get(`/v1/payment_intents/${pi!.id}`);
    assert.equal(intent.body.status, 'requires_action');
    assert.deepEqual(h.connector.payCalls.map((c) => c.paymentRequestId), [`${pi!.id}_1`]);
    assert.equal(await h.count('pending_confirms'), 0);
  });

  it('with a key: finishes the request and stores its answer, which the client\'s retry then replays', async () => {
    h.process().handle.crashAfterCommits(1);
    assert.equal((await h.post('/v1/payment_intents', 'wk-1', seedWebRequest())).status, 500);
    await h.restart();
    h.clock.advance(STRANDED_CONFIRM_DELAY_MS);
    await confirmStrandedCreates(h.process().deps, 'worker-a');
    const [pi] = await h.database.db.selectFrom('payment_intents').select(['id', 'status']).execute();
    assert.equal(pi!.status, 'requires_action');
    const retry = await h.post('/v1/payment_intents', 'wk-1', seedWebRequest());
    assert.deepEqual([retry.status, retry.headers.get('idempotent-replayed'), retry.body.id, retry.body.status], [200, 'true', pi!.id, 'requires_action']);
    assert.equal(h.connector.payCalls.length, 1);
    assert.equal(await h.count('payment_attempts'), 1);
  });

  it('leaves a key whose retry is finishing it alone', async () => {
    h.process().handle.crashAfterCommits(1);
    assert.equal((await h.post('/v1/payment_intents', 'wk-2', seedWebRequest())).status, 500);
    await h.restart();
    h.clock.advance(STRANDED_CONFIRM_DELAY_MS);
    // A retry takes the claim over and is held inside its pay.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => { release = resolve; });
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => { entered = resolve; });
    const pay = h.connector.nextPay;
    h.connector.nextPay = async (request) => {
      entered();
      await gate;
      return pay(request);
    };
    const retryPromise = h.post('/v1/payment_intents', 'wk-2', seedWebRequest());
    await within(Promise.race([inside, retryPromise.then((r) => { throw new Error(`the retry answered ${r.status} without paying`); })]), 5_000, 'the retry to reach its pay');
    await confirmStrandedCreates(h.process().deps, 'worker-a');
    release();
    const retry = await retryPromise;
    assert.deepEqual([retry.status, retry.body.status], [200, 'requires_action']);
    assert.equal(h.connector.payCalls.length, 1, 'the worker did not confirm it as well');
    assert.equal(await h.count('payment_attempts'), 1);
  });
});

/** Through the real connector and sandbox: the worker's pass runs the job, and Alipay+ sees one payment. */
describe('crash recovery against the Alipay+ sandbox', () => {
  let h: CrashHarness;
  before(async () => {
    h = await startCrashHarness({ sandbox: true });
  });
  after(async () => {
    await h.stop();
  });

  it('a retry after a crash mid-confirm gets the same cashier code; a stranded create is confirmed by the worker\'s pass', async () => {
    h.process().handle.crashAfterCommits(2);
    assert.equal((await h.post('/v1/payment_intents', 'sb-1', seedWebRequest())).status, 500);
    await h.restart();
    h.clock.advance(IDEMPOTENCY_LEASE_MS + 1);
    const retry = await h.post('/v1/payment_intents', 'sb-1', seedWebRequest());
    assert.deepEqual([retry.status, retry.body.status], [200, 'requires_action'], retry.text);
    const again = await h.post('/v1/payment_intents', 'sb-1', seedWebRequest());
    assert.equal(again.body.next_action.alipay_handle_redirect.qr_code.data, retry.body.next_action.alipay_handle_redirect.qr_code.data);

    h.process().handle.crashAfterCommits(1);
    assert.equal((await h.post('/v1/payment_intents', null, seedWebRequest())).status, 500);
    await h.restart();
    h.clock.advance(STRANDED_CONFIRM_DELAY_MS);
    const worker = h.process().running.worker;
    assert.ok(worker !== null);
    await worker.runOnce();
    const intents = await h.database.db.selectFrom('payment_intents').select(['id', 'status']).orderBy('id').execute();
    assert.deepEqual(intents.map((i) => i.status), ['requires_action', 'requires_action']);
    const attempts = await h.database.db.selectFrom('payment_attempts').select(['payment_request_id', 'status']).orderBy('payment_request_id').execute();
    assert.deepEqual(attempts.map((a) => [a.payment_request_id, a.status]), intents.map((i) => [`${i.id}_1`, 'pending']));
  });
});
