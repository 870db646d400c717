import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, ScriptedConnector, api, seedWebRequest, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

describe('Idempotency-Key (api.md §1)', () => {
  let gw: TestGateway;
  const clock = new ManualClock();
  const connector = new ScriptedConnector();
  const create = (key: string, json: unknown, apiKey = gw.secretKey) => api(gw, 'POST', '/v1/payment_intents', { key: apiKey, json, headers: { 'Idempotency-Key': key } });
  const countIntents = async (accountId = gw.accountId) =>
    Number((await gw.database.db.selectFrom('payment_intents').select((eb) => eb.fn.countAll<number | string>().as('n')).where('account_id', '=', accountId).executeTakeFirstOrThrow()).n);

  before(async () => {
    gw = await startTestGateway({ clock, connector });
  });
  after(async () => {
    await gw.stop();
  });

  it('replays the first response with Idempotent-Replayed: true and creates nothing more', async () => {
    const before = await countIntents();
    const first = await create('replay-1', { amount: 100, currency: 'cny', metadata: { a: '1' } });
    const second = await create('replay-1', { metadata: { a: '1' }, currency: 'cny', amount: 100 });
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('idempotent-replayed'), null);
    assert.equal(second.status, 200);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.equal(second.text, first.text, 'byte-identical body');
    assert.notEqual(second.headers.get('request-id'), first.headers.get('request-id'));
    assert.equal(await countIntents(), before + 1);
  });

  it('refuses the same key with other parameters or another path (400 idempotency_error)', async () => {
    const first = await create('mismatch-1', { amount: 100, currency: 'cny' });
    assert.equal(first.status, 200);
    const other = await create('mismatch-1', { amount: 101, currency: 'cny' });
    assert.equal(other.status, 400);
    assert.equal(other.body.error.type, 'idempotency_error');
    assert.match(other.body.error.message, /same parameters/);
    const path = await api(gw, 'POST', `/v1/payment_intents/${first.body.id}`, { key: gw.secretKey, json: { amount: 100, currency: 'cny' }, headers: { 'Idempotency-Key': 'mismatch-1' } });
    assert.deepEqual([path.status, path.body.error.type], [400, 'idempotency_error']);
  });

  it('answers 409 idempotency_key_in_use while the first request runs, then replays it', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => { release = resolve; });
    const original = connector.nextPay;
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => { entered = resolve; });
    connector.nextPay = async (request) => {
      entered();
      await gate;
      return original(request);
    };
    try {
      const firstPromise = create('inflight-1', seedWebRequest());
      await inside;
      const during = await create('inflight-1', seedWebRequest());
      assert.equal(during.status, 409);
      assert.deepEqual([during.body.error.type, during.body.error.code], ['idempotency_error', 'idempotency_key_in_use']);
      release();
      const first = await firstPromise;
      assert.deepEqual([first.status, first.body.status], [200, 'requires_action']);
      const replay = await create('inflight-1', seedWebRequest());
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.body.id, first.body.id);
      assert.equal(connector.payCalls.filter((c) => c.paymentIntentId === first.body.id).length, 1, 'the wallet network was called once');
    } finally {
      connector.nextPay = original;
    }
  });

  it('makes 20 concurrent creates with one key produce exactly one PaymentIntent', async () => {
    const before = await countIntents();
    const responses = await Promise.all(Array.from({ length: 20 }, () => create('burst-1', { amount: 2000, currency: 'usd' })));
    const statuses = responses.map((r) => r.status);
    assert.ok(statuses.every((s) => s === 200 || s === 409), `statuses ${statuses.join(',')}`);
    const executed = responses.filter((r) => r.status === 200 && r.headers.get('idempotent-replayed') === null);
    assert.equal(executed.length, 1, 'exactly one request executed');
    const ids = new Set(responses.filter((r) => r.status === 200).map((r) => r.body.id));
    assert.equal(ids.size, 1);
    assert.equal(await countIntents(), before + 1);
  });

  it('replays a declined confirm (402) rather than paying again', async () => {
    const original = connector.nextPay;
    connector.nextPay = async () => ({ kind: 'declined', declineCode: 'RISK_REJECT', message: 'rejected by risk control' });
    try {
      const first = await create('decline-1', seedWebRequest());
      assert.equal(first.status, 402);
      const calls = connector.payCalls.length;
      const replay = await create('decline-1', seedWebRequest());
      assert.deepEqual([replay.status, replay.headers.get('idempotent-replayed')], [402, 'true']);
      assert.equal(replay.text, first.text);
      assert.equal(connector.payCalls.length, calls);
    } finally {
      connector.nextPay = original;
    }
  });

  it('stores and replays a 5xx once execution began, without calling the network again', async () => {
    const original = connector.nextPay;
    // An outcome that breaks while being recorded: the attempt was committed, the outcome was not.
    connector.nextPay = async (request) => {
      const outcome = await original(request);
      return Object.defineProperty({ ...outcome }, 'redirectUrl', { get: () => { throw new Error('corrupt outcome'); }, enumerable: true });
    };
    try {
      const first = await create('fault-1', seedWebRequest());
      assert.equal(first.status, 500);
      assert.deepEqual(first.body, { error: { type: 'api_error', message: 'An unexpected error occurred while processing the request.', request_log_url: `${gw.url}/dashboard/logs/${first.headers.get('request-id')}` } });
      const calls = connector.payCalls.length;
      const replay = await create('fault-1', seedWebRequest());
      assert.deepEqual([replay.status, replay.headers.get('idempotent-replayed')], [500, 'true']);
      assert.equal(replay.text, first.text);
      assert.equal(connector.payCalls.length, calls, 'the replay did not pay again');
      const requestId = first.headers.get('request-id');
      assert.ok(gw.logs.some((line) => line.includes('unhandled error') && line.includes(requestId!)), 'the fault is logged with its request id');
      const sending = await gw.database.db.selectFrom('payment_attempts').select('payment_intent_id').where('status', '=', 'sending').execute();
      assert.equal(sending.length, 1, 'the attempt is left in sending for the worker to finish');
      const intent = await gw.database.db.selectFrom('payment_intents').select('status').where('id', '=', sending[0]!.payment_intent_id).executeTakeFirstOrThrow();
      assert.equal(intent.status, 'processing');
    } finally {
      connector.nextPay = original;
    }
  });

  it('frees a key whose request failed validation, so a corrected retry executes', async () => {
    const invalid = await create('fixme-1', { amount: 0, currency: 'cny' });
    assert.deepEqual([invalid.status, invalid.body.error.code], [400, 'amount_too_small']);
    const fixed = await create('fixme-1', { amount: 1, currency: 'cny' });
    assert.equal(fixed.status, 200);
    assert.equal(fixed.headers.get('idempotent-replayed'), null);
  });

  it('scopes keys to the account and mode', async () => {
    const other = await gw.newAccount();
    const mine = await create('shared-1', { amount: 5, currency: 'cny' });
    const theirs = await create('shared-1', { amount: 5, currency: 'cny' }, other.test.secretKey);
    const theirsLive = await create('shared-1', { amount: 5, currency: 'cny' }, other.live.secretKey);
    assert.equal(theirs.headers.get('idempotent-replayed'), null);
    assert.equal(theirsLive.headers.get('idempotent-replayed'), null);
    assert.equal(new Set([mine.body.id, theirs.body.id, theirsLive.body.id]).size, 3);
    assert.equal(theirsLive.body.livemode, true);
  });

  it('replays for 24 hours, then lets the key be used afresh', async () => {
    const first = await create('day-1', { amount: 9, currency: 'cny' });
    clock.advance(24 * 60 * 60 * 1000 - 1);
    const replay = await create('day-1', { amount: 9, currency: 'cny' });
    assert.equal(replay.body.id, first.body.id);
    clock.advance(1);
    const fresh = await create('day-1', { amount: 10, currency: 'cny' });
    assert.equal(fresh.status, 200);
    assert.notEqual(fresh.body.id, first.body.id);
    assert.equal(fresh.body.amount, 10);
  });

  it('refuses keys longer than 255 characters', async () => {
    const response = await create('k'.repeat(256), { amount: 1, currency: 'cny' });
    assert.deepEqual([response.status, response.body.error.param], [400, 'Idempotency-Key']);
    assert.match(response.body.error.message, /255/);
    const ok = await create('k'.repeat(255), { amount: 1, currency: 'cny' });
    assert.equal(ok.status, 200);
  });

  it('applies to update, confirm and cancel too', async () => {
    const pi = (await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 50, currency: 'cny' } })).body;
    const post = (path: string, key: string, json: unknown) => api(gw, 'POST', path, { key: gw.secretKey, json, headers: { 'Idempotency-Key': key } });
    const cancel1 = await post(`/v1/payment_intents/${pi.id}/cancel`, 'cancel-1', {});
    const cancel2 = await post(`/v1/payment_intents/${pi.id}/cancel`, 'cancel-1', {});
    assert.deepEqual([cancel1.status, cancel2.status, cancel2.headers.get('idempotent-replayed')], [200, 200, 'true']);
    assert.equal(cancel2.body.status, 'canceled');
    const cancel3 = await post(`/v1/payment_intents/${pi.id}/cancel`, 'cancel-2', {});
    assert.equal(cancel3.status, 400, 'a new key executes, and a canceled intent cannot be canceled again');
  });
});
