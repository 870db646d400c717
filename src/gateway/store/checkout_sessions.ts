import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import type { CheckoutLineItemRow, CheckoutSessionRow, Executor } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

export async function insertCheckoutSession(ex: Executor, row: CheckoutSessionRow, lineItems: readonly CheckoutLineItemRow[]): Promise<void> {
  await ex.insertInto('checkout_sessions').values(row).execute();
  await ex.insertInto('checkout_line_items').values([...lineItems]).execute();
}

export function findSessionByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<CheckoutSessionRow | undefined> {
  return ex
    .selectFrom('checkout_sessions')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

export function findSessionById(ex: Executor, id: string): Promise<CheckoutSessionRow | undefined> {
  return ex.selectFrom('checkout_sessions').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Line items in the order the merchant gave them; bounded by LINE_ITEMS_MAX at creation. */
export function findLineItemsOfSession(ex: Executor, sessionId: string): Promise<CheckoutLineItemRow[]> {
  return ex.selectFrom('checkout_line_items').selectAll().where('session_id', '=', sessionId).orderBy('position').execute();
}

/**
 * Moves an open session to `complete` or `expired`: a compare-and-set on `open`, so of a payment
 * and an expiry racing, exactly one wins. Returns whether it moved.
 */
export async function closeOpenSession(ex: Executor, id: string, to: { status: 'complete'; payment_status: 'paid' } | { status: 'expired'; payment_status: 'unpaid' }, nowMs: number): Promise<boolean> {
  const result = await ex
    .updateTable('checkout_sessions')
    .set({ ...to, updated: nowMs })
    .where('id', '=', id)
    .where('status', '=', 'open')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Open sessions past their expiry, oldest expiry first. */
export function findDueOpenSessions(ex: Executor, nowMs: number, limit: number): Promise<CheckoutSessionRow[]> {
  return ex.selectFrom('checkout_sessions').selectAll().where('status', '=', 'open').where('expires_at', '<=', nowMs).orderBy('expires_at').limit(limit).execute();
}

export interface SessionFilters {
  status?: string;
  payment_intent?: string;
}

export async function listSessionsByAccount(ex: Executor, scope: Scope, window: ListWindow, filters: SessionFilters) {
  let query = ex
    .selectFrom('checkout_sessions')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  if (filters.status !== undefined) query = query.where('status', '=', filters.status as CheckoutSessionRow['status']);
  if (filters.payment_intent !== undefined) query = query.where('payment_intent_id', '=', filters.payment_intent);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}

export async function findPageKey(ex: Executor, scope: Scope): Promise<string | undefined> {
  const row = await ex
    .selectFrom('checkout_page_keys')
    .select('publishable_key')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
  return row?.publishable_key;
}

export async function insertPageKey(ex: Executor, scope: Scope, publishableKey: string, nowMs: number): Promise<void> {
  await ex.insertInto('checkout_page_keys').values({ account_id: scope.accountId, livemode: bool(scope.livemode), publishable_key: publishableKey, created: nowMs }).execute();
}
