/**
 * Every merchant-facing lookup and search of the gateway, timed with 10k and with 1M stored
 * payments (issue 13: "every lookup and search flat (≤ 1.2×) from 10k to 1M stored payments").
 *
 *   npm run build && node dist/bench/lookups.js --payments 10000,1000000
 *   node dist/bench/lookups.js --payments 10000,1000000 --database postgres://zhifu:zhifu@127.0.0.1:5432/zhifu_test
 *   node dist/bench/lookups.js --payments 1000000 --keep /tmp/lookups   # seed once, keep the database
 *   node dist/bench/lookups.js --payments 1000000 --keep /tmp/lookups   # later: reuse it (migrations run first)
 *
 * Seeds N PaymentIntents of one account straight into a fresh gateway store, in batched
 * multi-row inserts, with the shapes a real account has: an attempt per confirmed payment, a
 * charge and its balance transaction per success, a refund (and its balance transaction) on one
 * success in 20, a checkout session on one payment in 10, a customer on one in 3, metadata and a
 * merchant order id on each, `created`/`succeeded` events, and a webhook delivery per event of one
 * endpoint. Payments arrive at a fixed rate (one every 30 s) up to now, so 10k and 1M differ only in
 * how much history lies behind the same recent traffic. Then times each lookup through the core
 * functions the HTTP routes call (median of `--samples` after `--warmup`, rotating over ids spread
 * through the history). `ratio` is the largest N's median over the smallest's.
 */
import { openPostgresSchema } from './postgres.js';
import { mkdirSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Migrator, sql } from 'kysely';
import type { Insertable } from 'kysely';
import { inTransaction, migrate, openDatabase } from '../src/gateway/index.js';
import { MIGRATIONS } from '../src/gateway/store/migrations.js';
import { insertBalanceTransaction } from '../src/gateway/store/balance_transactions.js';
import type { Database } from '../src/gateway/index.js';
import { retrievePaymentIntent, listPaymentIntents, searchPaymentIntents } from '../src/gateway/core/payment_intents.js';
import { retrieveCharge, listCharges } from '../src/gateway/core/charges.js';
import { retrieveRefund, listRefunds } from '../src/gateway/core/refunds.js';
import { retrieveCheckoutSession, listCheckoutSessions } from '../src/gateway/core/checkout_sessions.js';
import { retrieveEvent, listEvents } from '../src/gateway/core/events.js';
import { listEndpointDeliveries } from '../src/gateway/core/webhook_deliveries.js';
import { retrieveBalance, retrieveBalanceTransaction, listBalanceTransactions } from '../src/gateway/core/balance.js';
import { availableOnMs } from '../src/gateway/domain/balance.js';
import { listDashboardPayments } from '../src/gateway/store/dashboard_payments.js';
import type {
  BalanceTransactionsTable, ChargesTable, CheckoutSessionsTable, EventsTable, PaymentAttemptsTable, PaymentIntentsTable,
  PaymentMethodsTable, RefundsTable, WebhookDeliveriesTable,
} from '../src/gateway/store/schema.js';
import type { Scope } from '../src/gateway/store/scope.js';
import type { Executor } from '../src/gateway/store/schema.js';

export interface LookupsOptions {
  /** Stored payment counts to compare, smallest first. */
  payments: number[];
  /** PostgreSQL URL, or null for SQLite. */
  database: string | null;
  samples: number;
  warmup: number;
  batch: number;
  /** Keep the seeded databases here (SQLite file / PostgreSQL schema name prefix) and reuse them when present. */
  keep: string | null;
  /** Measure the write cost of the lookups' indexes instead of timing lookups. */
  writeCost: boolean;
  log: (line: string) => void;
}

export interface LookupRow {
  name: string;
  /** Median ms at each payment count, in `payments` order. */
  ms: number[];
  /** Largest over smallest. */
  ratio: number;
}

export interface LookupsResult {
  database: 'sqlite' | 'postgres';
  payments: number[];
  rows: LookupRow[];
  seedSeconds: number[];
}

