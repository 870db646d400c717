import { sumBalanceTransactionsCreatedBetween, listBalanceTransactionsCreatedBetween } from '../store/balance_transactions.js';
import { DAY_MS, utcDayStart } from '../domain/days.js';
import type { BalanceTransactionLine } from '../store/balance_transactions.js';
import type { Database } from '../store/database.js';
import type { BalanceTransactionRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';

/**
 * The daily settlement report (what a finance team checks): the balance transactions created on
 * one UTC day, with totals per mode and settlement currency and the day's dispute money. One
 * implementation for `zhifu report settlement` (every account) and the dashboard's Balance page
 * (one account in one mode). The CLI adds the Alipay+ inquiry check, which needs the network;
 * this module never calls out.
 */


export interface CurrencyTotal {
  livemode: boolean;
  currency: string;
  count: number;
  /** Settlement currency minor units. */
  amount: number;
  fee: number;
  net: number;
}

/** Dispute money of the day per mode and settlement currency (api.md §7a): withdrawn on escalation, reinstated when won. */
export interface DisputeTotal {
  livemode: boolean;
  currency: string;
  withdrawals: { count: number; amount: number };
  reinstatements: { count: number; amount: number };
  /** Withdrawals plus reinstatements: what disputes took from the balance on the day. */
  net: number;
}

/** The day's figures without its transactions (what a page shows above a paged list). */
export interface SettlementDay {
  date: string;
  fromMs: number;
  toMs: number;
  totals: CurrencyTotal[];
  /** The dispute lines of the day, totalled on their own. */
  disputes: DisputeTotal[];
}

/** The day's figures with every transaction of the day, oldest first (the CSV's lines). */
export interface SettlementDayReport extends SettlementDay {
  transactions: BalanceTransactionRow[];
}

/** Why a report date was refused; the CLI prefixes its option name, the dashboard answers 400. */
export class ReportDateError extends RangeError {}

/** `YYYY-MM-DD` → the UTC day [00:00, 24:00) in ms; throws ReportDateError on anything else. */
export function utcDay(date: string): { fromMs: number; toMs: number } {
  const fromMs = utcDayStart(date);
  if (fromMs === null) throw new ReportDateError(`must be a calendar date YYYY-MM-DD, got ${date}`);
  return { fromMs, toMs: fromMs + DAY_MS };
}


/**
 * The day's totals, summed by the database (one grouped query on the created index), so a page
 * can show them without loading a busy day's transactions. `scope` null: every account and mode.
 */
export async function settlementDay(database: Database, date: string, scope: Scope | null): Promise<SettlementDay> {
  const { fromMs, toMs } = utcDay(date);
  const lines = await sumBalanceTransactionsCreatedBetween(database.db, scope, fromMs, toMs);
  return { date, fromMs, toMs, totals: totalsOf(lines), disputes: disputeTotalsOf(lines) };
}

/**
 * The day's figures and all its transactions (the CSV and the CLI's listing), totalled from the
 * very rows listed, so totals and lines always agree even while the day is still being written.
 */
export async function settlementDayReport(database: Database, date: string, scope: Scope | null): Promise<SettlementDayReport> {
  const { fromMs, toMs } = utcDay(date);
  const transactions = await listBalanceTransactionsCreatedBetween(database.db, scope, fromMs, toMs);
  const lines = transactions.map((txn): BalanceTransactionLine => ({
    livemode: txn.livemode === 1, currency: txn.currency, type: txn.type, reportingCategory: txn.reporting_category,
    count: 1, amount: txn.amount, fee: txn.fee, net: txn.net,
  }));
  return { date, fromMs, toMs, transactions, totals: totalsOf(lines), disputes: disputeTotalsOf(lines) };
}

function totalsOf(lines: BalanceTransactionLine[]): CurrencyTotal[] {
  const totals = new Map<string, CurrencyTotal>();
  for (const line of lines) {
    const key = `${line.livemode}:${line.currency}`;
    const total = totals.get(key) ?? { livemode: line.livemode, currency: line.currency, count: 0, amount: 0, fee: 0, net: 0 };
    total.count += line.count;
    total.amount += line.amount;
    total.fee += line.fee;
    total.net += line.net;
    totals.set(key, total);
  }
  return [...totals.values()].sort((a, b) => Number(a.livemode) - Number(b.livemode) || a.currency.localeCompare(b.currency));
}

function disputeTotalsOf(lines: BalanceTransactionLine[]): DisputeTotal[] {
  const totals = new Map<string, DisputeTotal>();
  for (const line of lines) {
    if (line.type !== 'dispute') continue;
    const key = `${line.livemode}:${line.currency}`;
    const total = totals.get(key) ?? { livemode: line.livemode, currency: line.currency, withdrawals: { count: 0, amount: 0 }, reinstatements: { count: 0, amount: 0 }, net: 0 };
    const side = line.reportingCategory === 'dispute_reversal' ? total.reinstatements : total.withdrawals;
    side.count += line.count;
    side.amount += line.amount;
    total.net += line.net;
    totals.set(key, total);
  }
  return [...totals.values()].sort((a, b) => Number(a.livemode) - Number(b.livemode) || a.currency.localeCompare(b.currency));
}

export const CSV_COLUMNS = [
  'id', 'created', 'account', 'livemode', 'type', 'source', 'payment_intent', 'source_amount', 'source_currency',
  'amount', 'currency', 'exchange_rate', 'fee', 'net', 'available_on', 'alipay_request_id', 'alipay_id', 'quote_id', 'reporting_category',
] as const;

/** RFC 4180: quote a field when it holds a comma, quote or line break. */
function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The day's transactions as CSV (RFC 4180, CRLF), one line per balance transaction. */
export function settlementReportCsv(report: Pick<SettlementDayReport, 'transactions'>): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const txn of report.transactions) {
    lines.push(
      [
        txn.id, new Date(txn.created).toISOString(), txn.account_id, txn.livemode === 1 ? 'true' : 'false', txn.type, txn.source, txn.payment_intent_id,
        txn.source_amount, txn.source_currency, txn.amount, txn.currency, txn.exchange_rate, txn.fee, txn.net,
        new Date(txn.available_on).toISOString(), txn.alipay_request_id, txn.alipay_id, txn.quote_id, txn.reporting_category ?? txn.type,
      ].map(csvField).join(','),
    );
  }
  return lines.join('\r\n') + '\r\n';
}
