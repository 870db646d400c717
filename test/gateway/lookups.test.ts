import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql } from 'kysely';
import { inTransaction, migrate } from '../../src/gateway/index.js';
import type { Database } from '../../src/gateway/index.js';
import { MIGRATIONS } from '../../src/gateway/store/migrations.js';
import { insertBalanceTransaction, sumNetByCurrency } from '../../src/gateway/store/balance_transactions.js';
import { listDashboardPayments } from '../../src/gateway/store/dashboard_payments.js';
import type { BalanceTransactionRow } from '../../src/gateway/store/schema.js';
import { ON_POSTGRES, api, freshDatabase, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

const ACCOUNT = 'acct_0000000000000000042';
const DAY = 24 * 3600_000;

function txn(n: number, fields: Partial<BalanceTransactionRow> & Pick<BalanceTransactionRow, 'type' | 'net' | 'currency' | 'available_on'>): BalanceTransactionRow {
  return {
    id: `txn_${String(n).padStart(19, '0')}`, account_id: ACCOUNT, livemode: 0, created: fields.available_on - DAY, reporting_category: null,
    source: `src_${n}`, payment_intent_id: null, amount: fields.net, fee: 0, exchange_rate: null, source_amount: fields.net, source_currency: 'CNY',
    quote_id: null, alipay_request_id: null, alipay_id: null, ...fields,
  };
}

/** What `GET /v1/balance` must say: every transaction of the scope summed, split at `now`. */
async function summedFromTransactions(database: Database, livemode: 0 | 1, now: number) {
  const rows = await database.db.selectFrom('balance_transactions').selectAll().where('account_id', '=', ACCOUNT).where('livemode', '=', livemode).execute();
  const byCurrency = new Map<string, { currency: string; available: number; pending: number }>();
  for (const row of rows) {
    const sum = byCurrency.get(row.currency) ?? { currency: row.currency, available: 0, pending: 0 };
    if (Number(row.available_on) <= now) sum.available += Number(row.net);
    else sum.pending += Number(row.net);
    byCurrency.set(row.currency, sum);
  }
  return [...byCurrency.values()].sort((a, b) => (a.currency < b.currency ? -1 : 1));
}

describe('balance kept per account and currency', () => {
  let database: Database;
  let cleanup: () => Promise<void>;
  before(async () => {
    ({ database, cleanup } = await freshDatabase());
    await migrate(database);
    await database.db.insertInto('accounts').values({ id: ACCOUNT, created: 1, name: 'Shop', business_category: null, settlement_currency: 'CNY', is_default: null }).execute();
  });
  after(async () => {
    await cleanup();
  });

  it('equals the sum of its transactions after charges, refunds, dispute withdrawals and reinstatements, in each currency and mode, at any clock', async () => {
    const t0 = 1_800_000_000_000;
    const rows = [
      txn(1, { type: 'charge', net: 9700, amount: 10000, fee: 300, currency: 'CNY', available_on: t0 }),
      txn(2, { type: 'charge', net: 4850, amount: 5000, fee: 150, currency: 'CNY', available_on: t0 + DAY }),
      txn(3, { type: 'refund', net: -2000, currency: 'CNY', available_on: t0 + DAY }),
      txn(4, { type: 'dispute', reporting_category: 'dispute', net: -4850, currency: 'CNY', available_on: t0 + 2 * DAY }),
      txn(5, { type: 'dispute', reporting_category: 'dispute_reversal', net: 4850, currency: 'CNY', available_on: t0 + 3 * DAY }),
      txn(6, { type: 'charge', net: 1055, amount: 1087, fee: 32, currency: 'GBP', available_on: t0 + DAY }),
      txn(7, { type: 'refund', net: -1055, currency: 'GBP', available_on: t0 + 2 * DAY }),
      txn(8, { type: 'charge', net: 777, currency: 'CNY', available_on: t0, livemode: 1 }),
    ];
    for (const row of rows) await inTransaction(database, (tx) => insertBalanceTransaction(tx, row));
    // A second record of one source fails whole: neither the transaction nor the total moves.
    await assert.rejects(inTransaction(database, (tx) => insertBalanceTransaction(tx, { ...txn(9, { type: 'charge', net: 5, currency: 'CNY', available_on: t0 }), source: 'src_1' })));
    for (const now of [t0 - 1, t0, t0 + DAY, t0 + 2 * DAY - 1, t0 + 3 * DAY, t0 + 10 * DAY]) {
      for (const livemode of [false, true]) {
        const kept = await sumNetByCurrency(database.db, { accountId: ACCOUNT, livemode }, now);
        assert.deepEqual(kept, await summedFromTransactions(database, livemode ? 1 : 0, now), `livemode=${livemode} now=${now}`);
      }
    }
    // GBP nets to zero and stays listed, as the summing query listed it.
    assert.deepEqual(await sumNetByCurrency(database.db, { accountId: ACCOUNT, livemode: false }, t0 + 10 * DAY), [
      { currency: 'CNY', available: 9700 + 4850 - 2000, pending: 0 },
      { currency: 'GBP', available: 0, pending: 0 },
    ]);
    assert.deepEqual(await sumNetByCurrency(database.db, { accountId: 'acct_0000000000000000043', livemode: false }, t0), []);
  });
});

describe('migrations 0091–0093 on a database that already holds payments', () => {
  it('backfills the balance totals and the metadata side table from the rows already stored', async () => {
    const { database, cleanup } = await freshDatabase();
    try {
      const schema = ON_POSTGRES ? { migrationTableSchema: (await sql<{ s: string }>`select current_schema() as s`.execute(database.db)).rows[0]!.s } : {};
      const before = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < '0091'));
      const old = await new Migrator({ db: database.db, provider: { getMigrations: async () => before }, ...schema }).migrateToLatest();
      assert.equal(old.error, undefined);
      await database.db.insertInto('accounts').values({ id: ACCOUNT, created: 1, name: 'Shop', business_category: null, settlement_currency: 'CNY', is_default: null }).execute();
      const pi = (id: string, metadata: string) => ({
        id, account_id: ACCOUNT, livemode: 0, created: 1, updated: 1, version: 1, status: 'requires_payment_method', amount: 100, amount_received: 0,
        currency: 'CNY', client_secret: `${id}_secret`, capture_method: 'automatic', confirmation_method: 'automatic', payment_method_types: '["alipay"]',
        payment_method_options: '{}', metadata, merchant_order_id: null, customer: null,
      });
      await database.db.insertInto('payment_intents').values([pi('pi_0000000000000000001', '{"cart":"c-1","n":"7"}'), pi('pi_0000000000000000002', '{"cart":"c-2"}')]).execute();
      for (const row of [
        txn(1, { type: 'charge', net: 970, currency: 'CNY', available_on: 5 }),
        txn(2, { type: 'refund', net: -100, currency: 'CNY', available_on: 50 }),
        txn(3, { type: 'charge', net: 61, currency: 'EUR', available_on: 5 }),
      ]) await database.db.insertInto('balance_transactions').values(row).execute();

      await migrate(database);
      assert.deepEqual(await sumNetByCurrency(database.db, { accountId: ACCOUNT, livemode: false }, 10), [
        { currency: 'CNY', available: 970, pending: -100 },
        { currency: 'EUR', available: 61, pending: 0 },
      ]);
      const found = await listDashboardPayments(database.db, database.kind, { accountId: ACCOUNT, livemode: false }, { limit: 25, created: {}, cursor: null }, { metadata: { key: 'n', value: '7' } });
      assert.deepEqual(found.rows.map((row) => row.id), ['pi_0000000000000000001']);
    } finally {
      await cleanup();
    }
  });
});

