import type { Executor, PendingConfirmRow } from './schema.js';

/**
 * What crash recovery keeps beside the idempotency keys (core/recovery.ts): the PaymentIntents
 * created with `confirm: true` whose first attempt is not started yet, and the short leases a
 * retry takes on an attempt or refund it re-sends, so the worker does not work it meanwhile.
 */

export function insertPendingConfirm(ex: Executor, row: Omit<PendingConfirmRow, 'tries'>): Promise<unknown> {
  return ex.insertInto('pending_confirms').values(row).execute();
}

/** Gone with the transaction that starts the PaymentIntent's first attempt, or when its confirm was refused. */
export async function deletePendingConfirm(ex: Executor, paymentIntentId: string): Promise<void> {
  await ex.deleteFrom('pending_confirms').where('payment_intent_id', '=', paymentIntentId).execute();
}

export function findDuePendingConfirms(ex: Executor, nowMs: number, limit: number): Promise<PendingConfirmRow[]> {
  return ex.selectFrom('pending_confirms').selectAll().where('due_at', '<=', nowMs).orderBy('due_at').limit(limit).execute();
}

/**
 * Takes a due row for one try: a compare-and-set on the `due_at` that was read, which also moves
 * it to the next try's time, so of several worker processes one works it and a crash mid-try
 * only delays it.
 */
export async function takePendingConfirm(ex: Executor, row: Pick<PendingConfirmRow, 'payment_intent_id' | 'due_at' | 'tries'>, nextDueAtMs: number): Promise<boolean> {
  const result = await ex
    .updateTable('pending_confirms')
    .set({ due_at: nextDueAtMs, tries: row.tries + 1 })
    .where('payment_intent_id', '=', row.payment_intent_id)
    .where('due_at', '=', row.due_at)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * A retry re-sending a `sending` attempt holds the attempt's worker lease meanwhile, so the worker
 * does not inquire (and close) an order the re-send is about to create. Only a free lease is taken.
 */
export async function takeAttemptForResend(ex: Executor, attemptId: string, owner: string, nowMs: number, leaseUntilMs: number): Promise<boolean> {
  const result = await ex
    .updateTable('payment_attempts')
    .set({ lease_owner: owner, lease_until: leaseUntilMs })
    .where('id', '=', attemptId)
    .where('status', '=', 'sending')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function releaseAttemptAfterResend(ex: Executor, attemptId: string, owner: string): Promise<void> {
  await ex.updateTable('payment_attempts').set({ lease_owner: null, lease_until: null }).where('id', '=', attemptId).where('lease_owner', '=', owner).execute();
}

/** The same for a pending refund a retry re-sends with its refundRequestId. */
export async function takeRefundForResend(ex: Executor, refundId: string, owner: string, nowMs: number, leaseUntilMs: number): Promise<boolean> {
  const result = await ex
    .updateTable('refunds')
    .set({ lease_owner: owner, lease_until: leaseUntilMs })
    .where('id', '=', refundId)
    .where('status', '=', 'pending')
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function releaseRefundAfterResend(ex: Executor, refundId: string, owner: string): Promise<void> {
  await ex.updateTable('refunds').set({ lease_owner: null, lease_until: null }).where('id', '=', refundId).where('lease_owner', '=', owner).execute();
}
