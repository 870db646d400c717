import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { buildGatewayApp, createGatewayLogger, createIdGenerator, ensureDefaultAccount, inTransaction, loadConfig, migrate, openDatabase, startGateway } from '../../src/gateway/index.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { ON_POSTGRES, ScriptedConnector, api, seedWebRequest, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

describe('store', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });

  it('runs concurrent transactions without interleaving them, and rolls back a failed one whole', async () => {
    const order: string[] = [];
    const slow = inTransaction(gw.database, async (tx) => {
      order.push('a:start');
      await tx.insertInto('accounts').values({ id: 'acct_0000000000000000001', created: 1, name: 'a', business_category: null, settlement_currency: 'HKD', is_default: null }).execute();
      await new Promise((resolve) => setTimeout(resolve, 50));
      order.push('a:end');
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const fast = inTransaction(gw.database, async (tx) => {
      order.push('b:start');
      const seen = await tx.selectFrom('accounts').select('id').where('id', '=', 'acct_0000000000000000001').execute();
      order.push(`b:sees-a=${seen.length}`);
    });
    await Promise.all([slow, fast]);
    // SQLite serializes whole transactions; PostgreSQL runs them side by side but never shows uncommitted rows.
    if (ON_POSTGRES) assert.ok(order.includes('b:sees-a=0') || order.indexOf('b:start') > order.indexOf('a:end'));
    else assert.deepEqual(order, ['a:start', 'a:end', 'b:start', 'b:sees-a=1']);
    await assert.rejects(
      inTransaction(gw.database, async (tx) => {
        await tx.insertInto('accounts').values({ id: 'acct_0000000000000000002', created: 1, name: 'b', business_category: null, settlement_currency: 'HKD', is_default: null }).execute();
        throw new Error('boom');
      }),
      /boom/,
    );
    const rolledBack = await gw.database.db.selectFrom('accounts').select('id').where('id', '=', 'acct_0000000000000000002').execute();
    assert.equal(rolledBack.length, 0);
  });

  it('migrates idempotently', async () => {
    const again = await migrate(gw.database);
    assert.deepEqual(again.results, []);
  });

  it('lets exactly one of concurrent cancels win (compare-and-set on the row version)', async () => {
    const pi = (await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 7, currency: 'cny' } })).body;
    const responses = await Promise.all(Array.from({ length: 8 }, () => api(gw, 'POST', `/v1/payment_intents/${pi.id}/cancel`, { key: gw.secretKey, json: {} })));
    assert.deepEqual(responses.map((r) => r.status).sort(), [200, 400, 400, 400, 400, 400, 400, 400]);
    const events = await gw.database.db.selectFrom('events').select('id').where('type', '=', 'payment_intent.canceled').where('data', 'like', `%${pi.id}%`).execute();
    assert.equal(events.length, 1);
  });

  it('lets exactly one of concurrent confirms start an attempt', async () => {
    const pi = (await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 7, currency: 'cny', payment_method_data: { type: 'alipay' }, return_url: 'https://s.test' } })).body;
    const responses = await Promise.all(Array.from({ length: 6 }, () => api(gw, 'POST', `/v1/payment_intents/${pi.id}/confirm`, { key: gw.secretKey, json: {} })));
    assert.equal(responses.filter((r) => r.status === 200).length, 1);
    assert.deepEqual(responses.filter((r) => r.status !== 200).map((r) => [r.status, r.body.error.code]), Array(5).fill([400, 'payment_intent_unexpected_state']));
    const attempts = await gw.database.db.selectFrom('payment_attempts').select('id').where('payment_intent_id', '=', pi.id).execute();
    assert.equal(attempts.length, 1);
  });
});