const ACCOUNT = 'acct_lookups';
const SCOPE: Scope = { accountId: ACCOUNT, livemode: false };
const ENDPOINT = 'we_lookups';
/** One payment every 30 s up to now: the same recent traffic behind 10k as behind 1M. */
const STEP_MS = 30_000;
const STATUSES = ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'requires_payment_method', 'requires_payment_method', 'canceled', 'processing'] as const;
const CURRENCIES = ['CNY', 'CNY', 'CNY', 'CNY', 'CNY', 'CNY', 'USD', 'EUR', 'GBP', 'HKD'];

const pad = (i: number) => String(i).padStart(8, '0');
const piId = (i: number) => `pi_lk${pad(i)}`;
const statusOf = (i: number) => STATUSES[i % STATUSES.length]!;
const confirmed = (i: number) => statusOf(i) !== 'requires_payment_method';
const succeeded = (i: number) => statusOf(i) === 'succeeded';
/** One success in 20 is refunded (i % 20 === 0 is always a success: 0 mod 10). */
const refunded = (i: number) => i % 20 === 0;
const hasSession = (i: number) => i % 10 === 3;
const customerOf = (i: number, n: number) => (i % 3 === 1 ? `cus_lk${(i * 7) % Math.max(1, Math.floor(n / 20))}` : null);

interface Seeded {
  database: Database;
  start: number;
  cleanup: () => Promise<void>;
  seedSeconds: number;
}

