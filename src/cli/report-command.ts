import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { AlipayPlusGateway, type AlipayPlusEndpoint, type InquiryResult } from '../gateway/connector/alipayplus/modes.js';
import type { ExpectedPayment } from '../gateway/connector/alipayplus/transformers.js';
import { loadConfig, migrate, openDatabase, systemClock, type Database } from '../gateway/index.js';
import { CSV_COLUMNS, ReportDateError, settlementDayReport, settlementReportCsv, utcDay as coreUtcDay } from '../gateway/core/settlement_report.js';
import type { SettlementDayReport } from '../gateway/core/settlement_report.js';
import type { PaymentAttemptRow } from '../gateway/store/schema.js';
import { SANDBOX_PORT_DEFAULT } from '../sandbox/server.js';
import { endpointFromEnv } from './alipayplus-endpoints.js';
import { ensureKeyPair } from './keyring.js';
import { envPort, SANDBOX_CLIENT_ID_DEFAULT } from './sandbox-command.js';

/** Payments checked against Alipay+ per report: a bound, so a huge day cannot run for hours. */
export const REPORT_INQUIRIES_MAX = 10_000;
/** Inquiries in flight at once. */
const REPORT_INQUIRY_CONCURRENCY = 8;

/** Asks Alipay+ for one payment's state (AlipayPlusGateway.inquire); injected so tests use the sandbox directly. */
export type Inquire = (livemode: boolean, expected: ExpectedPayment) => Promise<InquiryResult>;

export interface PaymentMismatch {
  paymentRequestId: string;
  paymentIntentId: string;
  accountId: string;
  /** Our attempt status, and what it means at Alipay+ (succeeded | failed | pending). */
  gatewayStatus: string;
  expected: 'succeeded' | 'failed' | 'pending';
  /** Alipay+'s answer, or `unknown: <reason>` when the inquiry got none. */
  alipayPlus: string;
}

/** The core's day report (core/settlement_report.ts) plus the CLI-only Alipay+ inquiry check. */
export interface SettlementReport extends SettlementDayReport {
  paymentsChecked: number;
  mismatches: PaymentMismatch[];
}

/** `YYYY-MM-DD` → the UTC day [00:00, 24:00) in ms; throws on anything else (naming the option). */
export function utcDay(date: string): { fromMs: number; toMs: number } {
  try {
    return coreUtcDay(date);
  } catch (error) {
    if (error instanceof ReportDateError) throw new RangeError(`--date ${error.message}`);
    throw error;
  }
}

/**
 * The daily reconciliation (what a finance team checks): every balance transaction created on the
 * UTC day with its Alipay+ ids, totals per mode and settlement currency (the core's report, over
 * every account), and every payment attempt of the day whose state differs from what Alipay+
 * answers to an inquiry.
 */
export async function buildSettlementReport(database: Database, inquire: Inquire | null, date: string): Promise<SettlementReport> {
  const { fromMs, toMs } = utcDay(date);
  const day = await settlementDayReport(database, date, null);
  const attempts = await database.db
    .selectFrom('payment_attempts')
    .selectAll()
    .where('created', '>=', fromMs)
    .where('created', '<', toMs)
    .orderBy('created')
    .limit(REPORT_INQUIRIES_MAX)
    .execute();
  const mismatches = inquire === null ? [] : await findMismatches(attempts, inquire);
  return { ...day, paymentsChecked: inquire === null ? 0 : attempts.length, mismatches };
}

/** What Alipay+ should answer for an attempt in this status. */
function expectedAtAlipayPlus(status: string): PaymentMismatch['expected'] {
  switch (status) {
    case 'succeeded':
      return 'succeeded';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return 'pending';
  }
}

async function findMismatches(attempts: PaymentAttemptRow[], inquire: Inquire): Promise<PaymentMismatch[]> {
  const found: (PaymentMismatch | null)[] = new Array<PaymentMismatch | null>(attempts.length).fill(null);
  let next = 0;
  const lane = async () => {
    while (next < attempts.length) {
      const index = next++;
      const attempt = attempts[index] as PaymentAttemptRow;
      const expected = expectedAtAlipayPlus(attempt.status);
      const answer = await inquire(attempt.livemode === 1, { paymentRequestId: attempt.payment_request_id, currency: attempt.currency, amountMinor: attempt.amount });
      const actual = answer.ok ? answer.outcome.kind : `unknown: ${answer.reason}`;
      if (actual !== expected) {
        found[index] = {
          paymentRequestId: attempt.payment_request_id,
          paymentIntentId: attempt.payment_intent_id,
          accountId: attempt.account_id,
          gatewayStatus: attempt.status,
          expected,
          alipayPlus: actual,
        };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(REPORT_INQUIRY_CONCURRENCY, attempts.length) }, lane));
  return found.filter((mismatch): mismatch is PaymentMismatch => mismatch !== null);
}

export { CSV_COLUMNS };

