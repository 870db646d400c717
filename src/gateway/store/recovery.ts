import type { Executor, PendingConfirmRow } from './schema.js';
import { Precompiled, insertParameters, insertShape } from './precompiled.js';

/**
 * What crash recovery keeps beside the idempotency keys (core/recovery.ts): the PaymentIntents
 * created with `confirm: true` whose first attempt is not started yet. (The lease a retry takes on
 * an attempt or refund it re-sends is the worker's own, store/leases.ts.)
 */

export function insertPendingConfirm(ex: Executor, row: Omit<PendingConfirmRow, 'tries'>): Promise<unknown> {
  return insertStatement.execute(ex, row);
}

/** Gone with the transaction that starts the PaymentIntent's first attempt, or when its confirm was refused. */
export async function deletePendingConfirm(ex: Executor, paymentIntentId: string): Promise<void> {
  await deleteStatement.execute(ex, paymentIntentId);
}

// Both run on every create with confirm: true, built once.
const insertStatement = new Precompiled(
  (ex: Executor, row: Omit<PendingConfirmRow, 'tries'>) => ex.insertInto('pending_confirms').values(row).compile(),
  (row) => insertParameters(row),
  (row) => insertShape(row),
);

const deleteStatement = new Precompiled(
  (ex: Executor, paymentIntentId: string) => ex.deleteFrom('pending_confirms').where('payment_intent_id', '=', paymentIntentId).compile(),
  (paymentIntentId) => [paymentIntentId],
);

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