async function openSeeded(options: LookupsOptions, n: number, now: number): Promise<Seeded> {
  let database: Database;
  let fresh = true;
  let cleanup: () => Promise<void>;
  if (options.database !== null) {
    const schema = options.keep !== null ? `${options.keep}_${n}` : `bench_lookups_${process.pid}_${n}`;
    ({ database, fresh, cleanup } = await openPostgresSchema(options.database, schema, { poolMax: 4, keep: options.keep !== null }));
  } else {
    const dir = options.keep ?? mkdtempSync(path.join(tmpdir(), 'zhifu-bench-lookups-'));
    mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `lookups-${n}.db`);
    fresh = !existsSync(file);
    database = openDatabase(`sqlite:${file}`);
    cleanup = async () => {
      await database.close();
      if (options.keep === null) rmSync(dir, { recursive: true, force: true });
    };
  }
  const t0 = performance.now();
  await migrate(database);
  if (!fresh) {
    const first = await database.db.selectFrom('payment_intents').select('created').where('id', '=', piId(0)).executeTakeFirst();
    if (first === undefined) throw new Error(`the kept database for ${n} payments holds no seed: remove it`);
    options.log(`  reusing the seeded database of ${n} payments (migrations: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    return { database, start: Number(first.created), cleanup, seedSeconds: 0 };
  }
  const start = now - n * STEP_MS;
  await seed(database, n, start, options);
  // PostgreSQL: the statistics and visibility map autovacuum would have left on tables this large.
  // SQLite: none unless the gateway gathers them itself, so the plans timed are the plans users get.
  // Table by table: a bare VACUUM would process every schema of the database.
  if (database.kind === 'postgres') {
    const tables = await sql<{ name: string }>`select tablename as name from pg_tables where schemaname = current_schema()`.execute(database.db);
    for (const table of tables.rows) await sql`vacuum analyze ${sql.id(table.name)}`.execute(database.db);
  }
  const seedSeconds = (performance.now() - t0) / 1000;
  options.log(`  seeded ${n} payments in ${seedSeconds.toFixed(1)} s`);
  return { database, start, cleanup, seedSeconds };
}

interface Batch {
  payment_methods: Insertable<PaymentMethodsTable>[];
  payment_intents: Insertable<PaymentIntentsTable>[];
  payment_attempts: Insertable<PaymentAttemptsTable>[];
  charges: Insertable<ChargesTable>[];
  refunds: Insertable<RefundsTable>[];
  balance_transactions: Insertable<BalanceTransactionsTable>[];
  checkout_sessions: Insertable<CheckoutSessionsTable>[];
  events: Insertable<EventsTable>[];
  webhook_deliveries: Insertable<WebhookDeliveriesTable>[];
}

function emptyBatch(): Batch {
  return {
    payment_methods: [], payment_intents: [], payment_attempts: [], charges: [], refunds: [], balance_transactions: [],
    checkout_sessions: [], events: [], webhook_deliveries: [],
  };
}

/** The rows of payment `i` (created at `created`) of an account of `n` payments, appended to `batch`. */
function addPayment(batch: Batch, i: number, n: number, created: number): void {
  const id = piId(i);
  const status = statusOf(i);
  const currency = CURRENCIES[(i * 7) % CURRENCIES.length]!;
  const amount = 100 + ((i * 7919) % 99_900);
  const customer = customerOf(i, n);
  const pm = `pm_lk${pad(i)}`;
  const attempt = `pa_lk${pad(i)}`;
  const charge = `ch_lk${pad(i)}`;
  const session = hasSession(i) ? `cs_lk${pad(i)}` : null;
  const paid = created + 20_000;
  batch.payment_intents.push({
    id, account_id: ACCOUNT, livemode: 0, created, updated: succeeded(i) ? paid : created, version: succeeded(i) ? 3 : 1, status, amount,
    amount_received: succeeded(i) ? amount : 0, currency, client_secret: `${id}_secret_lookups`, capture_method: 'automatic',
    confirmation_method: 'automatic', payment_method_types: '["alipay"]', payment_method_options: '{}', payment_method: confirmed(i) ? pm : null,
    return_url: confirmed(i) ? 'https://shop.example/return' : null, description: `Order ${i}`,
    metadata: JSON.stringify({ cart: `c-${i}`, channel: i % 2 === 0 ? 'web' : 'app' }), merchant_order_id: `ORD-${i}`,
    merchant_user_id: customer === null ? null : `u-${customer}`, shipping: null, receipt_email: null, statement_descriptor: null, customer,
    next_action: null, last_payment_error: null, latest_charge: succeeded(i) ? charge : null,
    canceled_at: status === 'canceled' ? created + 60_000 : null, cancellation_reason: status === 'canceled' ? 'abandoned' : null, checkout_session: session,
  });
  const event = (suffix: string, type: string, at: number, object: Record<string, unknown>) => {
    const eventId = `evt_lk${pad(i)}${suffix}`;
    batch.events.push({
      id: eventId, account_id: ACCOUNT, livemode: 0, created: at, type, data: JSON.stringify({ object, previous_attributes: null }),
      request_id: null, idempotency_key: null, pending_webhooks: 0, body: null,
    });
    batch.webhook_deliveries.push({
      id: `wd_lk${pad(i)}${suffix}`, account_id: ACCOUNT, livemode: 0, created: at, event_id: eventId, event_type: type, endpoint_id: ENDPOINT,
      status: 'delivered', attempt_count: 1, next_attempt_at: null, lease_until: null, lease_token: null, last_attempt_at: at + 50,
      last_status_code: 200, last_latency_ms: 12, last_error: null, delivered_at: at + 50,
    });
  };
  event('a', 'payment_intent.created', created, { id, object: 'payment_intent', amount, currency, status: 'requires_payment_method' });
  if (session !== null) {
    batch.checkout_sessions.push({
      id: session, account_id: ACCOUNT, livemode: 0, created, updated: succeeded(i) ? paid : created, status: succeeded(i) ? 'complete' : status === 'canceled' ? 'expired' : 'open',
      payment_status: succeeded(i) ? 'paid' : 'unpaid', mode: 'payment', currency, amount_subtotal: amount, amount_total: amount, payment_intent_id: id,
      expires_at: created + 24 * 3600_000, success_url: 'https://shop.example/done', cancel_url: null, url: `https://pay.example/c/${session}`,
      payment_method_types: '["alipay"]', client_reference_id: `ref-${i}`, customer_email: null, locale: null, metadata: '{}',
    });
  }
  if (!confirmed(i)) return;
  batch.payment_methods.push({ id: pm, account_id: ACCOUNT, livemode: 0, created, type: 'alipay', billing_details: '{}', customer: null, metadata: '{}' });
  batch.payment_attempts.push({
    id: attempt, account_id: ACCOUNT, livemode: 0, payment_intent_id: id, payment_method_id: pm, payment_request_id: `${id}_1`,
    status: succeeded(i) ? 'succeeded' : status === 'canceled' ? 'canceled' : 'pending', amount, currency, terminal_type: 'WEB', os_type: null,
    client_ip: '203.0.113.7', return_url: 'https://shop.example/return', created: created + 5_000, updated: succeeded(i) ? paid : created + 5_000,
    external_payment_id: succeeded(i) ? `2026${pad(i)}` : null, failure_code: null, failure_message: null, expires_at: created + 15 * 60_000,
    next_check_at: null, checks: 0, lease_owner: null, lease_until: null, reversal: null, reversal_refund_request_id: null, reversal_refund_id: null,
  });
  if (!succeeded(i)) return;
  const settled = currency === 'CNY' ? amount : amount * 7;
  const fee = Math.round(settled * 0.03);
  const chargeTxn = `txn_lk${pad(i)}c`;
  const refundAmount = refunded(i) ? Math.min(amount, 500) : 0;
  batch.charges.push({
    id: charge, account_id: ACCOUNT, livemode: 0, created: paid, payment_intent_id: id, payment_attempt_id: attempt, payment_method_id: pm, amount,
    amount_captured: amount, amount_refunded: refundAmount, amount_refund_reserved: 0, amount_dispute_reserved: 0, open_escalations: 0, currency,
    status: 'succeeded', buyer_id: `buyer-${i % 997}`, transaction_id: `2026${pad(i)}`, wallet: 'ALIPAY_CN', balance_transaction: chargeTxn, disputed: 0,
    description: null, metadata: '{}', customer, billing_details: null,
  });
  batch.balance_transactions.push({
    id: chargeTxn, account_id: ACCOUNT, livemode: 0, created: paid, type: 'charge', reporting_category: null, source: charge, payment_intent_id: id,
    amount: settled, currency: 'CNY', fee, net: settled - fee, exchange_rate: currency === 'CNY' ? null : '7.0', source_amount: amount, source_currency: currency,
    available_on: availableOnMs(paid), quote_id: null, alipay_request_id: `${id}_1`, alipay_id: `2026${pad(i)}`,
  });
  event('b', 'payment_intent.succeeded', paid, { id, object: 'payment_intent', amount, currency, status: 'succeeded' });
  if (!refunded(i)) return;
  const refund = `re_lk${pad(i)}`;
  const refundedAt = paid + 3600_000;
  const refundSettled = currency === 'CNY' ? refundAmount : refundAmount * 7;
  batch.refunds.push({
    id: refund, account_id: ACCOUNT, livemode: 0, created: refundedAt, updated: refundedAt + 2_000, charge_id: charge, payment_intent_id: id,
    payment_request_id: `${id}_1`, refund_request_id: `${refund}_r`, amount: refundAmount, currency, status: 'succeeded', reason: 'requested_by_customer',
    failure_reason: null, failure_code: null, metadata: '{}', external_refund_id: `r2026${pad(i)}`, sent_at: refundedAt, next_check_at: null, checks: 0,
    lease_owner: null, lease_until: null, settlement_currency: 'CNY', settlement_amount: refundSettled, settlement_quote: null, balance_transaction: `txn_lk${pad(i)}r`,
  });
  batch.balance_transactions.push({
    id: `txn_lk${pad(i)}r`, account_id: ACCOUNT, livemode: 0, created: refundedAt, type: 'refund', reporting_category: null, source: refund,
    payment_intent_id: id, amount: -refundSettled, currency: 'CNY', fee: 0, net: -refundSettled, exchange_rate: null, source_amount: -refundAmount,
    source_currency: currency, available_on: availableOnMs(refundedAt), quote_id: null, alipay_request_id: `${refund}_r`, alipay_id: `r2026${pad(i)}`,
  });
  event('c', 'charge.refunded', refundedAt, { id: charge, object: 'charge', amount_refunded: refundAmount });
}

