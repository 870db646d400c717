import { sql } from 'kysely';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import { transitionRefund, type RefundState } from '../domain/refunds.js';
import type { ChargeRow, Executor, RefundRow } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

export type { RefundStatus } from '../domain/refunds.js';

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
 * of concurrent refunds (and escalations, store/disputes.ts) only those that fit under
 * amount_captured win — refunds and escalations not won count together (the CHECK on the columns
 * is the paired guarantee) — and none while an escalation is open. With `expected` (a refund of
 * "the whole remainder") it is a compare-and-set on the values read. Returns whether it was reserved.
 */
export async function reserveRefundAmount(ex: Executor, chargeId: string, amountMinor: number, expected?: { refundReservedMinor: number; disputeReservedMinor: number }): Promise<boolean> {
  let query = ex
    .updateTable('charges')
    .set({ amount_refund_reserved: sql<number>`amount_refund_reserved + ${amountMinor}` })
    .where('id', '=', chargeId)
    .where('open_escalations', '=', 0)
    .where(sql<boolean>`amount_refund_reserved + amount_dispute_reserved + ${amountMinor} <= amount_captured`);
  if (expected !== undefined) {
    query = query.where('amount_refund_reserved', '=', expected.refundReservedMinor).where('amount_dispute_reserved', '=', expected.disputeReservedMinor);
  }
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

/** A refund row's place in the status machine (domain/refunds.ts). */
export function refundStateOf(row: Pick<RefundRow, 'status' | 'sent_at'>): RefundState {
  return { status: row.status, sent: row.sent_at !== null };
}

export type RefundOutcomeFields = Partial<Pick<RefundRow, 'failure_reason' | 'failure_code' | 'external_refund_id' | 'settlement_currency' | 'settlement_amount' | 'settlement_quote' | 'balance_transaction'>>;

/**
 * Applies a move the refund status machine decided (`transitionRefund`) as a compare-and-set on
 * `from` (status and whether it was sent); null when the refund left `from` meanwhile (another
 * process recorded an outcome or a cancel first). A send stamps `sent_at`; a final status is
 * never due for the worker again.
 */
export async function moveRefund(ex: Executor, id: string, move: { from: RefundState; to: RefundState }, nowMs: number, fields: RefundOutcomeFields = {}): Promise<RefundRow | null> {
  const final = move.to.status !== 'pending';
  const result = await ex
    .updateTable('refunds')
    .set({ ...fields, status: move.to.status, updated: nowMs, ...(move.to.sent && !move.from.sent ? { sent_at: nowMs } : {}), ...(final ? { next_check_at: null } : {}) })
    .where('id', '=', id)
    .where('status', '=', move.from.status)
    .where('sent_at', move.from.sent ? 'is not' : 'is', null)
    .returningAll()
    .executeTakeFirst();
  return result ?? null;
}

/** The refund is about to go to the network: no cancel from now on. False if it moved first. */
export async function markRefundSending(ex: Executor, id: string, nowMs: number): Promise<boolean> {
  const decided = transitionRefund({ status: 'pending', sent: false }, { kind: 'send' });
  if (!decided.ok) throw new Error(decided.message);
  return (await moveRefund(ex, id, decided, nowMs)) !== null;
}

export async function updateRefundMetadata(ex: Executor, id: string, metadata: string, nowMs: number): Promise<RefundRow> {
  return ex.updateTable('refunds').set({ metadata, updated: nowMs }).where('id', '=', id).returningAll().executeTakeFirstOrThrow();
}

/** When the worker should look at a pending refund next. */
export async function scheduleRefundCheck(ex: Executor, id: string, nextCheckAtMs: number): Promise<void> {
  await ex.updateTable('refunds').set({ next_check_at: nextCheckAtMs }).where('id', '=', id).where('status', '=', 'pending').execute();
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
