import { sql } from 'kysely';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import type { BalanceTransactionRow, Executor } from './schema.js';
import { Precompiled, insertParameters, insertShape } from './precompiled.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/**
 * Records a balance transaction and adds its net to the account's running sums in that currency
 * (the total, and the day it becomes available); `ex` is the caller's transaction, so the sums
 * never disagree with the transactions. The unique `source` makes a second record of one charge
 * or refund fail before the sums move.
 */
export async function insertBalanceTransaction(ex: Executor, row: BalanceTransactionRow): Promise<void> {
  await insertStatement.execute(ex, row);
  await addToTotalStatement.execute(ex, row);
  await addToAvailableOnStatement.execute(ex, row);
}

// The three statements of every charge's balance, built once.
const insertStatement = new Precompiled(
  (ex: Executor, row: BalanceTransactionRow) => ex.insertInto('balance_transactions').values(row).compile(),
  (row) => insertParameters(row),
  (row) => insertShape(row),
);

const addToTotalStatement = new Precompiled(
  (ex: Executor, row: BalanceTransactionRow) => ex
    .insertInto('balance_totals')
    .values({ account_id: row.account_id, livemode: row.livemode, currency: row.currency, net: row.net })
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'currency']).doUpdateSet({ net: sql<number>`balance_totals.net + excluded.net` }))
    .compile(),
  (row) => [row.account_id, row.livemode, row.currency, row.net],
);

const addToAvailableOnStatement = new Precompiled(
  (ex: Executor, row: BalanceTransactionRow) => ex
    .insertInto('balance_available_on')
    .values({ account_id: row.account_id, livemode: row.livemode, currency: row.currency, available_on: row.available_on, net: row.net })
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'currency', 'available_on']).doUpdateSet({ net: sql<number>`balance_available_on.net + excluded.net` }))
    .compile(),
  (row) => [row.account_id, row.livemode, row.currency, row.available_on, row.net],
);

export function findBalanceTransactionByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<BalanceTransactionRow | undefined> {
  return ex
    .selectFrom('balance_transactions')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

export interface BalanceTransactionFilters {
  type?: string;
  source?: string;
  currency?: string;
}

export async function listBalanceTransactionsByAccount(ex: Executor, scope: Scope, window: ListWindow, filters: BalanceTransactionFilters) {
  let query = ex
    .selectFrom('balance_transactions')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  if (filters.type !== undefined) query = query.where('type', '=', filters.type as BalanceTransactionRow['type']);
  if (filters.source !== undefined) query = query.where('source', '=', filters.source);
  if (filters.currency !== undefined) query = query.where('currency', '=', filters.currency);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}

/**
 * Net sums per settlement currency, split at `nowMs` into available (available_on ≤ now) and
 * pending: the running total (balance_totals) less the running sums of the days not yet
 * available (balance_available_on), however long the history and however busy the day.
 */
export async function sumNetByCurrency(ex: Executor, scope: Scope, nowMs: number): Promise<{ currency: string; available: number; pending: number }[]> {
  const rows = await ex
    .selectFrom('balance_totals as t')
    .select((eb) => [
      't.currency',
      't.net',
      eb.selectFrom('balance_available_on as b')
        .select((sub) => sub.fn.coalesce(sub.fn.sum<number | string>('b.net'), sql.lit(0)).as('pending'))
        .whereRef('b.account_id', '=', 't.account_id')
        .whereRef('b.livemode', '=', 't.livemode')
        .whereRef('b.currency', '=', 't.currency')
        .where('b.available_on', '>', nowMs)
        .as('pending'),
    ])
    .where('t.account_id', '=', scope.accountId)
    .where('t.livemode', '=', bool(scope.livemode))
    .orderBy('t.currency')
    .execute();
  return rows.map((row) => {
    const pending = Number(row.pending ?? 0);
    return { currency: row.currency, available: Number(row.net) - pending, pending };
  });
}

/**
 * Every balance transaction created in [fromMs, toMs), oldest first: across accounts (the
 * operator's report) when `scope` is null, else one account in one mode (the dashboard's).
 */
export function listBalanceTransactionsCreatedBetween(ex: Executor, scope: Scope | null, fromMs: number, toMs: number): Promise<BalanceTransactionRow[]> {
  let query = ex.selectFrom('balance_transactions').selectAll().where('created', '>=', fromMs).where('created', '<', toMs);
  if (scope !== null) query = query.where('account_id', '=', scope.accountId).where('livemode', '=', bool(scope.livemode));
  return query.orderBy('created').orderBy('id').execute();
}

/** Sums of one group of a day's balance transactions (settlement currency minor units). */
export interface BalanceTransactionLine {
  livemode: boolean;
  currency: string;
  type: BalanceTransactionRow['type'];
  reportingCategory: string | null;
  count: number;
  amount: number;
  fee: number;
  net: number;
}

/** The transactions created in [fromMs, toMs) summed per mode, currency, type and reporting category; `scope` as above. */
export async function sumBalanceTransactionsCreatedBetween(ex: Executor, scope: Scope | null, fromMs: number, toMs: number): Promise<BalanceTransactionLine[]> {
  let query = ex
    .selectFrom('balance_transactions')
    .select((eb) => [
      'livemode', 'currency', 'type', 'reporting_category',
      eb.fn.countAll<number | string>().as('count'),
      eb.fn.sum<number | string>('amount').as('amount'),
      eb.fn.sum<number | string>('fee').as('fee'),
      eb.fn.sum<number | string>('net').as('net'),
    ])
    .where('created', '>=', fromMs)
    .where('created', '<', toMs);
  if (scope !== null) query = query.where('account_id', '=', scope.accountId).where('livemode', '=', bool(scope.livemode));
  const rows = await query.groupBy(['livemode', 'currency', 'type', 'reporting_category']).execute();
  return rows.map((row) => ({
    livemode: Number(row.livemode) === 1, currency: row.currency, type: row.type, reportingCategory: row.reporting_category,
    count: Number(row.count), amount: Number(row.amount), fee: Number(row.fee), net: Number(row.net),
  }));
}