/** Rows per INSERT, under PostgreSQL's 65 535 bound parameters for the widest table. */
const ROWS_PER_STATEMENT = 1000;

async function insertRows(database: Database, batch: Batch): Promise<void> {
  await database.db.transaction().execute(async (tx) => {
    // Parents before children (foreign keys).
    for (const table of ['payment_methods', 'payment_intents', 'payment_attempts', 'charges', 'refunds', 'balance_transactions', 'checkout_sessions', 'events', 'webhook_deliveries'] as const) {
      const rows = batch[table] as Insertable<PaymentIntentsTable>[];
      for (let k = 0; k < rows.length; k += ROWS_PER_STATEMENT) {
        await tx.insertInto(table as 'payment_intents').values(rows.slice(k, k + ROWS_PER_STATEMENT)).execute();
      }
    }
  });
}

async function seed(database: Database, n: number, start: number, options: LookupsOptions): Promise<void> {
  await database.db.insertInto('accounts').values({ id: ACCOUNT, created: start - 1000, name: 'Lookups bench', business_category: null, settlement_currency: 'CNY', is_default: null }).execute();
  await database.db.insertInto('webhook_endpoints').values({
    id: ENDPOINT, account_id: ACCOUNT, livemode: 0, created: start - 1000, url: 'https://shop.example/hooks', enabled_events: '["*"]', status: 'enabled',
    secret: 'whsec_lookups', description: null, api_version: null, metadata: '{}',
  }).execute();
  const t0 = performance.now();
  const perBatch = database.kind === 'postgres' ? options.batch * 4 : options.batch;
  let next = 0;
  while (next < n) {
    const batch = emptyBatch();
    const end = Math.min(n, next + perBatch);
    for (let i = next; i < end; i += 1) addPayment(batch, i, n, start + i * STEP_MS);
    await insertRows(database, batch);
    if (Math.floor(end / 100_000) !== Math.floor(next / 100_000)) options.log(`    ${end} payments (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    next = end;
  }
}

interface Lookup {
  name: string;
  /** One call; `k` rotates over sample positions. */
  run: (k: number) => Promise<unknown>;
}

/** Positions spread through the history (oldest to newest), the same fractions at every N. */
function samplePositions(n: number, pick: (i: number) => boolean): number[] {
  const out: number[] = [];
  for (let f = 1; f <= 19; f += 1) {
    let i = Math.floor((n * f) / 20);
    while (i < n && !pick(i)) i += 1;
    if (i < n) out.push(i);
  }
  return out;
}

function lookupsFor(database: Database, n: number, start: number, now: number): Lookup[] {
  const deps = { database, clock: { now: () => now } };
  const any = samplePositions(n, () => true);
  const paid = samplePositions(n, succeeded);
  const refundedAt = samplePositions(n, refunded);
  const sessions = samplePositions(n, hasSession);
  const customers = samplePositions(n, (i) => customerOf(i, n) !== null).map((i) => customerOf(i, n)!);
  const at = <T>(list: T[], k: number) => list[k % list.length]!;
  const hour = 3600_000;
  const middle = start + Math.floor(n / 2) * STEP_MS;
  const expect = (ok: boolean, name: string) => {
    if (!ok) throw new Error(`lookup ${name} found nothing: the seed and the query disagree`);
  };
  const found = (name: string) => async (page: Promise<{ data: unknown[] }>) => expect((await page).data.length > 0, name);
  return [
    { name: 'retrieve payment_intent', run: (k) => retrievePaymentIntent(deps, SCOPE, piId(at(any, k))) },
    { name: 'retrieve charge', run: (k) => retrieveCharge(deps, SCOPE, `ch_lk${pad(at(paid, k))}`) },
    { name: 'retrieve refund', run: (k) => retrieveRefund(deps, SCOPE, `re_lk${pad(at(refundedAt, k))}`) },
    { name: 'retrieve checkout session', run: (k) => retrieveCheckoutSession(deps, SCOPE, `cs_lk${pad(at(sessions, k))}`) },
    { name: 'retrieve event', run: (k) => retrieveEvent(deps, SCOPE, `evt_lk${pad(at(any, k))}a`) },
    { name: 'retrieve balance_transaction', run: (k) => retrieveBalanceTransaction(deps, SCOPE, `txn_lk${pad(at(paid, k))}c`) },
    { name: 'list payment_intents (newest 10)', run: () => found('list')(listPaymentIntents(deps, SCOPE, {})) },
    { name: 'list payment_intents, starting_after', run: (k) => found('page')(listPaymentIntents(deps, SCOPE, { starting_after: piId(at(any, k)) })) },
    { name: 'list payment_intents by customer', run: (k) => found('customer')(listPaymentIntents(deps, SCOPE, { customer: at(customers, k) })) },
    { name: 'list payment_intents, created one hour', run: (k) => found('created')(listPaymentIntents(deps, SCOPE, { created: { gte: middle - (k % 5) * hour, lt: middle - (k % 5) * hour + hour } })) },
    { name: 'search merchant_order_id', run: (k) => found('order')(searchPaymentIntents(deps, SCOPE, { query: `merchant_order_id:'ORD-${at(any, k)}'` })) },
    { name: 'search metadata', run: (k) => found('metadata')(searchPaymentIntents(deps, SCOPE, { query: `metadata['cart']:'c-${at(any, k)}'` })) },
    { name: 'search metadata AND status', run: (k) => searchPaymentIntents(deps, SCOPE, { query: `metadata['cart']:'c-${at(paid, k)}' AND status:'succeeded'` }).then((p) => expect(p.data.length === 1, 'metadata+status')) },
    { name: 'search metadata, value shared by half', run: () => found('metadata common')(searchPaymentIntents(deps, SCOPE, { query: `metadata['channel']:'web'` })) },
    { name: 'search status:canceled', run: () => found('status')(searchPaymentIntents(deps, SCOPE, { query: `status:'canceled'` })) },
    { name: 'list charges by payment_intent', run: (k) => found('charges')(listCharges(deps, SCOPE, { payment_intent: piId(at(paid, k)) })) },
    { name: 'list refunds by payment_intent', run: (k) => found('refunds')(listRefunds(deps, SCOPE, { payment_intent: piId(at(refundedAt, k)) })) },
    { name: 'list refunds (newest 10)', run: () => found('refunds')(listRefunds(deps, SCOPE, {})) },
    { name: 'list checkout sessions by payment_intent', run: (k) => found('sessions')(listCheckoutSessions(deps, SCOPE, { payment_intent: piId(at(sessions, k)) })) },
    { name: 'list checkout sessions, status=complete', run: () => found('complete sessions')(listCheckoutSessions(deps, SCOPE, { status: 'complete' })) },
    { name: 'retrieve balance', run: () => retrieveBalance(deps, SCOPE) },
    { name: 'list balance_transactions (newest 10)', run: () => found('txns')(listBalanceTransactions(deps, SCOPE, {})) },
    { name: 'list balance_transactions, type=refund', run: () => found('refund txns')(listBalanceTransactions(deps, SCOPE, { type: 'refund' })) },
    { name: 'list events (newest 10)', run: () => found('events')(listEvents(deps, SCOPE, {})) },
    { name: 'list events, type=charge.refunded', run: () => found('events by type')(listEvents(deps, SCOPE, { type: 'charge.refunded' })) },
    { name: 'list webhook deliveries of an endpoint', run: () => found('deliveries')(listEndpointDeliveries(deps, SCOPE, ENDPOINT, {})) },
    {
      name: 'dashboard: search merchant_order_id',
      run: (k) => listDashboardPayments(database.db, database.kind, SCOPE, { limit: 25, created: {}, cursor: null }, { merchantOrderId: `ORD-${at(any, k)}` })
        .then((p) => expect(p.rows.length === 1, 'dashboard order')),
    },
    {
      name: 'dashboard: search metadata',
      run: (k) => listDashboardPayments(database.db, database.kind, SCOPE, { limit: 25, created: {}, cursor: null }, { metadata: { key: 'cart', value: `c-${at(any, k)}` } })
        .then((p) => expect(p.rows.length === 1, 'dashboard metadata')),
    },
    {
      name: 'dashboard: search metadata, value shared by half',
      run: () => listDashboardPayments(database.db, database.kind, SCOPE, { limit: 25, created: {}, cursor: null }, { metadata: { key: 'channel', value: 'web' } })
        .then((p) => expect(p.rows.length === 25, 'dashboard metadata common')),
    },
  ];
}

async function timeLookup(lookup: Lookup, options: LookupsOptions): Promise<number> {
  const times: number[] = [];
  for (let k = 0; k < options.warmup + options.samples; k += 1) {
    const t0 = performance.now();
    await lookup.run(k);
    const ms = performance.now() - t0;
    if (k >= options.warmup) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** Seeds each N in turn (or reuses a kept seed), times every lookup, and returns the table. */
export async function runLookups(options: LookupsOptions): Promise<LookupsResult> {
  const now = Date.now();
  const medians = new Map<string, number[]>();
  const seedSeconds: number[] = [];
  let kind: 'sqlite' | 'postgres' = 'sqlite';
  for (const n of options.payments) {
    options.log(`${n} payments:`);
    const seeded = await openSeeded(options, n, now);
    kind = seeded.database.kind;
    seedSeconds.push(seeded.seedSeconds);
    try {
      // The clock of the kept seed: the same distance past its newest payment as a fresh one.
      const clockNow = seeded.start + n * STEP_MS;
      for (const lookup of lookupsFor(seeded.database, n, seeded.start, clockNow)) {
        const ms = await timeLookup(lookup, options);
        medians.set(lookup.name, [...(medians.get(lookup.name) ?? []), ms]);
        options.log(`  ${lookup.name}: ${ms.toFixed(3)} ms`);
      }
    } finally {
      await seeded.cleanup();
    }
  }
  const rows = [...medians].map(([name, ms]) => ({ name, ms, ratio: ms[ms.length - 1]! / ms[0]! }));
  return { database: kind, payments: options.payments, rows, seedSeconds };
}

/**
 * What the lookups' indexes, metadata triggers and balance totals cost each write: the same
 * PaymentIntent (metadata, merchant order id, customer) and balance transaction writes into a store migrated up to 0090 (before this
 * work) and into one migrated to the latest, alternating rounds. CPU µs per write (process CPU:
 * on SQLite the whole write, on PostgreSQL the client's share only — see the wall-clock column).
 */
const WRITES_PER_COMMIT = 100;

export async function runWriteCost(options: LookupsOptions, writes = 5000, rounds = 5): Promise<string> {
  const lines = ['| write | schema | CPU µs/write | wall µs/write |', '| --- | --- | ---: | ---: |'];
  const results = new Map<string, { cpu: number[]; wall: number[] }>();
  for (let round = 0; round < rounds; round += 1) {
    for (const schemaName of ['0090', 'latest'] as const) {
      const { database, cleanup } = await openScratch(options, `${schemaName}_${round}`);
      try {
        if (schemaName === 'latest') await migrate(database);
        else await migrateUpTo(database, '0091');
        await database.db.insertInto('accounts').values({ id: ACCOUNT, created: 1, name: 'Write cost', business_category: null, settlement_currency: 'CNY', is_default: null }).execute();
        const base = 1_800_000_000_000;
        // Statements in transactions of WRITES_PER_COMMIT: the commit (and fsync) is the same
        // before and after, and its noise on a shared machine would drown what the indexes add.
        const measure = async (name: string, write: (tx: Executor, i: number) => Promise<unknown>) => {
          const cpu0 = process.cpuUsage();
          const t0 = performance.now();
          for (let i = 0; i < writes; i += WRITES_PER_COMMIT) {
            await inTransaction(database, async (tx) => {
              for (let k = i; k < Math.min(writes, i + WRITES_PER_COMMIT); k += 1) await write(tx, k);
            });
          }
          const wall = ((performance.now() - t0) * 1000) / writes;
          const used = process.cpuUsage(cpu0);
          const key = `${name}|${schemaName}`;
          const entry = results.get(key) ?? { cpu: [], wall: [] };
          entry.cpu.push((used.user + used.system) / writes);
          entry.wall.push(wall);
          results.set(key, entry);
        };
        await measure('insert payment_intent', async (tx, i) => {
          const batch = emptyBatch();
          addPayment(batch, i, 1_000_000, base + i * 1000);
          const row = batch.payment_intents[0]!;
          await tx.insertInto('payment_intents').values({ ...row, customer: `cus_w${i % 500}` }).execute();
        });
        await measure('update payment_intent metadata', (tx, i) =>
          tx.updateTable('payment_intents').set({ metadata: JSON.stringify({ cart: `c-${i}`, channel: 'pos' }), version: 2 }).where('id', '=', piId(i)).execute());
        await measure('record balance_transaction', async (tx, i) => {
          const row = {
            id: `txn_w${pad(i)}`, account_id: ACCOUNT, livemode: 0 as const, created: base + i, type: 'charge' as const, reporting_category: null, source: `ch_w${pad(i)}`,
            payment_intent_id: piId(i), amount: 1000, currency: 'CNY', fee: 30, net: 970, exchange_rate: null, source_amount: 1000, source_currency: 'CNY',
            available_on: availableOnMs(base + i), quote_id: null, alipay_request_id: null, alipay_id: null,
          };
          if (schemaName === 'latest') await insertBalanceTransaction(tx, row);
          else await tx.insertInto('balance_transactions').values(row).execute();
        });
      } finally {
        await cleanup();
      }
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  for (const [key, entry] of results) {
    const [name, schemaName] = key.split('|');
    lines.push(`| ${name} | ${schemaName === '0090' ? 'before (0090)' : 'after (0094)'} | ${median(entry.cpu).toFixed(1)} | ${median(entry.wall).toFixed(1)} |`);
  }
  return `write cost: database=${options.database === null ? 'sqlite' : 'postgres'} writes=${writes} rounds=${rounds}\n${lines.join('\n')}\n`;
}

async function migrateUpTo(database: Database, below: string): Promise<void> {
  const schema = database.kind === 'postgres' ? { migrationTableSchema: (await sql<{ s: string }>`select current_schema() as s`.execute(database.db)).rows[0]!.s } : {};
  const migrations = Object.fromEntries(Object.entries(MIGRATIONS).filter(([name]) => name < below));
  const result = await new Migrator({ db: database.db, provider: { getMigrations: async () => migrations }, ...schema }).migrateToLatest();
  if (result.error !== undefined) throw result.error;
}

async function openScratch(options: LookupsOptions, name: string): Promise<{ database: Database; cleanup: () => Promise<void> }> {
  if (options.database !== null) {
    const { database, cleanup } = await openPostgresSchema(options.database, `bench_lookups_w_${process.pid}_${name}`, { poolMax: 4 });
    return { database, cleanup };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-bench-lookups-w-'));
  const database = openDatabase(`sqlite:${path.join(dir, 'zhifu.db')}`);
  return { database, cleanup: async () => { await database.close(); rmSync(dir, { recursive: true, force: true }); } };
}

export function formatLookups(result: LookupsResult): string {
  const counts = result.payments.map((n) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n)));
  const lines = [
    `lookups: database=${result.database} node=${process.version} cpus=${cpus().length}`,
    `| lookup | ${counts.map((c) => `${c} ms`).join(' | ')} | ratio |`,
    `| --- | ${counts.map(() => '---:').join(' | ')} | ---: |`,
    ...result.rows.map((row) => `| ${row.name} | ${row.ms.map((ms) => ms.toFixed(3)).join(' | ')} | ${row.ratio.toFixed(2)}×${row.ratio > 1.2 ? ' ⚠' : ''} |`),
  ];
  return `${lines.join('\n')}\n`;
}

function parseArgs(argv: string[]): LookupsOptions {
  const options: LookupsOptions = {
    payments: [10_000, 1_000_000], database: null, samples: 41, warmup: 15, batch: 2000, keep: null, writeCost: false,
    log: (line) => process.stderr.write(`${line}\n`),
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--help') {
      process.stdout.write('node dist/bench/lookups.js [--payments 10000,1000000] [--database postgres://…] [--samples 41] [--warmup 15] [--batch 2000] [--keep DIR|SCHEMA_PREFIX] [--write-cost]\n');
      process.exit(0);
    }
    if (arg === '--write-cost') {
      options.writeCost = true;
      continue;
    }
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (arg === '--payments') options.payments = value.split(',').map(Number).sort((a, b) => a - b);
    else if (arg === '--database') options.database = value;
    else if (arg === '--samples') options.samples = Number(value);
    else if (arg === '--warmup') options.warmup = Number(value);
    else if (arg === '--batch') options.batch = Number(value);
    else if (arg === '--keep') options.keep = value;
    else throw new Error(`unknown option ${arg}`);
    i += 1;
  }
  return options;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  const run = options.writeCost
    ? runWriteCost(options).then((table) => { process.stdout.write(table); })
    : runLookups(options).then((result) => {
      process.stdout.write(formatLookups(result));
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });
  run.catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