export function reportCsv(report: SettlementReport): string {
  return settlementReportCsv(report);
}

export function reportText(report: SettlementReport): string {
  const lines = [`Settlement report for ${report.date} (UTC): ${report.transactions.length} balance transaction(s)`];
  for (const txn of report.transactions) {
    lines.push(`  ${txn.id}  ${(txn.reporting_category ?? txn.type).padEnd(6)} ${txn.source}  ${txn.source_currency} ${txn.source_amount} → ${txn.currency} ${txn.amount} @ ${txn.exchange_rate ?? '-'}  fee ${txn.fee}  net ${txn.net}  ${txn.alipay_request_id ?? ''} ${txn.alipay_id ?? ''}`);
  }
  lines.push('Totals (settlement currency minor units):');
  if (report.totals.length === 0) lines.push('  none');
  for (const total of report.totals) {
    lines.push(`  ${total.livemode ? 'live' : 'test'} ${total.currency}: ${total.count} transaction(s), amount ${total.amount}, fee ${total.fee}, net ${total.net}`);
  }
  if (report.disputes.length > 0) lines.push('Disputes (settlement currency minor units):');
  for (const total of report.disputes) {
    lines.push(
      `  ${total.livemode ? 'live' : 'test'} ${total.currency}: withdrawn ${total.withdrawals.count} (${total.withdrawals.amount}), reinstated ${total.reinstatements.count} (${total.reinstatements.amount}), net ${total.net}`,
    );
  }
  lines.push(`Payments checked against Alipay+: ${report.paymentsChecked}; differing: ${report.mismatches.length}`);
  for (const m of report.mismatches) {
    lines.push(`  ${m.paymentRequestId} (${m.paymentIntentId}, ${m.accountId}): gateway ${m.gatewayStatus} (expects ${m.expected} at Alipay+), Alipay+ ${m.alipayPlus}`);
  }
  return lines.join('\n') + '\n';
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('reports for the operator')
    .command('settlement')
    .description('the day\'s balance transactions with their Alipay+ ids, totals per currency, and payments whose state differs from Alipay+ (by inquiry)')
    .requiredOption('--date <YYYY-MM-DD>', 'the UTC day', (value: string) => {
      try {
        utcDay(value);
      } catch (error) {
        throw new InvalidArgumentError((error as Error).message);
      }
      return value;
    })
    .option('--out <file>', 'where to write the CSV (default <data dir>/reports/settlement-<date>.csv)')
    .option('--no-inquiry', 'do not ask Alipay+ about the day\'s payments')
    .action(async (options: { date: string; out?: string; inquiry: boolean }) => {
      const config = loadConfig();
      const database = openDatabase(config.databaseUrl, { sqliteCommitSync: 'each' });
      const alipayPlus = options.inquiry ? new AlipayPlusGateway(endpointsFromEnv(config.host, config.dataDir), config.publicUrl) : null;
      try {
        await migrate(database);
        const report = await buildSettlementReport(database, alipayPlus === null ? null : (livemode, expected) => alipayPlus.inquire(livemode, expected), options.date);
        const out = options.out ?? path.join(config.dataDir, 'reports', `settlement-${options.date}.csv`);
        mkdirSync(path.dirname(out), { recursive: true });
        writeFileSync(out, reportCsv(report));
        process.stdout.write(reportText(report));
        console.log(`CSV written to ${out} (generated ${new Date(systemClock.now()).toISOString()})`);
        if (report.mismatches.length > 0) process.exitCode = 3;
      } finally {
        await alipayPlus?.close();
        await database.close();
      }
    });
}

/**
 * The endpoints the running gateway uses: ZHIFU_ALIPAYPLUS_TEST_* / ZHIFU_ALIPAYPLUS_* or, for
 * test mode, the embedded sandbox that `zhifu start` runs, with the keys under the data dir.
 */
function endpointsFromEnv(host: string, dataDir: string): { test: AlipayPlusEndpoint; live: AlipayPlusEndpoint | null } {
  const live = endpointFromEnv(process.env, 'ZHIFU_ALIPAYPLUS_');
  const external = endpointFromEnv(process.env, 'ZHIFU_ALIPAYPLUS_TEST_');
  if (external) return { test: external, live };
  const gatewayKeys = ensureKeyPair(dataDir, 'gateway');
  const sandboxKeys = ensureKeyPair(dataDir, 'alipayplus-sandbox');
  return {
    test: {
      baseUrl: `http://${host}:${envPort('ZHIFU_SANDBOX_PORT', SANDBOX_PORT_DEFAULT)}`,
      clientId: process.env.ZHIFU_SANDBOX_CLIENT_ID?.trim() || SANDBOX_CLIENT_ID_DEFAULT,
      privateKey: gatewayKeys.privateKey,
      alipayPublicKey: sandboxKeys.publicKey,
      timeoutMs: 5_000,
    },
    live,
  };
}
