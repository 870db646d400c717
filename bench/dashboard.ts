/**
 * How fast the dashboard's Payments pages answer with many payments stored (issue 11: "pages
 * answer fast with a million payments stored").
 *
 *   npm run build && node dist/bench/dashboard.js --payments 1000000
 *   node dist/bench/dashboard.js --payments 10000 --database postgres://zhifu:zhifu@127.0.0.1:5432/zhifu_test
 *
 * Bulk-inserts N PaymentIntents (with one `payment_intent.created` event each, and an attention
 * item on one in 10 000) straight into the store of one account, in batches, spread over the last
 * year with a mix of statuses, currencies and amounts; then starts the real gateway over that
 * database, signs an operator in, and times each page over HTTP on 127.0.0.1: the list, each
 * filter, paging deep into the list, each search, and the detail page. Reported per page: the
 * median and p90 of `--samples` requests after `--warmup` (client-measured round trip: routing,
 * session check, queries, rendering). Not part of CI.
 */
import { openPostgresSchema } from './postgres.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import type { Insertable } from 'kysely';
import { createIdGenerator, migrate, openDatabase, startGateway } from '../src/gateway/index.js';
import type { Database, PaymentConnector } from '../src/gateway/index.js';
import { createGatewayLogger } from '../src/gateway/http/logging.js';
import { createOperator } from '../src/gateway/core/operators.js';
import type { AttentionItemsTable, EventsTable, PaymentIntentsTable } from '../src/gateway/store/schema.js';

interface Options {
  payments: number;
  database: string | null;
  samples: number;
  warmup: number;
  batch: number;
}

function parseArgs(argv: string[]): Options {
  const options: Options = { payments: 10_000, database: null, samples: 15, warmup: 3, batch: 500 };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--help') {
      process.stdout.write('node dist/bench/dashboard.js [--payments N] [--database postgres://…] [--samples 15] [--warmup 3] [--batch 500]\n');
      process.exit(0);
    }
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (arg === '--payments') options.payments = Number(value);
    else if (arg === '--database') options.database = value;
    else if (arg === '--samples') options.samples = Number(value);
    else if (arg === '--warmup') options.warmup = Number(value);
    else if (arg === '--batch') options.batch = Number(value);
    else throw new Error(`unknown option ${arg}`);
    i += 1;
  }
  return options;
}

/** Pages need no Alipay+: a connector that refuses every call keeps the bench honest about that. */
const NO_NETWORK: PaymentConnector = {
  confirm: () => Promise.reject(new Error('the dashboard bench makes no payments')),
  cancel: () => Promise.reject(new Error('the dashboard bench makes no payments')),
};

const STATUSES = ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'requires_payment_method', 'requires_payment_method', 'canceled', 'requires_action'];
const CURRENCIES = ['CNY', 'CNY', 'CNY', 'CNY', 'CNY', 'CNY', 'USD', 'EUR', 'GBP', 'HKD'];
const YEAR_MS = 365 * 24 * 3600 * 1000;

