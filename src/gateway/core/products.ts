import { invalidRequest, resourceMissing } from '../errors.js';
import { inTransaction } from '../store/database.js';
import {
  findProductByAccountAndId,
  insertProduct,
  listProductsByAccount,
  markProductDeleted,
  productHasPrices,
  recordProductUpdate,
} from '../store/products.js';
import type { ProductChanges } from '../store/products.js';
import type { Executor, ProductRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';
import { recordEvent } from './events.js';
import { claimInTransaction, completeIdempotentRequest } from './idempotency.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import { applyMetadata } from './payment_intent_rules.js';
import type { ApiObject } from './views.js';
import type { Metadata } from '../domain/metadata.js';

/** Parameters of POST /v1/products (and `product_data` of prices and line items). */
export interface ProductData {
  name: string;
  description?: string | null;
  images?: string[] | null;
  active?: boolean | null;
  metadata?: Record<string, string | null> | null;
}

export interface UpdateProductParams {
  name?: string;
  description?: string | null;
  images?: string[] | null;
  active?: boolean;
  metadata?: Record<string, string | null> | null;
}

export function productView(row: ProductRow): ApiObject {
  return {
    id: row.id,
    object: 'product',
    created: row.created,
    updated: row.updated,
    livemode: row.livemode === 1,
    active: row.active === 1,
    name: row.name,
    description: row.description,
    images: JSON.parse(row.images) as unknown,
    metadata: JSON.parse(row.metadata) as unknown,
    type: 'good',
    // Stripe's marketing feature list: Zhifu has no such feature.
    features: [],
  };
}

/** Inserts a product and writes `product.created`, in the caller's transaction. */
export async function createProductInTx(tx: Executor, deps: Pick<CoreDeps, 'clock' | 'ids'>, ctx: Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>, data: ProductData): Promise<ProductRow> {
  const now = deps.clock.now();
  const row: ProductRow = {
    id: deps.ids.next('prod'),
    account_id: ctx.scope.accountId,
    livemode: ctx.scope.livemode ? 1 : 0,
    created: now,
    updated: now,
    active: data.active === false ? 0 : 1,
    name: data.name,
    description: data.description ?? null,
    images: JSON.stringify(data.images ?? []),
    metadata: JSON.stringify(applyMetadata({}, data.metadata)),
    deleted: 0,
  };
  await insertProduct(tx, row);
  await recordEvent(tx, deps, ctx, 'product.created', productView(row));
  return row;
}

export async function findOwnedProduct(ex: Executor, scope: Scope, id: string, param = 'id'): Promise<ProductRow> {
  const row = await findProductByAccountAndId(ex, scope, id);
  if (row === undefined) throw param === 'id' ? resourceMissing('product', id, param) : invalidRequest('resource_missing', `No such product: '${id}'`, param);
  return row;
}

export async function createProduct(deps: CoreDeps, ctx: RequestContext, params: ProductData): Promise<ApiObject> {
  return inTransaction(deps.database, async (tx) => {
    await claimInTransaction(tx, deps, ctx);
    const view = productView(await createProductInTx(tx, deps, ctx, params));
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

export async function retrieveProduct(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<ApiObject> {
  return productView(await findOwnedProduct(deps.database.db, scope, id));
}

/** Updates name, description, images, active or metadata; writes `product.updated` with the old values. */
export async function updateProduct(deps: CoreDeps, ctx: RequestContext, id: string, params: UpdateProductParams): Promise<ApiObject> {
  return inTransaction(deps.database, async (tx) => {
    await claimInTransaction(tx, deps, ctx);
    const current = await findOwnedProduct(tx, ctx.scope, id);
    const changes: ProductChanges = {};
    if (params.name !== undefined) changes.name = params.name;
    if (params.description !== undefined) changes.description = params.description;
    if (params.images !== undefined) changes.images = JSON.stringify(params.images ?? []);
    if (params.active !== undefined) changes.active = params.active ? 1 : 0;
    if (params.metadata !== undefined) changes.metadata = JSON.stringify(applyMetadata(JSON.parse(current.metadata) as Metadata, params.metadata));
    // Nothing to change (an empty body): the product as it is, with no write and no event.
    if (Object.keys(changes).length === 0) {
      const unchanged = productView(current);
      await completeIdempotentRequest(tx, ctx, 200, unchanged);
      return unchanged;
    }
    const updated = await recordProductUpdate(tx, current, changes, deps.clock.now());
    const view = productView(updated);
    const before = productView(current);
    const previous = Object.fromEntries(Object.keys(view).filter((key) => JSON.stringify(view[key]) !== JSON.stringify(before[key]) && key !== 'updated').map((key) => [key, before[key]]));
    await recordEvent(tx, deps, ctx, 'product.updated', view, previous);
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

/**
 * Deletes a product that no price uses (Stripe's rule: a product with prices is archived with
 * `active=false` instead, because line items and prices keep referring to it).
 */
export async function deleteProduct(deps: CoreDeps, ctx: RequestContext, id: string): Promise<ApiObject> {
  return inTransaction(deps.database, async (tx) => {
    const current = await findOwnedProduct(tx, ctx.scope, id);
    if (await productHasPrices(tx, id)) {
      throw invalidRequest('resource_in_use', `The product ${id} has prices, so it cannot be deleted; archive it with active=false instead.`, 'id');
    }
    await markProductDeleted(tx, id, deps.clock.now());
    await recordEvent(tx, deps, ctx, 'product.deleted', productView({ ...current, active: 0 }));
    return { id, object: 'product', deleted: true };
  });
}

export interface ListProductsParams extends ListParams {
  active?: boolean | null;
}

export async function listProducts(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: ListProductsParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'product', (id) => findProductByAccountAndId(db, scope, id));
  const page = await listProductsByAccount(db, scope, window, params.active == null ? {} : { active: params.active });
  return { data: page.rows.map(productView), hasMore: page.hasMore };
}
