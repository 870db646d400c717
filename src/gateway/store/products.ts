import type { Updateable } from 'kysely';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import type { Executor, ProductRow, ProductsTable } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

export function insertProduct(ex: Executor, row: ProductRow): Promise<unknown> {
  return ex.insertInto('products').values(row).execute();
}

/** A product of this account and mode that was not deleted. */
export function findProductByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<ProductRow | undefined> {
  return ex
    .selectFrom('products')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('deleted', '=', 0)
    .executeTakeFirst();
}

/** Products by id, deleted ones included (line items keep naming what they sold). */
export function findProductsByIds(ex: Executor, ids: readonly string[]): Promise<ProductRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return ex.selectFrom('products').selectAll().where('id', 'in', [...ids]).execute();
}

export type ProductChanges = Pick<Updateable<ProductsTable>, 'active' | 'name' | 'description' | 'images' | 'metadata'>;

export async function recordProductUpdate(ex: Executor, current: ProductRow, changes: ProductChanges, nowMs: number): Promise<ProductRow> {
  await ex.updateTable('products').set({ ...changes, updated: nowMs }).where('id', '=', current.id).execute();
  return { ...current, ...changes, updated: nowMs } as ProductRow;
}

export async function markProductDeleted(ex: Executor, id: string, nowMs: number): Promise<void> {
  await ex.updateTable('products').set({ deleted: 1, active: 0, updated: nowMs }).where('id', '=', id).execute();
}

export async function productHasPrices(ex: Executor, productId: string): Promise<boolean> {
  const row = await ex.selectFrom('prices').select('id').where('product_id', '=', productId).limit(1).executeTakeFirst();
  return row !== undefined;
}

export async function listProductsByAccount(ex: Executor, scope: Scope, window: ListWindow, filters: { active?: boolean }) {
  let query = ex
    .selectFrom('products')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('deleted', '=', 0);
  if (filters.active !== undefined) query = query.where('active', '=', bool(filters.active));
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}
