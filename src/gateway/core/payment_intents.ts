import { invalidRequest, parameterMissing, resourceMissing, unexpectedState } from '../errors.js';
import { newClientSecret } from '../ids.js';
import type { Metadata } from '../domain/metadata.js';
import { initialStatus, paymentFieldsEditable, transition } from '../domain/payment_intents.js';
import type { PaymentIntentStatus } from '../domain/payment_intents.js';
import { inTransaction } from '../store/database.js';
import { findByAccountAndId, insertPaymentIntent, listByAccount, recordMerchantUpdate, searchByAccount } from '../store/payment_intents.js';
import type { MerchantFields as StoredMerchantFields, SearchClause } from '../store/payment_intents.js';
import type { PaymentIntentRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';
import { recordEvent } from './events.js';
import { claimAndCompleteInTransaction, claimInTransaction, completeIdempotentRequest } from './idempotency.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import type { CreatePaymentIntentParams, UpdatePaymentIntentParams } from './params.js';
import { paymentIntentView } from './views.js';
import type { ApiObject } from './views.js';
import { STRANDED_CONFIRM_DELAY_MS, confirmCreatedIntent } from './recovery.js';
import { insertPendingConfirm } from '../store/recovery.js';
import { applyMetadata, checkPaymentFields, findOwnedIntent, mergeAlipayOptions, resolvePaymentMethod, sameSecret, won, withCasRetries } from './payment_intent_rules.js';

/**
 * Creates a PaymentIntent (status `requires_payment_method`, or `requires_confirmation` with a
 * payment method) and, with `confirm: true`, confirms it at once. Amount in the smallest unit.
 */
export async function createPaymentIntent(deps: CoreDeps, ctx: RequestContext, params: CreatePaymentIntentParams): Promise<ApiObject> {
  checkPaymentFields(params);
  if (params.confirm === true) {
    // Checked before anything is written, so a refused create+confirm leaves no PaymentIntent behind.
    if (params.return_url == null) throw parameterMissing('return_url', 'return_url is required to confirm an Alipay payment.');
    if (params.payment_method == null && params.payment_method_data == null) {
      throw parameterMissing('payment_method_data', 'Pass payment_method_data: {type: "alipay"} or payment_method to confirm.');
    }
  }
  const options = mergeAlipayOptions(null, params.payment_method_options);
  const metadata = applyMetadata({}, params.metadata);
  const id = deps.ids.next('pi');
  const confirm = params.confirm === true;
  let createdRow: PaymentIntentRow | undefined;
  const view = await inTransaction(deps.database, async (tx) => {
    // With confirm: true the create commits before the confirm starts: the key's recovery point and
    // the pending confirm name this PaymentIntent, so a retry or the worker confirms this one.
    // Without confirm the key is claimed with its response by the last statement (below).
    if (confirm) await claimInTransaction(tx, deps, ctx, { step: 'confirm', paymentIntent: id, attempt: null });
    const paymentMethod = (await resolvePaymentMethod(tx, deps, ctx.scope, params)) ?? null;
    const now = deps.clock.now();
    const row: PaymentIntentRow = {
      id,
      account_id: ctx.scope.accountId,
      livemode: ctx.scope.livemode ? 1 : 0,
      created: now,
      updated: now,
      version: 1,
      status: initialStatus(paymentMethod !== null),
      amount: params.amount,
      amount_received: 0,
      currency: params.currency,
      client_secret: newClientSecret(id),
      capture_method: 'automatic',
      confirmation_method: 'automatic',
      payment_method_types: JSON.stringify(params.payment_method_types ?? ['alipay']),
      payment_method_options: options,
      payment_method: paymentMethod,
      return_url: params.return_url ?? null,
      description: params.description ?? null,
      metadata: JSON.stringify(metadata),
      merchant_order_id: params.merchant_order_id ?? null,
      merchant_user_id: params.merchant_user_id ?? null,
      shipping: params.shipping == null ? null : JSON.stringify(params.shipping),
      receipt_email: params.receipt_email ?? null,
      statement_descriptor: params.statement_descriptor ?? null,
      customer: params.customer ?? null,
      next_action: null,
      last_payment_error: null,
      latest_charge: null,
      canceled_at: null,
      cancellation_reason: null,
      checkout_session: null,
    };
    await insertPaymentIntent(tx, row);
    createdRow = row;
    const created = paymentIntentView(row);
    await recordEvent(tx, deps, ctx, 'payment_intent.created', created);
    if (confirm) {
      await insertPendingConfirm(tx, {
        payment_intent_id: id, account_id: row.account_id, livemode: row.livemode, idempotency_key: ctx.idempotency?.key ?? null, created: now, due_at: now + STRANDED_CONFIRM_DELAY_MS,
      });
    } else {
      await claimAndCompleteInTransaction(tx, deps, ctx, 200, created);
    }
    return created;
  });
  // The confirm starts from the row just committed instead of reading it back.
  return confirm ? confirmCreatedIntent(deps, ctx, id, createdRow) : view;
}

/** Retrieves with a secret key, or with a publishable key and the intent's client secret. */
export async function retrievePaymentIntent(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string, clientSecret?: string): Promise<ApiObject> {
  const row = await findOwnedIntent(deps.database.db, scope, id);
  if (clientSecret !== undefined && !sameSecret(row.client_secret, clientSecret)) throw resourceMissing('payment_intent', id);
  return paymentIntentView(row);
}

const PAYMENT_FIELDS = [
  'amount', 'currency', 'payment_method', 'payment_method_data', 'payment_method_options', 'payment_method_types', 'return_url', 'statement_descriptor', 'customer',
] as const;

/**
 * Updates a PaymentIntent. Descriptive fields (metadata, description, order/user ids, shipping,
 * receipt_email) may change in any status; payment fields only before confirmation.
 */
export async function updatePaymentIntent(deps: CoreDeps, ctx: RequestContext, id: string, params: UpdatePaymentIntentParams): Promise<ApiObject> {
  checkPaymentFields(params);
  return withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      await claimInTransaction(tx, deps, ctx);
      const current = await findOwnedIntent(tx, ctx.scope, id);
      // Nothing given (an empty body): the intent as it is, in any status, with no write.
      if (Object.values(params).every((value) => value === undefined)) {
        const unchanged = paymentIntentView(current);
        await completeIdempotentRequest(tx, ctx, 200, unchanged);
        return unchanged;
      }
      const status = current.status as PaymentIntentStatus;
      const changed = PAYMENT_FIELDS.find((field) => params[field] !== undefined);
      if (changed !== undefined && !paymentFieldsEditable(status)) {
        throw unexpectedState(`You cannot update ${changed} of this PaymentIntent because it has a status of ${status}.`, paymentIntentView(current));
      }
      const paymentMethod = await resolvePaymentMethod(tx, deps, ctx.scope, params);
      const nextStatus = paymentMethod === undefined ? status : attachStatus(status);
      const fields: StoredMerchantFields = {
        ...pick(params, ['amount', 'currency', 'description', 'merchant_order_id', 'merchant_user_id', 'return_url', 'receipt_email', 'statement_descriptor', 'customer']),
        status: nextStatus,
        metadata: JSON.stringify(applyMetadata(JSON.parse(current.metadata) as Metadata, params.metadata)),
        payment_method_options: mergeAlipayOptions(current.payment_method_options, params.payment_method_options),
        ...(paymentMethod === undefined ? {} : { payment_method: paymentMethod }),
        ...(params.payment_method_types === undefined ? {} : { payment_method_types: JSON.stringify(params.payment_method_types ?? ['alipay']) }),
        ...(params.shipping === undefined ? {} : { shipping: params.shipping === null ? null : JSON.stringify(params.shipping) }),
      };
      const updated = won(await recordMerchantUpdate(tx, current, fields, deps.clock.now()));
      const view = paymentIntentView(updated);
      await completeIdempotentRequest(tx, ctx, 200, view);
      return view;
    }),
  );
}