describe('SQLite file settings', { skip: ON_POSTGRES }, () => {
  it('uses WAL with group commit (NORMAL, the WAL fsync\'d by the barrier), FULL for per-commit use, in the data directory by default', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-sqlite-'));
    try {
      const database = openDatabase(`sqlite:${path.join(dir, 'nested', 'zhifu.db')}`);
      const journal = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(database.db);
      const synchronous = await sql<{ synchronous: number }>`pragma synchronous`.execute(database.db);
      assert.equal(journal.rows[0]!.journal_mode, 'wal');
      assert.equal(synchronous.rows[0]!.synchronous, 1);
      await database.close();
      const perCommit = openDatabase(`sqlite:${path.join(dir, 'nested', 'zhifu.db')}`, { sqliteCommitSync: 'each' });
      const full = await sql<{ synchronous: number }>`pragma synchronous`.execute(perCommit.db);
      assert.equal(full.rows[0]!.synchronous, 2);
      await perCommit.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('buildGatewayApp without listening', { skip: ON_POSTGRES }, () => {
  it('serves requests through inject, and /readyz turns 503 when the database is gone', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-inject-'));
    const database = openDatabase(`sqlite:${path.join(dir, 'zhifu.db')}`);
    try {
      await migrate(database);
      const clock = { now: () => Date.now() };
      const app = buildGatewayApp({ config: loadConfig({}), database, clock, logger: createGatewayLogger({ level: 'silent' }), connector: new ScriptedConnector() });
      const health = await app.inject({ method: 'GET', url: '/readyz' });
      assert.deepEqual([health.statusCode, health.json()], [200, { status: 'ready' }]);
      assert.match(String(health.headers['request-id']), /^req_\d{19}$/);
      const unauthorized = await app.inject({ method: 'GET', url: '/v1/charges' });
      assert.equal(unauthorized.statusCode, 401);
      await database.close();
      const down = await app.inject({ method: 'GET', url: '/readyz' });
      assert.deepEqual([down.statusCode, down.json().status], [503, 'unavailable']);
      assert.equal((await app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
      await app.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('default account and startGateway', { skip: ON_POSTGRES }, () => {
  let dir: string;
  let config: GatewayConfig;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'zhifu-start-'));
    config = { port: 0, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:0', dataDir: dir, databaseUrl: `sqlite:${path.join(dir, 'zhifu.db')}`, testSecretKey: null, testPublishableKey: null };
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('generates keys once on first start; they survive a restart', async () => {
    const first = await startGateway({ config, connector: new ScriptedConnector() });
    const keys = first.generatedKeys;
    assert.ok(keys !== null);
    assert.match(keys.secretKey, /^sk_test_[A-Za-z0-9]{32}$/);
    assert.match(keys.publishableKey, /^pk_test_[A-Za-z0-9]{32}$/);
    const stored = await first.database.db.selectFrom('api_keys').selectAll().execute();
    assert.ok(stored.every((row) => row.key_hash !== keys.secretKey && !JSON.stringify(row).includes(keys.secretKey)), 'only hashes are stored');
    await first.stop();
    const second = await startGateway({ config, connector: new ScriptedConnector() });
    assert.equal(second.generatedKeys, null);
    assert.equal(second.defaultAccount.id, first.defaultAccount.id);
    const listed = await api(second, 'GET', '/v1/payment_intents', { key: keys.secretKey });
    assert.equal(listed.status, 200);
    await second.stop();
  });

  it('registers pinned keys from the configuration', async () => {
    const pinned = { ...config, testSecretKey: 'sk_test_pinnedpinnedpinned', testPublishableKey: 'pk_test_pinnedpinnedpinned' };
    const running = await startGateway({ config: pinned, connector: new ScriptedConnector() });
    assert.equal(running.generatedKeys, null);
    const created = await api(running, 'POST', '/v1/payment_intents', { key: pinned.testSecretKey, json: seedWebRequest() });
    assert.equal(created.status, 200);
    const viaPublishable = await api(running, 'GET', `/v1/payment_intents/${created.body.id}?client_secret=${created.body.client_secret}`, { key: pinned.testPublishableKey });
    assert.equal(viaPublishable.status, 200);
    const database = running.database;
    const again = await ensureDefaultAccount(database, { now: () => Date.now() }, createIdGenerator({ now: () => Date.now() }), pinned);
    assert.equal(again.account.id, running.defaultAccount.id);
    await running.stop();
  });
});
