import { sql } from 'kysely';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import type { Executor, PriceRow } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/**
 * The dashboard's reads of products' prices (core/dashboard_checkout.ts) that the API's price
 * list (by account, filtered) does not answer cheaply: the first prices of a page of products in
 * one query, and one product's prices a page at a time. Both seek in prices_product.
 */

/**
 * A price is made in its product's account and mode (core/prices.ts), so the product's scope is
 * the prices' scope: the queries seek by product alone (prices_product_list; with the account's
 * columns in the WHERE the planner would rather walk prices_list), and this check keeps any row
 * of another scope out all the same.
 */
function inScope(price: PriceRow, scope: Scope): boolean {
  return price.account_id === scope.accountId && price.livemode === bool(scope.livemode);
}

/**
 * Up to `perProduct` prices of each product, newest first, in one query (a window function, which
 * SQLite and PostgreSQL both run), so a page of products costs two queries, not one per product.
 */
export async function findFirstPricesOfProducts(ex: Executor, scope: Scope, productIds: readonly string[], perProduct: number): Promise<PriceRow[]> {
  if (productIds.length === 0) return [];
  const ranked = ex
    .selectFrom('prices')
    .selectAll()
    .select(sql<number>`row_number() over (partition by product_id order by created desc, id desc)`.as('rank'))
    .where('product_id', 'in', [...productIds]);
  const rows = await ex.selectFrom(ranked.as('ranked')).selectAll().where('rank', '<=', perProduct).orderBy('product_id').orderBy('created', 'desc').orderBy('id', 'desc').execute();
  return rows.map(({ rank: _rank, ...price }) => price).filter((price) => inScope(price, scope));
}

/** One product's prices, newest first, a keyset window at a time. */
export async function listPricesOfProduct(ex: Executor, scope: Scope, productId: string, window: ListWindow) {
  let query = ex.selectFrom('prices').selectAll().where('product_id', '=', productId);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows.filter((price) => inScope(price, scope)), window);
}
