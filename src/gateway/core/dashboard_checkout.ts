import { resourceMissing } from '../errors.js';
import { findLineItemsOfSession, findSessionByAccountAndId, listSessionsByAccount } from '../store/checkout_sessions.js';
import { findFirstPricesOfProducts, listPricesOfProduct } from '../store/dashboard_checkout.js';
import { findPaymentIntentById } from '../store/payment_intents.js';
import { findPricesByIds, findPriceByAccountAndId } from '../store/prices.js';
import { findProductByAccountAndId, findProductsByIds, listProductsByAccount } from '../store/products.js';
import type { CheckoutLineItemRow, CheckoutSessionRow, PaymentIntentRow, PriceRow, ProductRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps } from './context.js';
import { listWindow } from './lists.js';

export type { CheckoutSessionRow, PriceRow };

/**
 * What the dashboard's Checkout sessions and Products pages read (http/dashboard/checkout.ts):
 * keyset windows of sessions (by status) and products with their prices, and one session with its
 * line items and PaymentIntent, or one product with its prices. Scoped like the API: another
 * account's or mode's object is "no such".
 */

export const CHECKOUT_PAGE_SIZE = 25;
/** Prices shown per product in the products list; the product's page has them all. */
export const PRICES_PER_PRODUCT = 5;
export const CHECKOUT_SESSION_STATUSES = ['open', 'complete', 'expired'] as const;
export type CheckoutSessionStatus = (typeof CHECKOUT_SESSION_STATUSES)[number];

export interface KeysetParams {
  startingAfter: string | null;
  endingBefore: string | null;
  limit?: number;
}

export interface Window<Row> {
  rows: Row[];
  firstId: string | null;
  lastId: string | null;
  hasMore: boolean;
  paged: boolean;
}

function apiList(params: KeysetParams): { limit: number; starting_after: string | null; ending_before: string | null } {
  return { limit: params.limit ?? CHECKOUT_PAGE_SIZE, starting_after: params.startingAfter, ending_before: params.endingBefore };
}

/** A newest-first page as the pager shows it (read backwards, the extra row lies before the window). */
function windowOf<Row extends { id: string }>(page: { rows: Row[]; hasMore: boolean }, params: KeysetParams): Window<Row> {
  const backwards = params.endingBefore !== null;
  return {
    rows: page.rows,
    firstId: page.rows[0]?.id ?? null,
    lastId: page.rows.at(-1)?.id ?? null,
    hasMore: backwards ? true : page.hasMore,
    paged: backwards ? page.hasMore : params.startingAfter !== null,
  };
}

export async function listCheckoutSessionsPage(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: KeysetParams & { status: CheckoutSessionStatus | null }): Promise<Window<CheckoutSessionRow>> {
  const db = deps.database.db;
  const window = await listWindow(apiList(params), 'checkout.session', (id) => findSessionByAccountAndId(db, scope, id));
  const page = await listSessionsByAccount(db, scope, window, params.status === null ? {} : { status: params.status });
  return windowOf(page, params);
}

export interface SessionLineItem {
  row: CheckoutLineItemRow;
  price: PriceRow | null;
  product: ProductRow | null;
}

export interface CheckoutSessionDetail {
  session: CheckoutSessionRow;
  lineItems: SessionLineItem[];
  paymentIntent: PaymentIntentRow | null;
}

export async function checkoutSessionDetail(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<CheckoutSessionDetail> {
  const db = deps.database.db;
  const session = await findSessionByAccountAndId(db, scope, id);
  if (session === undefined) throw resourceMissing('checkout.session', id);
  const items = await findLineItemsOfSession(db, session.id);
  const prices = new Map((await findPricesByIds(db, [...new Set(items.map((item) => item.price_id))])).map((price) => [price.id, price]));
  const products = new Map((await findProductsByIds(db, [...new Set([...prices.values()].map((price) => price.product_id))])).map((product) => [product.id, product]));
  const lineItems = items.map((row) => {
    const price = prices.get(row.price_id) ?? null;
    return { row, price, product: price === null ? null : (products.get(price.product_id) ?? null) };
  });
  return { session, lineItems, paymentIntent: (await findPaymentIntentById(db, session.payment_intent_id)) ?? null };
}

export interface ProductWithPrices {
  id: string;
  product: ProductRow;
  prices: PriceRow[];
  /** More prices than shown: the product's page lists them all. */
  morePrices: boolean;
}

export async function listProductsPage(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: KeysetParams & { active: boolean | null }): Promise<Window<ProductWithPrices>> {
  const db = deps.database.db;
  const window = await listWindow(apiList(params), 'product', (id) => findProductByAccountAndId(db, scope, id));
  const page = await listProductsByAccount(db, scope, window, params.active === null ? {} : { active: params.active });
  const prices = await findFirstPricesOfProducts(db, scope, page.rows.map((row) => row.id), PRICES_PER_PRODUCT + 1);
  const rows = page.rows.map((product) => {
    const own = prices.filter((price) => price.product_id === product.id);
    return { id: product.id, product, prices: own.slice(0, PRICES_PER_PRODUCT), morePrices: own.length > PRICES_PER_PRODUCT };
  });
  return windowOf({ rows, hasMore: page.hasMore }, params);
}

export interface ProductDetail {
  product: ProductRow;
  prices: Window<PriceRow>;
}

export async function productDetail(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string, params: KeysetParams): Promise<ProductDetail> {
  const db = deps.database.db;
  const product = await findProductByAccountAndId(db, scope, id);
  if (product === undefined) throw resourceMissing('product', id);
  // A cursor must be a price of this product (another product's price would jump into its list).
  const window = await listWindow(apiList(params), 'price', async (priceId) => {
    const price = await findPriceByAccountAndId(db, scope, priceId);
    return price?.product_id === product.id ? price : undefined;
  });
  return { product, prices: windowOf(await listPricesOfProduct(db, scope, product.id, window), params) };
}
