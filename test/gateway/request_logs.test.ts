import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { getRequestLog, listRequestLogs } from '../../src/gateway/core/request_logs.js';
import type { RequestLog } from '../../src/gateway/core/request_logs.js';
import type { RequestLogWriter } from '../../src/gateway/workers/request_logs.js';
import { ManualClock, api, seedWebRequest, startTestGateway } from '../support/gateway-server.js';
import type { ApiResponse, TestGateway } from '../support/gateway-server.js';

const DAY = 24 * 60 * 60 * 1000;
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('request logs: every /v1 request, one row, secrets redacted', () => {
  let gw: TestGateway;
  let clock: ManualClock;
  let writer: RequestLogWriter;
  let other: Awaited<ReturnType<TestGateway['newAccount']>>;
  const scope = () => ({ accountId: gw.accountId, livemode: false });

  /** The logs of the default account with the given request id (flushed first). */
  async function logsOf(response: ApiResponse): Promise<RequestLog[]> {
    const id = response.headers.get('request-id');
    assert.match(id ?? '', /^req_\d{19}$/);
    // The capture runs when the response has been written, which the client may see first.
    for (let i = 0; ; i += 1) {
      await writer.flush();
      const all = await listRequestLogs(gw.database.db, scope(), {}, { limit: 100 });
      const found = all.data.filter((log) => log.id === id);
      if (found.length > 0 || i === 50) return found;
      await settle();
    }
  }
  async function onlyLog(response: ApiResponse): Promise<RequestLog> {
    const logs = await logsOf(response);
    assert.equal(logs.length, 1, `exactly one log row for ${response.headers.get('request-id')}`);
    return logs[0]!;
  }

  before(async () => {
    clock = new ManualClock();
    gw = await startTestGateway({ clock });
    writer = gw.running.requestLogs!;
    other = await gw.newAccount();
  });
  after(async () => {
    await gw?.stop();
  });

  it('logs a 200 JSON create with its fields, the key\'s last four characters only, and no client_secret', async () => {
    const response = await api(gw, 'POST', '/v1/payment_intents?expand=none', { key: gw.secretKey, json: { amount: 500, currency: 'cny', metadata: { order: 'A-1' } }, headers: { 'Idempotency-Key': 'log-json-1' } });
    assert.equal(response.status, 200, response.text);
    assert.match(response.body.client_secret, /_secret_/);
    const log = await onlyLog(response);
    assert.equal(log.method, 'POST');
    assert.equal(log.path, '/v1/payment_intents?expand=none');
    assert.equal(log.route, '/v1/payment_intents');
    assert.equal(log.status, 200);
    assert.equal(log.created, clock.ms);
    assert.equal(log.livemode, false);
    assert.ok(log.durationMs >= 0 && log.durationMs < 10_000);
    assert.equal(log.idempotencyKey, 'log-json-1');
    assert.equal(log.idempotentReplayed, false);
    assert.equal(log.apiKeyLast4, gw.secretKey.slice(-4));
    assert.deepEqual(JSON.parse(log.requestBody!), { amount: 500, currency: 'cny', metadata: { order: 'A-1' } });
    const stored = JSON.parse(log.responseBody!);
    assert.equal(stored.id, response.body.id);
    assert.equal(stored.client_secret, '[REDACTED]');
    assert.ok(!log.responseBody!.includes(response.body.client_secret));
    const everything = JSON.stringify(log);
    assert.ok(!everything.includes(gw.secretKey), 'the API key is never stored');
  });

  it('logs a form-encoded 200 with its parameters', async () => {
    const response = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, form: 'amount=700&currency=cny&metadata[k]=v' });
    assert.equal(response.status, 200, response.text);
    const log = await onlyLog(response);
    assert.equal(log.status, 200);
    assert.equal(log.idempotencyKey, null);
    assert.deepEqual(JSON.parse(log.requestBody!), { amount: '700', currency: 'cny', metadata: { k: 'v' } });
  });

  it('logs a 400 with its param, a 404 and a 402 decline', async () => {
    const bad = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 'lots', currency: 'cny' } });
    assert.equal(bad.status, 400);
    const badLog = await onlyLog(bad);
    assert.equal(badLog.status, 400);
    assert.equal(JSON.parse(badLog.responseBody!).error.param, bad.body.error.param);

    const missing = await api(gw, 'GET', '/v1/payment_intents/pi_1000000000000000000', { key: gw.secretKey });
    assert.equal(missing.status, 404);
    const missingLog = await onlyLog(missing);
    assert.deepEqual([missingLog.method, missingLog.route, missingLog.status, missingLog.requestBody], ['GET', '/v1/payment_intents/:id', 404, null]);
    assert.equal(JSON.parse(missingLog.responseBody!).error.code, 'resource_missing');

    const original = gw.connector.nextPay;
    gw.connector.nextPay = async () => ({ kind: 'declined', declineCode: 'RISK_REJECT', message: 'rejected by risk control' });
    try {
      const declined = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: seedWebRequest() });
      assert.equal(declined.status, 402, declined.text);
      const log = await onlyLog(declined);
      assert.equal(log.status, 402);
      assert.equal(JSON.parse(log.responseBody!).error.decline_code, 'RISK_REJECT');
    } finally {
      gw.connector.nextPay = original;
    }
  });

  it('logs an idempotent replay as its own row, marked replayed', async () => {
    const headers = { 'Idempotency-Key': 'log-replay-1' };
    const first = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 900, currency: 'cny' }, headers });
    const replay = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 900, currency: 'cny' }, headers });
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    const [a, b] = [await onlyLog(first), await onlyLog(replay)];
    assert.deepEqual([a.idempotentReplayed, b.idempotentReplayed], [false, true]);
    assert.deepEqual([a.idempotencyKey, b.idempotencyKey], ['log-replay-1', 'log-replay-1']);
    assert.equal(JSON.parse(b.responseBody!).id, first.body.id);
  });

  it('never stores a webhook endpoint\'s whsec_ secret', async () => {
    const response = await api(gw, 'POST', '/v1/webhook_endpoints', { key: gw.secretKey, json: { url: 'https://shop.example/hook', enabled_events: ['*'] } });
    assert.equal(response.status, 200, response.text);
    const secret: string = response.body.secret;
    assert.match(secret, /^whsec_/);
    const log = await onlyLog(response);
    assert.ok(!JSON.stringify(log).includes(secret));
    assert.ok(!JSON.stringify(log).includes(secret.slice(6)));
    assert.equal(JSON.parse(log.responseBody!).secret, '[REDACTED]');
    // A secret-looking value under any name is blanked too.
    const meta = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 100, currency: 'cny', metadata: { note: `copy of ${gw.secretKey}`, pw: secret } } });
    const metaLog = await onlyLog(meta);
    assert.ok(!metaLog.requestBody!.includes(gw.secretKey) && !metaLog.responseBody!.includes(gw.secretKey));
    assert.ok(!metaLog.requestBody!.includes(secret) && !metaLog.responseBody!.includes(secret));
  });

  it('does not log requests refused before authentication (no account to file them under)', async () => {
    await writer.flush();
    const before = writer.written;
    const refused = await api(gw, 'GET', '/v1/payment_intents', { key: 'sk_test_nosuchkey' });
    assert.equal(refused.status, 401);
    await settle();
    await writer.flush();
    assert.equal(writer.written, before);
  });

  it('keeps each account and mode to its own logs', async () => {
    const mine = await api(gw, 'GET', '/v1/payment_intents?limit=1', { key: gw.secretKey });
    const theirs = await api(gw, 'GET', '/v1/payment_intents?limit=2', { key: other.test.secretKey });
    const theirsLive = await api(gw, 'GET', '/v1/payment_intents?limit=3', { key: other.live.secretKey });
    await logsOf(mine);
    await settle();
    await writer.flush();
    const theirScope = { accountId: other.accountId, livemode: false };
    const theirList = await listRequestLogs(gw.database.db, theirScope, {}, { limit: 100 });
    assert.deepEqual(theirList.data.map((l) => l.id), [theirs.headers.get('request-id')]);
    assert.equal(theirList.data[0]!.apiKeyLast4, other.test.secretKey.slice(-4));
    const liveList = await listRequestLogs(gw.database.db, { accountId: other.accountId, livemode: true }, {}, { limit: 100 });
    assert.deepEqual(liveList.data.map((l) => l.id), [theirsLive.headers.get('request-id')]);
    // By id: another account's log is "not found".
    assert.equal(await getRequestLog(gw.database.db, scope(), theirs.headers.get('request-id')!), undefined);
    assert.equal((await getRequestLog(gw.database.db, theirScope, theirs.headers.get('request-id')!))?.path, '/v1/payment_intents?limit=2');
    assert.equal((await getRequestLog(gw.database.db, scope(), mine.headers.get('request-id')!))?.status, 200);
    // …and not usable as a cursor.
    await assert.rejects(listRequestLogs(gw.database.db, scope(), {}, { starting_after: theirs.headers.get('request-id')! }), /No such request log/);
  });

  it('filters by method, status, path prefix, key last4 and time; pages newest first by keyset', async () => {
    const start = clock.ms + 1000;
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      clock.advance(1000);
      const r = await api(gw, 'GET', `/v1/payment_intents/pi_100000000000000000${i}`, { key: gw.secretKey });
      ids.push(r.headers.get('request-id')!);
      await logsOf(r);
    }
    const window = { created: { gte: start } };
    const newestFirst = [...ids].reverse();
    const page1 = await listRequestLogs(gw.database.db, scope(), {}, { ...window, limit: 2 });
    assert.deepEqual(page1.data.map((l) => l.id), newestFirst.slice(0, 2));
    assert.equal(page1.hasMore, true);
    const page2 = await listRequestLogs(gw.database.db, scope(), {}, { ...window, limit: 2, starting_after: page1.data[1]!.id });
    assert.deepEqual(page2.data.map((l) => l.id), newestFirst.slice(2, 4));
    const page3 = await listRequestLogs(gw.database.db, scope(), {}, { ...window, limit: 2, starting_after: page2.data[1]!.id });
    assert.deepEqual([page3.data.map((l) => l.id), page3.hasMore], [newestFirst.slice(4), false]);
    const back = await listRequestLogs(gw.database.db, scope(), {}, { ...window, limit: 2, ending_before: page3.data[0]!.id });
    assert.deepEqual(back.data.map((l) => l.id), newestFirst.slice(2, 4));

    const f = (filter: Parameters<typeof listRequestLogs>[2], extra = {}) => listRequestLogs(gw.database.db, scope(), filter, { limit: 100, ...extra }).then((p) => p.data);
    assert.equal((await f({ method: 'get', status: 404, pathPrefix: '/v1/payment_intents/pi_1000000000000000003' })).map((l) => l.id).join(), ids[3]);
    assert.ok((await f({ status: { gte: 400, lt: 500 } })).every((l) => l.status >= 400 && l.status < 500));
    assert.ok((await f({ status: { gte: 400, lt: 500 } })).some((l) => l.status === 402));
    assert.ok((await f({ method: 'POST' })).every((l) => l.method === 'POST'));
    assert.equal((await f({ pathPrefix: '/v1/webhook_endpoints' })).length, 1);
    assert.equal((await f({ pathPrefix: '/V1/' })).length, 0, 'the prefix is case-sensitive on both databases');
    assert.equal((await f({ apiKeyLast4: 'zzzz' })).length, 0);
    assert.ok((await f({ apiKeyLast4: gw.secretKey.slice(-4) })).length >= 10);
    assert.deepEqual((await f({}, { created: { gte: start + 2000, lt: start + 4000 } })).map((l) => l.id), [ids[3], ids[2]]);
  });

  it('prunes rows older than the retention, by the clock', async () => {
    await writer.flush();
    const all = async () => (await listRequestLogs(gw.database.db, scope(), {}, { limit: 100 })).data.length;
    const before = await all();
    assert.ok(before > 10);
    clock.advance(29 * DAY);
    const recent = await api(gw, 'GET', '/v1/payment_intents?limit=1', { key: gw.secretKey });
    assert.equal((await logsOf(recent)).length, 1);
    clock.advance(1 * DAY + 60_000);
    // Every row so far (all accounts) is now past 30 days, except `recent` (1 day + 1 min old).
    // (The writer's own timer may prune first: the clock jumped past its interval. Either way:)
    await writer.prune();
    const left = (await gw.database.db.selectFrom('request_logs').select('id').execute()).map((row) => row.id);
    assert.deepEqual(left, [recent.headers.get('request-id')]);
    assert.equal(await writer.prune(), 0);
  });
});

describe('request logs: ZHIFU_REQUEST_LOG_RETENTION_DAYS=0 turns them off', () => {
  it('writes nothing', async () => {
    const gw = await startTestGateway({ config: { requestLogRetentionDays: 0 } });
    try {
      assert.equal(gw.running.requestLogs, null);
      const r = await api(gw, 'GET', '/v1/payment_intents', { key: gw.secretKey });
      assert.equal(r.status, 200);
      assert.equal((await gw.database.db.selectFrom('request_logs').select('id').execute()).length, 0);
    } finally {
      await gw.stop();
    }
  });
});
