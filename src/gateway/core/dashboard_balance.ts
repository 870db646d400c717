import { parameterInvalid } from '../errors.js';
import { findBalanceTransactionByAccountAndId, listBalanceTransactionsByAccount } from '../store/balance_transactions.js';
import type { BalanceTransactionRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps } from './context.js';
import { listWindow } from './lists.js';
import type { ListParams } from './lists.js';

/**
 * What the dashboard's Balance page lists: balance transactions as stored, since the page links
 * each to the payment (`payment_intent_id`) or dispute it came from, which the API object omits.
 * Keyset-paged on the same indexes as `GET /v1/balance_transactions`.
 */

export const BALANCE_TRANSACTION_TYPES = ['charge', 'refund', 'dispute', 'adjustment'] as const satisfies readonly BalanceTransactionRow['type'][];

export interface BalanceTransactionListParams extends Pick<ListParams, 'starting_after' | 'ending_before' | 'limit'> {
  type: string | null;
  /** Only transactions created in [fromMs, toMs) (a report's day). */
  created: { fromMs: number; toMs: number } | null;
}

export function parseBalanceTransactionType(value: string | undefined): BalanceTransactionRow['type'] | null {
  if (value === undefined || value === '') return null;
  const type = BALANCE_TRANSACTION_TYPES.find((known) => known === value);
  if (type === undefined) throw parameterInvalid('type', `type must be one of ${BALANCE_TRANSACTION_TYPES.join(', ')}, got '${value.slice(0, 40)}'`);
  return type;
}

export async function listBalanceTransactionRows(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: BalanceTransactionListParams): Promise<{ rows: BalanceTransactionRow[]; hasMore: boolean }> {
  const db = deps.database.db;
  const type = parseBalanceTransactionType(params.type ?? undefined);
  const window = await listWindow(
    { ...params, created: params.created === null ? null : { gte: params.created.fromMs, lt: params.created.toMs } },
    'balance_transaction',
    (id) => findBalanceTransactionByAccountAndId(db, scope, id),
  );
  return listBalanceTransactionsByAccount(db, scope, window, type === null ? {} : { type });
}