function attachStatus(status: PaymentIntentStatus): PaymentIntentStatus {
  const next = transition(status, { kind: 'payment_method_attached' });
  if (!next.ok) throw unexpectedState(`You cannot update this PaymentIntent because ${next.message}.`);
  return next.status;
}

/** The given keys whose values are not undefined (null stays: it unsets the column). */
function pick<T extends object, K extends keyof T>(source: T, keys: readonly K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

export interface ListPaymentIntentsParams extends ListParams {
  customer?: string | null;
}

export async function listPaymentIntents(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: ListPaymentIntentsParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'payment_intent', (id) => findByAccountAndId(db, scope, id));
  const page = await listByAccount(db, scope, window, params.customer == null ? {} : { customer: params.customer });
  return { data: page.rows.map(paymentIntentView), hasMore: page.hasMore };
}

export interface SearchParams {
  query: string;
  limit?: number | null;
  /** The `next_page` of the previous result. */
  page?: string | null;
}

/** Search (WooshPay): `merchant_order_id:'x'`, `status:'succeeded'`, `metadata['k']:'v'`, joined by AND. */
export async function searchPaymentIntents(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: SearchParams): Promise<Page<ApiObject> & { nextPage: string | null }> {
  const db = deps.database.db;
  const clauses = parseSearchQuery(params.query);
  const window = await listWindow({ limit: params.limit ?? null, starting_after: params.page ?? null }, 'payment_intent', (id) => findByAccountAndId(db, scope, id));
  const page = await searchByAccount(db, deps.database.kind, scope, clauses, window);
  const data = page.rows.map(paymentIntentView);
  return { data, hasMore: page.hasMore, nextPage: page.hasMore ? page.rows[page.rows.length - 1]!.id : null };
}

/** Clauses of a search query are bounded so one request stays one indexed query. */
const SEARCH_CLAUSES_MAX = 10;
const CLAUSE = /^(merchant_order_id|status|metadata\[(?:'([^'"]{1,40})'|"([^'"]{1,40})")\])\s*:\s*(?:'([^']*)'|"([^"]*)")$/;

export function parseSearchQuery(query: string): SearchClause[] {
  const parts = query.trim().split(/\s+AND\s+/i);
  if (query.trim() === '' || parts.length > SEARCH_CLAUSES_MAX) {
    throw invalidRequest('parameter_invalid', `query must hold 1 to ${SEARCH_CLAUSES_MAX} clauses joined by AND, got "${query}".`, 'query');
  }
  return parts.map((part) => {
    const match = CLAUSE.exec(part.trim());
    if (match === null) {
      throw invalidRequest('parameter_invalid', `Cannot parse "${part}" in query: use merchant_order_id:'x', status:'succeeded' or metadata['key']:'value'.`, 'query');
    }
    const value = match[4] ?? match[5] ?? '';
    if (match[1] === 'merchant_order_id' || match[1] === 'status') return { field: match[1], value };
    return { field: 'metadata', key: match[2] ?? match[3] ?? '', value };
  });
}
