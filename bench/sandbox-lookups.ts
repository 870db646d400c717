/**
 * The sandbox's per-request lookups at 10k and 1M stored payments (issue 13: every lookup flat,
 * ≤ 1.2×, on the sandbox side too). For each size: a fresh sandbox store seeded straight into
 * SQLite (batched inserts, not over HTTP) with paid, declined, cancelled and a few open payments,
 * their notifications (acknowledged, one send each) and some refunds; then each query or operation
 * a request runs is timed on random existing keys, median of many.
 *
 *   node dist/bench/sandbox-lookups.js --payments 10000,1000000
 *
 * What the raw probes measure at 1M: random keys over the whole store, so each probe reads its
 * index leaf and its table leaf from the OS page cache (pread), where at 10k most of the store sits
 * in SQLite's own page cache — about +2–3 µs per probe, one page read per B-tree touched. The whole
 * requests (the last two rows) stay flat. Measured and rejected (issue 13): a WITHOUT ROWID
 * payments table keyed by paymentId (no better by paymentId, 1.22×; by paymentRequestId and
 * codeValue worse, 1.38–1.56×, and 50 % slower in absolute terms with rows of real size: about
 * five ~0.9 KB rows per leaf, inserted at random places since paymentIds are random within a day),
 * `mmap_size`, a covering index for a payment's notifications, and `cache_size`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateRsaKeyPair } from '../src/alipayplus/index.js';
import { CASHIER_STATUS_PATH } from '../src/sandbox/pages/cashier.js';
import { expireDuePayments } from '../src/sandbox/core/outcomes.js';
import { createSandbox } from '../src/sandbox/server.js';
import { openSandboxDatabase } from '../src/sandbox/store/database.js';

export interface SandboxLookupRow {
  name: string;
  /** Median ms at the first size (10k by default) and at the second (1M). */
  ms10k: number;
  ms1M: number;
  /** ms1M / ms10k: ≤ 1.2 is flat. */
  ratio: number;
}

const CLIENT_ID = '2026000000000077';
const OPEN_PAYMENTS = 500;
const BATCH = 10_000;

/**
 * Keys shaped and ordered as the sandbox makes them: a paymentId is the date then random digits and
 * a codeValue is random, so neither follows the insertion order (scrambled here by a bijection, so
 * every key stays unique). Sequential keys would keep each index's recent pages together and
 * flatter the probes.
 */
const scrambled = (i: number, salt: number) => String((i * 7_919 + salt) % 1e12).padStart(12, '0');
const paymentId = (i: number) => `20261130${scrambled(i, 12_345).padStart(20, '0')}`;
const requestId = (i: number) => `pi_req_${String(i).padStart(10, '0')}`;
const codeValue = (i: number) => `2816${scrambled(i, 777)}Tk3QvX8rL2mPz9HsWc4YbN6u`;
const refundRequestId = (i: number) => `re_req_${String(i).padStart(10, '0')}`;

/** Stored JSON of the sizes the sandbox writes (a payment's pay answer, its settlement quote, a notifyPayment body), not `{}`. */
function payAnswerJson(i: number, createdAt: number): string {
  const time = new Date(createdAt).toISOString().replace(/\.\d{3}Z$/, '+00:00');
  return JSON.stringify({
    result: { resultCode: 'PAYMENT_IN_PROCESS', resultStatus: 'U', resultMessage: 'payment in process' },
    paymentId: paymentId(i),
    paymentRequestId: requestId(i),
    paymentAmount: { currency: 'CNY', value: '2000' },
    paymentCreateTime: time,
    paymentExpiryTime: time,
    normalUrl: `http://127.0.0.1:4343/sandbox/cashier?codeValue=${codeValue(i)}`,
    orderCodeForm: { codeDetails: [{ codeValue: codeValue(i), displayType: 'TEXT' }], expireTime: time },
  });
}
const QUOTE_JSON = JSON.stringify({ quoteId: 'Q20261130123456789012', quoteCurrencyPair: 'CNY/CNY', quotePrice: '1', quoteStartTime: '2026-11-30T14:00:05+08:00', quoteExpiryTime: '2026-12-01T14:00:05+08:00' });
const refundAnswerJson = (i: number) =>
  JSON.stringify({
    result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
    refundId: `20261130${scrambled(i, 4_242).padStart(20, '0')}`,
    refundTime: '2026-11-30T14:01:00+08:00',
    refundAmount: { currency: 'CNY', value: '500' },
    settlementAmount: { currency: 'CNY', value: '500' },
    settlementQuote: JSON.parse(QUOTE_JSON),
  });
