import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ConfigError, createGatewayLogger, loadConfig } from '../../src/gateway/index.js';
import { REDACTED, REQUEST_LOG_BODY_MAX, TRUNCATED_MARKER, listRequestLogs, redactText, requestLogRow } from '../../src/gateway/core/request_logs.js';
import type { CapturedRequest } from '../../src/gateway/core/request_logs.js';
import { migrate } from '../../src/gateway/store/migrations.js';
import type { Database } from '../../src/gateway/store/database.js';
import { RequestLogWriter } from '../../src/gateway/workers/request_logs.js';
import { ManualClock, api, freshDatabase, startTestGateway } from '../support/gateway-server.js';

const ACCOUNT = 'acct_1000000000000000001';
let n = 0;
function captured(overrides: Partial<CapturedRequest> = {}): CapturedRequest {
  n += 1;
  return {
    id: `req_${String(1_000_000_000_000_000_000n + BigInt(n))}`, accountId: ACCOUNT, livemode: false, created: 1_000 + n,
    method: 'POST', path: '/v1/payment_intents', route: '/v1/payment_intents', status: 200, durationMs: 1.4,
    idempotencyKey: null, idempotentReplayed: false, apiKeyLast4: 'abcd', requestBody: { amount: 1 }, responseBody: '{"id":"pi_1"}',
    ...overrides,
  };
}

describe('request log writer', () => {
  let database: Database;
  let cleanup: () => Promise<void>;
  const lines: string[] = [];
  const logger = createGatewayLogger({ level: 'info' }, new Writable({ write(chunk, _e, done) { lines.push(String(chunk)); done(); } }));
  const count = async () => (await database.db.selectFrom('request_logs').select('id').execute()).length;

  before(async () => {
    ({ database, cleanup } = await freshDatabase());
    await migrate(database);
  });
  after(async () => {
    await cleanup();
  });

  it('drops and counts when the buffer is full instead of blocking or growing', async () => {
    await database.db.deleteFrom('request_logs').execute();
    const writer = new RequestLogWriter({ database, clock: new ManualClock(), logger }, { retentionDays: 30, capacity: 3 });
    for (let i = 0; i < 5; i += 1) writer.enqueue(captured());
    assert.equal(writer.pending, 3);
    assert.equal(writer.dropped, 2);
    await writer.flush();
    assert.equal(await count(), 3);
    assert.ok(lines.some((l) => l.includes('buffer full') && l.includes('"dropped":2')), 'the drop is logged');
    // Room again once flushed.
    writer.enqueue(captured());
    assert.equal(writer.pending, 1);
    await writer.close();
    assert.equal(await count(), 4);
  });

  it('writes a batch with one INSERT per batch size and flushes what is left on close', async () => {
    await database.db.deleteFrom('request_logs').execute();
    const writer = new RequestLogWriter({ database, clock: new ManualClock(), logger }, { retentionDays: 30, batchSize: 4, flushIntervalMs: 60_000 });
    writer.start();
    for (let i = 0; i < 10; i += 1) writer.enqueue(captured());
    await writer.close();
    assert.equal(await count(), 10);
    assert.equal(writer.written, 10);
    // Closed: later requests are counted as dropped, never written to a closing database.
    writer.enqueue(captured());
    assert.equal(writer.dropped, 1);
  });

  it('deletes by age in small batches', async () => {
    await database.db.deleteFrom('request_logs').execute();
    const clock = new ManualClock(100 * 24 * 3600 * 1000);
    const writer = new RequestLogWriter({ database, clock, logger }, { retentionDays: 1, pruneBatch: 2, pruneBatchesMax: 2 });
    for (let i = 0; i < 7; i += 1) writer.enqueue(captured({ created: 1 }));
    writer.enqueue(captured({ created: clock.ms - 1000 }));
    await writer.flush();
    assert.equal(await writer.prune(), 4, 'at most pruneBatch × pruneBatchesMax rows per run');
    assert.equal(await writer.prune(), 3);
    assert.equal(await count(), 1);
  });

  it('redacts before it caps, and caps each body', () => {
    const big = 'x'.repeat(REQUEST_LOG_BODY_MAX * 2);
    const row = requestLogRow(captured({ requestBody: { description: big, password: 'hunter2' }, responseBody: `{"client_secret":"pi_1_secret_abc","d":"${big}"}` }));
    assert.equal(row.request_body!.length, REQUEST_LOG_BODY_MAX + TRUNCATED_MARKER.length);
    assert.ok(row.request_body!.endsWith(TRUNCATED_MARKER));
    assert.ok(!row.request_body!.includes('hunter2'));
    assert.ok(row.response_body!.startsWith(`{"client_secret":"${REDACTED}"`));
    assert.equal(redactText('{"secret": "whsec_abc\\"d", "x": "sk_live_Zz9", "y": "rk_test_1"}'), `{"secret": "${REDACTED}", "x": "${REDACTED}", "y": "${REDACTED}"}`);
    assert.equal(redactText('{"description":"see pi_123_secret_Ab9 and whsec_q"}'), `{"description":"see ${REDACTED} and ${REDACTED}"}`);
    // A cut in the middle of a secret value still blanks what is left of it.
    assert.equal(redactText('{"client_secret":"pi_1_sec'), `{"client_secret":"${REDACTED}"`);
  });
});

describe('request logs: the gateway flushes on close', () => {
  it('writes requests still in the buffer when it stops', async () => {
    const gw = await startTestGateway({ clock: new ManualClock() });
    try {
      // The writer's interval would write them in 250 ms; stopping at once must not lose them.
      const r = await api(gw, 'GET', '/v1/payment_intents', { key: gw.secretKey });
      assert.equal(r.status, 200);
      let rows: string[] = [];
      await gw.restart(async () => {
        rows = (await listRequestLogs(gw.database.db, { accountId: gw.accountId, livemode: false }, {}, { limit: 10 })).data.map((l) => l.id);
      });
      assert.deepEqual(rows, [r.headers.get('request-id')]);
    } finally {
      await gw.stop();
    }
  });
});

describe('ZHIFU_REQUEST_LOG_RETENTION_DAYS', () => {
  it('is whole days, 0 turns logging off, unset leaves the default (30) to the gateway', () => {
    assert.equal(loadConfig({}).requestLogRetentionDays, undefined);
    assert.equal(loadConfig({ ZHIFU_REQUEST_LOG_RETENTION_DAYS: '7' }).requestLogRetentionDays, 7);
    assert.equal(loadConfig({ ZHIFU_REQUEST_LOG_RETENTION_DAYS: '0' }).requestLogRetentionDays, 0);
    assert.throws(() => loadConfig({ ZHIFU_REQUEST_LOG_RETENTION_DAYS: 'a week' }), ConfigError);
    assert.throws(() => loadConfig({ ZHIFU_REQUEST_LOG_RETENTION_DAYS: '-1' }), /whole number of days/);
  });
});