async function openBenchDatabase(options: Options): Promise<{ database: Database; url: string; cleanup: () => Promise<void> }> {
  if (options.database !== null) {
    const { database, cleanup } = await openPostgresSchema(options.database, `bench_dash_${process.pid}_${randomBytes(4).toString('hex')}`, { poolMax: 10 });
    return { database, url: options.database, cleanup };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-bench-dash-'));
  const url = `sqlite:${path.join(dir, 'zhifu.db')}`;
  const database = openDatabase(url);
  return { database, url, cleanup: async () => { await database.close(); rmSync(dir, { recursive: true, force: true }); } };
}

/** Inserts N PaymentIntents of one account (test mode), oldest first, in batches of one transaction each. */
async function seed(database: Database, accountId: string, options: Options, now: number): Promise<{ ids: string[] }> {
  const step = Math.max(1, Math.floor(YEAR_MS / options.payments));
  const start = now - options.payments * step;
  const sampleIds: string[] = [];
  let inserted = 0;
  const t0 = performance.now();
  while (inserted < options.payments) {
    const count = Math.min(options.batch, options.payments - inserted);
    const intents: Insertable<PaymentIntentsTable>[] = [];
    const events: Insertable<EventsTable>[] = [];
    const attention: Insertable<AttentionItemsTable>[] = [];
    for (let k = 0; k < count; k += 1) {
      const i = inserted + k;
      const created = start + i * step;
      const id = `pi_${created}${String(i % 1_000_000).padStart(6, '0')}`;
      const status = STATUSES[i % STATUSES.length]!;
      const currency = CURRENCIES[(i * 7) % CURRENCIES.length]!;
      const amount = 100 + ((i * 7919) % 99_900);
      intents.push({
        id, account_id: accountId, livemode: 0, created, updated: created, version: 1, status, amount,
        amount_received: status === 'succeeded' ? amount : 0, currency, client_secret: `${id}_secret_x`, capture_method: 'automatic',
        confirmation_method: 'automatic', payment_method_types: '["alipay"]', payment_method_options: '{}', payment_method: null, return_url: null,
        description: null, metadata: JSON.stringify({ cart: `c-${i}` }), merchant_order_id: `ORD-${i}`, merchant_user_id: null, shipping: null,
        receipt_email: null, statement_descriptor: null, customer: null, next_action: null, last_payment_error: null, latest_charge: null,
        canceled_at: status === 'canceled' ? created : null, cancellation_reason: null, checkout_session: null,
      });
      events.push({
        id: `evt_${created}${String(i % 1_000_000).padStart(6, '0')}`, account_id: accountId, livemode: 0, created, type: 'payment_intent.created',
        data: JSON.stringify({ object: { id, object: 'payment_intent', amount, currency, status }, previous_attributes: null }), request_id: null, idempotency_key: null,
      });
      if (i % 10_000 === 5_000) {
        attention.push({
          id: `pa_${created}${String(i % 1_000_000).padStart(6, '0')}`, object: 'payment_attempt' as const, account_id: accountId, livemode: 0, created,
          payment_intent_id: id, request_id: `${id}_1`, amount, currency, reason: 'bench: no final answer',
        });
      }
      if (i % Math.max(1, Math.floor(options.payments / 20)) === 0) sampleIds.push(id);
    }
    await database.db.transaction().execute(async (tx) => {
      await tx.insertInto('payment_intents').values(intents).execute();
      await tx.insertInto('events').values(events).execute();
      if (attention.length > 0) await tx.insertInto('attention_items').values(attention).execute();
    });
    inserted += count;
    if (inserted % 100_000 < options.batch) process.stderr.write(`  inserted ${inserted} (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
  }
  process.stderr.write(`seeded ${options.payments} payments in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return { ids: sampleIds };
}

class Browser {
  cookie = '';
  constructor(private readonly base: string) {}
  async request(method: string, pathAndQuery: string, form?: Record<string, string>): Promise<{ status: number; text: string }> {
    const response = await fetch(this.base + pathAndQuery, {
      method, redirect: 'manual',
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    });
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0]!;
      if (pair.startsWith('zhifu_session=') || pair.startsWith('zhifu_login_csrf=')) this.cookie = [this.cookie, pair].filter(Boolean).join('; ');
    }
    return { status: response.status, text: await response.text() };
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const { database, url, cleanup } = await openBenchDatabase(options);
  try {
    await migrate(database);
    const now = Date.now();
    const logger = createGatewayLogger({ level: 'silent' });
    const config = {
      port: 0, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:0', dataDir: tmpdir(), databaseUrl: url, testSecretKey: null, testPublishableKey: null,
    };
    // First start: creates the default account (its payments are seeded next); stopped before seeding.
    let running = await startGateway({ config, connector: NO_NETWORK, logger, database, worker: false, webhooks: { autostart: false } });
    const accountId = running.defaultAccount.id;
    await running.stop();
    const { ids } = await seed(database, accountId, options, now);
    // PostgreSQL: the statistics autovacuum would have gathered on a table that grew to this size.
    // SQLite: none, as shipped (nothing runs ANALYZE), so the plans timed are the plans users get.
    if (database.kind === 'postgres') await sql`analyze`.execute(database.db);
    running = await startGateway({ config, connector: NO_NETWORK, logger, database, worker: false, webhooks: { autostart: false } });
    const deps = { database, clock: { now: () => Date.now() }, ids: createIdGenerator({ now: () => Date.now() }) };
    const password = 'bench password 123';
    await createOperator(deps, { accountId, email: 'bench@zhifu.test', password, role: 'admin', liveAccess: false });
    const browser = new Browser(running.url);
    const login = await browser.request('GET', '/dashboard/login');
    const csrf = /name="csrf_token" value="([^"]+)"/.exec(login.text)?.[1] ?? '';
    const signedIn = await browser.request('POST', '/dashboard/login', { csrf_token: csrf, email: 'bench@zhifu.test', password });
    if (signedIn.status !== 303) throw new Error(`sign-in failed: ${signedIn.status}`);

    const middle = ids[Math.floor(ids.length / 2)]!;
    const middleIndex = Math.floor(options.payments / 2);
    const month = new Date(now - YEAR_MS / 2).toISOString().slice(0, 10);
    const monthEnd = new Date(now - YEAR_MS / 2 + 30 * 24 * 3600 * 1000).toISOString().slice(0, 10);
    const pages: [string, string, number][] = [
      ['list (newest 25)', '/dashboard/payments', 200],
      ['list, deep page (starting_after the middle)', `/dashboard/payments?starting_after=${middle}`, 200],
      ['filter status=succeeded', '/dashboard/payments?status=succeeded', 200],
      ['filter status=canceled', '/dashboard/payments?status=canceled', 200],
      ['filter needs attention', '/dashboard/payments?status=requires_attention', 200],
      ['filter currency=EUR', '/dashboard/payments?currency=EUR', 200],
      ['filter amount 500.00–600.00', '/dashboard/payments?amount_min=500&amount_max=600', 200],
      ['filter one month (from/to)', `/dashboard/payments?from=${month}&to=${monthEnd}`, 200],
      ['filter all combined', `/dashboard/payments?status=succeeded&currency=CNY&amount_min=10&amount_max=900&from=${month}&to=${monthEnd}`, 200],
      ['search merchant_order_id', `/dashboard/payments?q=ORD-${middleIndex}`, 200],
      ['search metadata cart:c-<middle>', `/dashboard/payments?q=cart%3Ac-${middleIndex}`, 200],
      ['search metadata, newest match', `/dashboard/payments?q=cart%3Ac-${options.payments - 1}`, 200],
      ['search pi id (redirect)', `/dashboard/payments?q=${middle}`, 303],
      ['detail page', `/dashboard/payments/${middle}`, 200],
    ];
    const results: { page: string; median: number; p90: number }[] = [];
    for (const [name, target, status] of pages) {
      const times: number[] = [];
      for (let i = 0; i < options.warmup + options.samples; i += 1) {
        const t0 = performance.now();
        const answer = await browser.request('GET', target);
        const ms = performance.now() - t0;
        if (answer.status !== status) throw new Error(`${name}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`);
        if (i >= options.warmup) times.push(ms);
      }
      times.sort((a, b) => a - b);
      results.push({ page: name, median: percentile(times, 0.5), p90: percentile(times, 0.9) });
      process.stderr.write(`  ${name}: ${percentile(times, 0.5).toFixed(1)} ms\n`);
    }
    await running.stop();
    const header = `payments=${options.payments} database=${database.kind} node=${process.version} cpus=${(await import('node:os')).cpus().length}`;
    process.stdout.write(`\n${header}\n| page | median ms | p90 ms |\n| --- | ---: | ---: |\n`);
    for (const row of results) process.stdout.write(`| ${row.page} | ${row.median.toFixed(1)} | ${row.p90.toFixed(1)} |\n`);
    process.stdout.write(`${JSON.stringify({ payments: options.payments, database: database.kind, results })}\n`);
  } finally {
    await cleanup();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
