import type { Updateable } from 'kysely';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import type { Executor, PriceRow, PricesTable } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

export function insertPrice(ex: Executor, row: PriceRow): Promise<unknown> {
  return ex.insertInto('prices').values(row).execute();
}

export function findPriceByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<PriceRow | undefined> {
  return ex
    .selectFrom('prices')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

export function findPricesByIds(ex: Executor, ids: readonly string[]): Promise<PriceRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return ex.selectFrom('prices').selectAll().where('id', 'in', [...ids]).execute();
}

export type PriceChanges = Pick<Updateable<PricesTable>, 'active' | 'nickname' | 'lookup_key' | 'metadata'>;

export async function recordPriceUpdate(ex: Executor, current: PriceRow, changes: PriceChanges): Promise<PriceRow> {
  await ex.updateTable('prices').set(changes).where('id', '=', current.id).execute();
  return { ...current, ...changes } as PriceRow;
}

export interface PriceFilters {
  active?: boolean;
  product?: string;
  type?: 'one_time' | 'recurring';
  currency?: string;
}

export async function listPricesByAccount(ex: Executor, scope: Scope, window: ListWindow, filters: PriceFilters) {
  let query = ex
    .selectFrom('prices')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  if (filters.active !== undefined) query = query.where('active', '=', bool(filters.active));
  if (filters.product !== undefined) query = query.where('product_id', '=', filters.product);
  if (filters.type !== undefined) query = query.where('type', '=', filters.type);
  if (filters.currency !== undefined) query = query.where('currency', '=', filters.currency);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}
