import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import type { BalanceTransactionRow, Executor } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/** Records a balance transaction; the unique `source` makes a second record of one charge or refund fail. */
export function insertBalanceTransaction(ex: Executor, row: BalanceTransactionRow): Promise<unknown> {
  return ex.insertInto('balance_transactions').values(row).execute();
}

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

/** Net sums per settlement currency, split at `nowMs` into available (available_on ≤ now) and pending. */
export async function sumNetByCurrency(ex: Executor, scope: Scope, nowMs: number): Promise<{ currency: string; available: number; pending: number }[]> {
  const rows = await ex
    .selectFrom('balance_transactions')
    .select((eb) => [
      'currency',
      eb.fn.sum<number | string>(eb.case().when('available_on', '<=', nowMs).then(eb.ref('net')).else(0).end()).as('available'),
      eb.fn.sum<number | string>(eb.case().when('available_on', '>', nowMs).then(eb.ref('net')).else(0).end()).as('pending'),
    ])
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .groupBy('currency')
    .orderBy('currency')
    .execute();
  return rows.map((row) => ({ currency: row.currency, available: Number(row.available), pending: Number(row.pending) }));
}

/** Every balance transaction created in [fromMs, toMs), oldest first, across accounts (the operator's report). */
export function listBalanceTransactionsCreatedBetween(ex: Executor, fromMs: number, toMs: number): Promise<BalanceTransactionRow[]> {
  return ex.selectFrom('balance_transactions').selectAll().where('created', '>=', fromMs).where('created', '<', toMs).orderBy('created').orderBy('id').execute();
}
