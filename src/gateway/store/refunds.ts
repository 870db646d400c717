import { claimDueRows, type LeaseClaim } from './leases.js';
import { sql } from 'kysely';
import type { DatabaseKind } from './database.js';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import type { ChargeRow, Executor, RefundRow } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/**
 * Refund statuses (api.md §4). `pending` with `sent_at` null: recorded, not yet sent to the
 * wallet network (only then can it be canceled); `pending` with `sent_at`: sent, outcome not
 * final yet (the worker re-sends it with the same refundRequestId).
 */
export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

export function insertRefund(ex: Executor, row: RefundRow): Promise<unknown> {
  return ex.insertInto('refunds').values(row).execute();
}

export function findRefundById(ex: Executor, id: string): Promise<RefundRow | undefined> {
  return ex.selectFrom('refunds').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findRefundByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<RefundRow | undefined> {
  return ex
    .selectFrom('refunds')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

export interface RefundFilters {
  paymentIntent?: string;
  charge?: string;
}

export async function listRefundsByAccount(ex: Executor, scope: Scope, window: ListWindow, filters: RefundFilters) {
  let query = ex
    .selectFrom('refunds')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  if (filters.paymentIntent !== undefined) query = query.where('payment_intent_id', '=', filters.paymentIntent);
  if (filters.charge !== undefined) query = query.where('charge_id', '=', filters.charge);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}

/**
 * Reserves `amountMinor` of the charge for a new refund: one conditional UPDATE, so of any number
 * of concurrent refunds only those that fit under amount_captured win (the CHECK on the column
 * is the paired guarantee). With `expectedReservedMinor` (a refund of "the whole remainder") it
 * is a compare-and-set on the value read. Returns whether it was reserved.
 */
export async function reserveRefundAmount(ex: Executor, chargeId: string, amountMinor: number, expectedReservedMinor?: number): Promise<boolean> {
  let query = ex
    .updateTable('charges')
    .set({ amount_refund_reserved: sql<number>`amount_refund_reserved + ${amountMinor}` })
    .where('id', '=', chargeId)
    .where(sql<boolean>`amount_refund_reserved + ${amountMinor} <= amount_captured`);
  if (expectedReservedMinor !== undefined) query = query.where('amount_refund_reserved', '=', expectedReservedMinor);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Gives back the reservation of a refund that failed or was canceled. */
export async function releaseRefundReservation(ex: Executor, chargeId: string, amountMinor: number): Promise<void> {
  await ex
    .updateTable('charges')
    .set({ amount_refund_reserved: sql<number>`amount_refund_reserved - ${amountMinor}` })
    .where('id', '=', chargeId)
    .execute();
}

/** Adds a succeeded refund to the charge's amount_refunded (always within its reservation). */
export async function recordChargeRefunded(ex: Executor, chargeId: string, amountMinor: number): Promise<ChargeRow> {
  return ex
    .updateTable('charges')
    .set({ amount_refunded: sql<number>`amount_refunded + ${amountMinor}` })
    .where('id', '=', chargeId)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The refund is about to go to the network: no cancel from now on. False if it moved first. */
export async function markRefundSending(ex: Executor, id: string, nowMs: number): Promise<boolean> {
  const result = await ex
    .updateTable('refunds')
    .set({ sent_at: nowMs, updated: nowMs })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('sent_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

type OutcomeFields = Partial<Pick<RefundRow, 'failure_reason' | 'failure_code' | 'external_refund_id' | 'settlement_currency' | 'settlement_amount' | 'settlement_quote' | 'balance_transaction'>>;

/**
 * Moves a pending refund to a final status; false when it is no longer pending (another
 * process recorded the outcome first). `unsentOnly`: only if it was never sent (cancel).
 */
export async function markRefundFinal(ex: Executor, id: string, to: Exclude<RefundStatus, 'pending'>, nowMs: number, fields: OutcomeFields = {}, unsentOnly = false): Promise<RefundRow | null> {
  let query = ex
    .updateTable('refunds')
    .set({ ...fields, status: to, updated: nowMs, next_check_at: null })
    .where('id', '=', id)
    .where('status', '=', 'pending');
  if (unsentOnly) query = query.where('sent_at', 'is', null);
  return (await query.returningAll().executeTakeFirst()) ?? null;
}

export async function updateRefundMetadata(ex: Executor, id: string, metadata: string, nowMs: number): Promise<RefundRow> {
  return ex.updateTable('refunds').set({ metadata, updated: nowMs }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** When the worker should look at a pending refund next. */
export async function scheduleRefundCheck(ex: Executor, id: string, nextCheckAtMs: number): Promise<void> {
  await ex.updateTable('refunds').set({ next_check_at: nextCheckAtMs }).where('id', '=', id).where('status', '=', 'pending').execute();
}

/** Claims due pending refunds for `owner` (see `claimDueRows` for the lease rules). */
export function claimDueRefunds(ex: Executor, kind: DatabaseKind, claim: LeaseClaim): Promise<RefundRow[]> {
  return claimDueRows(ex, kind, 'refunds', ['pending'], claim);
}

/** Gives a refund back after a check, counting it; a no-op when the lease was lost meanwhile. */
export async function releaseRefund(ex: Executor, id: string, owner: string, nextCheckAtMs: number | null): Promise<void> {
  await ex
    .updateTable('refunds')
    .set({ lease_owner: null, lease_until: null, checks: sql<number>`checks + 1`, ...(nextCheckAtMs === null ? {} : { next_check_at: nextCheckAtMs }) })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}
