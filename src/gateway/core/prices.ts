import { invalidRequest, parameterMissing, resourceMissing } from '../errors.js';
import type { Metadata } from '../domain/metadata.js';
import { inTransaction } from '../store/database.js';
import { findPriceByAccountAndId, insertPrice, listPricesByAccount, recordPriceUpdate } from '../store/prices.js';
import type { PriceChanges } from '../store/prices.js';
import type { Executor, PriceRow, ProductRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';
import { recordEvent } from './events.js';
import { claimInTransaction, completeIdempotentRequest } from './idempotency.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import { applyMetadata } from './payment_intent_rules.js';
import { createProductInTx, findOwnedProduct, productView } from './products.js';
import type { ProductData } from './products.js';
import type { ApiObject } from './views.js';

export interface Recurring {
  interval: 'day' | 'week' | 'month' | 'year';
  interval_count?: number | null;
}

/** Parameters of POST /v1/prices; `price_data` of a line item is the same without nickname/metadata. */
export interface PriceData {
  currency: string;
  /** Smallest currency unit. */
  unit_amount?: number | null;
  product?: string | null;
  product_data?: ProductData | null;
  recurring?: Recurring | null;
  active?: boolean | null;
  billing_scheme?: string | null;
  lookup_key?: string | null;
  nickname?: string | null;
  type?: 'one_time' | 'recurring' | null;
  metadata?: Record<string, string | null> | null;
}

export interface UpdatePriceParams {
  active?: boolean;
  nickname?: string | null;
  lookup_key?: string | null;
  metadata?: Record<string, string | null> | null;
}

/** Stripe's `recurring` with every field it requires; Zhifu bills no usage, so it is `licensed`, per one interval unless given. */
function recurringView(recurring: Recurring): ApiObject {
  return { aggregate_usage: null, interval: recurring.interval, interval_count: recurring.interval_count ?? 1, trial_period_days: null, usage_type: 'licensed' };
}

/** The Price object; `product` is its id, or the whole Product when given (line items expand it). */
export function priceView(row: PriceRow, product?: ProductRow): ApiObject {
  return {
    id: row.id,
    object: 'price',
    created: row.created,
    livemode: row.livemode === 1,
    active: row.active === 1,
    currency: row.currency,
    unit_amount: row.unit_amount,
    unit_amount_decimal: String(row.unit_amount),
    product: product === undefined ? row.product_id : productView(product),
    type: row.type,
    recurring: row.recurring === null ? null : recurringView(JSON.parse(row.recurring) as Recurring),
    billing_scheme: row.billing_scheme,
    lookup_key: row.lookup_key,
    nickname: row.nickname,
    metadata: JSON.parse(row.metadata) as unknown,
  };
}

/**
 * Inserts a price (and its product from `product_data`) with their events, in the caller's
 * transaction. `at` names the parameter in errors (`line_items[0][price_data]` inline).
 */
export async function createPriceInTx(
  tx: Executor,
  deps: Pick<CoreDeps, 'clock' | 'ids'>,
  ctx: Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>,
  data: PriceData,
  at = '',
): Promise<{ price: PriceRow; product: ProductRow }> {
  const name = (key: string) => (at === '' ? key : `${at}[${key}]`);
  if (data.unit_amount == null) throw parameterMissing(name('unit_amount'));
  if (data.product != null && data.product_data != null) {
    throw invalidRequest('parameter_invalid', `You may only specify one of these parameters: ${name('product')}, ${name('product_data')}.`, name('product_data'));
  }
  if (data.billing_scheme === 'tiered') {
    throw invalidRequest('parameter_invalid', `${name('billing_scheme')} tiered is not supported: Alipay prices are per_unit.`, name('billing_scheme'));
  }
  const type = data.recurring != null ? 'recurring' : 'one_time';
  if (data.type != null && data.type !== type) {
    throw invalidRequest('parameter_invalid', `${name('type')} is ${data.type}, but ${type === 'recurring' ? 'recurring is given' : 'no recurring interval is given'}.`, name('type'));
  }
  let product: ProductRow;
  if (data.product != null) product = await findOwnedProduct(tx, ctx.scope, data.product, name('product'));
  else if (data.product_data != null) product = await createProductInTx(tx, deps, ctx, data.product_data);
  else throw parameterMissing(name('product'), `Pass ${name('product')} (a prod_ id) or ${name('product_data')}.`);
  const row: PriceRow = {
    id: deps.ids.next('price'),
    account_id: ctx.scope.accountId,
    livemode: ctx.scope.livemode ? 1 : 0,
    created: deps.clock.now(),
    active: data.active === false ? 0 : 1,
    product_id: product.id,
    currency: data.currency,
    unit_amount: data.unit_amount,
    type,
    recurring: data.recurring == null ? null : JSON.stringify({ interval: data.recurring.interval, interval_count: data.recurring.interval_count ?? 1 }),
    // per_unit is the only scheme Alipay prices have; other names (the seed sends "testscheme") mean it.
    billing_scheme: 'per_unit',
    lookup_key: data.lookup_key ?? null,
    nickname: data.nickname ?? null,
    metadata: JSON.stringify(applyMetadata({}, data.metadata)),
  };
  await insertPrice(tx, row);
  await recordEvent(tx, deps, ctx, 'price.created', priceView(row));
  return { price: row, product };
}

export async function findOwnedPrice(ex: Executor, scope: Scope, id: string, param = 'id'): Promise<PriceRow> {
  const row = await findPriceByAccountAndId(ex, scope, id);
  if (row === undefined) throw param === 'id' ? resourceMissing('price', id, param) : invalidRequest('resource_missing', `No such price: '${id}'`, param);
  return row;
}

export async function createPrice(deps: CoreDeps, ctx: RequestContext, params: PriceData): Promise<ApiObject> {
  return inTransaction(deps.database, async (tx) => {
    await claimInTransaction(tx, deps, ctx);
    const { price } = await createPriceInTx(tx, deps, ctx, params);
    const view = priceView(price);
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

export async function retrievePrice(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<ApiObject> {
  return priceView(await findOwnedPrice(deps.database.db, scope, id));
}

/** Only active, nickname, lookup_key and metadata change: a price's amount is fixed once created (Stripe). */
export async function updatePrice(deps: CoreDeps, ctx: RequestContext, id: string, params: UpdatePriceParams): Promise<ApiObject> {
  return inTransaction(deps.database, async (tx) => {
    await claimInTransaction(tx, deps, ctx);
    const current = await findOwnedPrice(tx, ctx.scope, id);
    const changes: PriceChanges = {};
    if (params.active !== undefined) changes.active = params.active ? 1 : 0;
    if (params.nickname !== undefined) changes.nickname = params.nickname;
    if (params.lookup_key !== undefined) changes.lookup_key = params.lookup_key;
    if (params.metadata !== undefined) changes.metadata = JSON.stringify(applyMetadata(JSON.parse(current.metadata) as Metadata, params.metadata));
    // Nothing to change (an empty body): the price as it is, with no write and no event.
    if (Object.keys(changes).length === 0) {
      const unchanged = priceView(current);
      await completeIdempotentRequest(tx, ctx, 200, unchanged);
      return unchanged;
    }
    const view = priceView(await recordPriceUpdate(tx, current, changes));
    const before = priceView(current);
    const previous = Object.fromEntries(Object.keys(view).filter((key) => JSON.stringify(view[key]) !== JSON.stringify(before[key])).map((key) => [key, before[key]]));
    await recordEvent(tx, deps, ctx, 'price.updated', view, previous);
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

export interface ListPricesParams extends ListParams {
  active?: boolean | null;
  product?: string | null;
  type?: 'one_time' | 'recurring' | null;
  currency?: string | null;
}

export async function listPrices(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: ListPricesParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'price', (id) => findPriceByAccountAndId(db, scope, id));
  const page = await listPricesByAccount(db, scope, window, {
    ...(params.active == null ? {} : { active: params.active }),
    ...(params.product == null ? {} : { product: params.product }),
    ...(params.type == null ? {} : { type: params.type }),
    ...(params.currency == null ? {} : { currency: params.currency }),
  });
  return { data: page.rows.map((row) => priceView(row)), hasMore: page.hasMore };
}