describe('metadata search follows every change of the metadata', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });
  const search = async (query: string) => {
    const response = await api(gw, 'GET', `/v1/payment_intents/search?query=${encodeURIComponent(query)}`, { key: gw.secretKey });
    assert.equal(response.status, 200, response.text);
    return response.body.data.map((p: { id: string }) => p.id);
  };

  it('finds a PaymentIntent by its current metadata only, after updates and unset keys, newest first', async () => {
    const create = async (metadata: Record<string, string>) => (await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 500, currency: 'cny', metadata } })).body.id as string;
    const first = await create({ cart: 'c-1', channel: 'web' });
    const second = await create({ cart: 'c-2', channel: 'web' });
    assert.deepEqual(await search(`metadata['channel']:'web'`), [second, first]);
    assert.deepEqual(await search(`metadata['cart']:'c-1'`), [first]);

    const updated = await api(gw, 'POST', `/v1/payment_intents/${first}`, { key: gw.secretKey, json: { metadata: { cart: 'c-9', channel: '' } } });
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual(updated.body.metadata, { cart: 'c-9' });
    assert.deepEqual(await search(`metadata['cart']:'c-1'`), []);
    assert.deepEqual(await search(`metadata['cart']:'c-9'`), [first]);
    assert.deepEqual(await search(`metadata['channel']:'web'`), [second]);
    assert.deepEqual(await search(`metadata['channel']:'web' AND metadata['cart']:'c-2' AND status:'requires_payment_method'`), [second]);
    assert.deepEqual(await search(`metadata['channel']:'web' AND metadata['cart']:'c-9'`), []);
    // Another account's identical metadata is not found.
    const other = await gw.newAccount();
    await api(gw, 'POST', '/v1/payment_intents', { key: other.test.secretKey, json: { amount: 500, currency: 'cny', metadata: { cart: 'c-2' } } });
    assert.deepEqual(await search(`metadata['cart']:'c-2'`), [second]);
  });

  it('pages a value many PaymentIntents share newest first, in the API search and the dashboard, both directions', async () => {
    const shared: string[] = [];
    for (let i = 0; i < 7; i++) {
      const created = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 600 + i, currency: 'cny', metadata: { batch: 'shared', i: String(i) } } });
      shared.push(created.body.id);
    }
    const newestFirst = [...shared].reverse();
    const seen: string[] = [];
    let page: string | null = null;
    for (let guard = 0; guard < 5; guard++) {
      const response = await api(gw, 'GET', `/v1/payment_intents/search?query=${encodeURIComponent(`metadata['batch']:'shared'`)}&limit=3${page ? `&page=${page}` : ''}`, { key: gw.secretKey });
      seen.push(...response.body.data.map((p: { id: string }) => p.id));
      page = response.body.next_page;
      if (!response.body.has_more) break;
    }
    assert.deepEqual(seen, newestFirst);

    const scope = { accountId: gw.accountId, livemode: false };
    const cursorOf = async (id: string) => {
      const row = await gw.database.db.selectFrom('payment_intents').select(['created', 'id']).where('id', '=', id).executeTakeFirstOrThrow();
      return { created: Number(row.created), id: row.id };
    };
    const filters = { metadata: { key: 'batch', value: 'shared' } };
    const first = await listDashboardPayments(gw.database.db, gw.database.kind, scope, { limit: 3, created: {}, cursor: null }, filters);
    assert.deepEqual([first.rows.map((row) => row.id), first.hasMore], [newestFirst.slice(0, 3), true]);
    const after = await listDashboardPayments(gw.database.db, gw.database.kind, scope, { limit: 3, created: {}, cursor: { direction: 'after', at: await cursorOf(newestFirst[2]!) } }, filters);
    assert.deepEqual(after.rows.map((row) => row.id), newestFirst.slice(3, 6));
    const before = await listDashboardPayments(gw.database.db, gw.database.kind, scope, { limit: 2, created: {}, cursor: { direction: 'before', at: await cursorOf(newestFirst[5]!) } }, filters);
    assert.deepEqual([before.rows.map((row) => row.id), before.hasMore], [newestFirst.slice(3, 5), true]);
    const combined = await listDashboardPayments(gw.database.db, gw.database.kind, scope, { limit: 25, created: {}, cursor: null }, { ...filters, amountGte: 603, amountLte: 604 });
    assert.deepEqual(combined.rows.map((row) => row.id), [shared[4], shared[3]]);
  });
});