const notifyBodyJson = (i: number) =>
  JSON.stringify({
    paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
    paymentRequestId: requestId(i),
    paymentId: paymentId(i),
    paymentAmount: { currency: 'CNY', value: '2000' },
    acquirerId: 'ZHIFU_SANDBOX_ACQUIRER',
    pspId: 'ALIPAY_CN',
    walletBrandName: 'Alipay',
    customerId: '2088000000000001',
    paymentTime: '2026-11-30T14:00:05+08:00',
    settlementAmount: { currency: 'CNY', value: '2000' },
    settlementQuote: JSON.parse(QUOTE_JSON),
  });

/** Seeds `count` payments: the last OPEN_PAYMENTS still PROCESSING (expiring in an hour), the rest final. */
function seed(file: string, count: number): void {
  const db = openSandboxDatabase(file);
  // Seeding only: the measured store runs with synchronous = FULL as shipped.
  db.pragma('synchronous = OFF');
  const now = Date.now();
  const insertPayment = db.prepare(`INSERT INTO payments (payment_id, client_id, payment_request_id, request_fingerprint, code_value, currency,
      amount_minor, terminal_type, os_type, payment_method_type, reference_order_id, order_description, merchant_name, reference_merchant_id,
      settlement_currency, notify_url, redirect_url, status, result_code, created_at, expires_at, paid_at, closed_at, customer_id, wallet_brand,
      settlement_amount_minor, settlement_quote_json, refunded_minor, pay_response_json)
    VALUES (?, ?, ?, 'fp', ?, 'CNY', 2000, 'WEB', 'IOS', 'ALIPAY_CN', ?, 'Tea', 'Tea House', 'acct_1', 'CNY', 'http://127.0.0.1:4242/alipayplus/test/notify',
      'https://example.com/done', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertNotification = db.prepare(`INSERT INTO notifications (payment_id, client_id, api, url, body, status, sends, next_send_at, created_at, updated_at)
    VALUES (?, ?, 'notifyPayment', 'http://127.0.0.1:4242/alipayplus/test/notify', ?, 'acknowledged', 1, ?, ?, ?)`);
  const insertSend = db.prepare(`INSERT INTO notification_sends (notification_id, attempt, sent_at, outcome, http_status, ack_status) VALUES (?, 1, ?, 'acknowledged', 200, 'S')`);
  const insertRefund = db.prepare(`INSERT INTO refunds (refund_id, client_id, refund_request_id, payment_id, request_fingerprint, currency, amount_minor, created_at, response_json)
    VALUES (?, ?, ?, ?, 'fp', 'CNY', 500, ?, ?)`);
  const insertBatch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i += 1) {
      const created = now - (count - i) * 10;
      const open = i >= count - OPEN_PAYMENTS;
      const kind = open ? 'PROCESSING' : i % 10 === 9 ? 'FAIL' : i % 50 === 7 ? 'CANCELLED' : 'SUCCESS';
      const paid = kind === 'SUCCESS' || kind === 'CANCELLED';
      const refunded = kind === 'SUCCESS' && i % 20 === 0 ? 500 : 0;
      insertPayment.run(
        paymentId(i), CLIENT_ID, requestId(i), codeValue(i), `order_${i}`, kind,
        open ? null : kind === 'FAIL' ? 'USER_BALANCE_NOT_ENOUGH' : kind === 'CANCELLED' ? 'ORDER_IS_CLOSED' : 'SUCCESS',
        created, open ? now + 3_600_000 : created + 900_000, paid ? created + 5_000 : null, kind === 'FAIL' || kind === 'CANCELLED' ? created + 6_000 : null,
        open ? null : '2088000000000001', open ? null : 'ALIPAY_CN', paid ? 2000 : null, paid ? QUOTE_JSON : null, refunded, payAnswerJson(i, created),
      );
      if (!open && kind !== 'CANCELLED') {
        const id = Number(insertNotification.run(paymentId(i), CLIENT_ID, notifyBodyJson(i), created + 5_000, created + 5_000, created + 5_100).lastInsertRowid);
        insertSend.run(id, created + 5_100);
      }
      if (refunded > 0) insertRefund.run(`20261130${scrambled(i, 4_242).padStart(20, '0')}`, CLIENT_ID, refundRequestId(i), paymentId(i), created + 60_000, refundAnswerJson(i));
    }
  });
  for (let from = 0; from < count; from += BATCH) insertBatch(from, Math.min(count, from + BATCH));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/** Median ms of `iterations` runs of `op`, each on the key `pick()` gives (awaited when it returns a promise). */
async function time(iterations: number, pick: () => number, op: (i: number) => unknown): Promise<number> {
  const samples: number[] = [];
  for (let n = 0; n < iterations; n += 1) {
    const i = pick();
    const t0 = performance.now();
    const result = op(i);
    // Fastify's inject returns a thenable chain, not a Promise.
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') await result;
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

/** Times every per-request lookup on a store of `count` payments; ms by name. */
async function measure(count: number, iterations: number): Promise<Map<string, number>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-sandbox-lookups-'));
  try {
    const file = path.join(dir, 'sandbox.db');
    seed(file, count);
    const keys = generateRsaKeyPair();
    // The real sandbox over the seeded store, not listening: its notifier does not run.
    const sandbox = createSandbox({ databasePath: file, privateKey: keys.privateKey, clients: { [CLIENT_ID]: keys.publicKey }, logger: false });
    await sandbox.app.ready();
    const ctx = sandbox.context;
    const anyPayment = () => Math.floor(Math.random() * count);
    const refunded = () => Math.floor(Math.random() * Math.floor(count / 20)) * 20;
    const results = new Map<string, number>();
    const ops: Array<[string, () => number, (i: number) => unknown]> = [
      ['expiry sweep, nothing due (before every read)', anyPayment, () => expireDuePayments(ctx)],
      ['payment by paymentRequestId (pay, inquiry, cancel)', anyPayment, (i) => ctx.payments.findByClientAndPaymentRequestId(CLIENT_ID, requestId(i))],
      ['payment by paymentId (refund, wallet, control)', anyPayment, (i) => ctx.payments.findByPaymentId(paymentId(i))],
      ['payment by codeValue (cashier, wallet pay)', anyPayment, (i) => ctx.payments.findByCodeValue(codeValue(i))],
      ['refund by refundRequestId', refunded, (i) => ctx.refunds.findByClientAndRefundRequestId(CLIENT_ID, refundRequestId(i))],
      ["a payment's refunds", anyPayment, (i) => ctx.refunds.listByPaymentId(paymentId(i))],
      ["a payment's notifications", anyPayment, (i) => ctx.notifications.listByPaymentId(paymentId(i))],
      ["a payment's disputes", anyPayment, (i) => ctx.disputes.listByPaymentId(paymentId(i))],
      ['notifications due (notifier)', anyPayment, () => ctx.notifications.findDue(Date.now(), 50)],
      ['next notification due (notifier)', anyPayment, () => ctx.notifications.nextDueAt()],
      ['armed fault for a path (every protocol request)', anyPayment, () => ctx.faults.take('pay')],
      ['dispute deadline sweep', anyPayment, () => ctx.disputes.expireDue(Date.now())],
      ['GET /sandbox/v1/payments/:paymentId (whole request)', anyPayment, (i) => sandbox.app.inject({ method: 'GET', url: `/sandbox/v1/payments/${paymentId(i)}` })],
      ['GET cashier status by codeValue (whole request)', anyPayment, (i) => sandbox.app.inject({ method: 'GET', url: `${CASHIER_STATUS_PATH}?codeValue=${codeValue(i)}` })],
    ];
    for (const [name, pick, op] of ops) {
      await time(Math.min(200, iterations), pick, op); // warm-up
      results.set(name, await time(iterations, pick, op));
    }
    await sandbox.close();
    return results;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Seeds and measures at each size (the first two are reported as ms10k and ms1M). */
export async function sandboxLookups(sizes: readonly number[] = [10_000, 1_000_000], iterations = 2_000): Promise<SandboxLookupRow[]> {
  const [small, large] = sizes;
  if (small === undefined || large === undefined) throw new Error('sandboxLookups needs two sizes');
  const a = await measure(small, iterations);
  const b = await measure(large, iterations);
  return [...a.keys()].map((name) => {
    const ms10k = a.get(name) ?? Number.NaN;
    const ms1M = b.get(name) ?? Number.NaN;
    return { name, ms10k, ms1M, ratio: ms1M / ms10k };
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--help')) {
    console.log('usage: node dist/bench/sandbox-lookups.js [--payments 10000,1000000] [--iterations 2000]');
    return;
  }
  const value = (flag: string) => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const sizes = (value('--payments') ?? '10000,1000000').split(',').map(Number);
  const iterations = Number(value('--iterations') ?? 2000);
  const rows = await sandboxLookups(sizes, iterations);
  const [small, large] = sizes;
  console.log(`sandbox lookups, median ms of ${iterations} on random keys, at ${small} and ${large} stored payments`);
  console.log(`| lookup | ${small} | ${large} | ratio |\n|---|---:|---:|---:|`);
  for (const r of rows) console.log(`| ${r.name} | ${r.ms10k.toFixed(4)} | ${r.ms1M.toFixed(4)} | ${r.ratio.toFixed(2)}× |`);
  console.log(JSON.stringify(rows));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
