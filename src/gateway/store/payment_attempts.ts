import type { Executor, PaymentAttemptRow } from './schema.js';

/**
 * Attempt statuses. `sending`: recorded and committed before the network call, so a crash
 * mid-call leaves a row a worker can finish by inquiry. `pending`: the wallet network has the
 * payment and the shopper is acting. `canceling`: the PaymentIntent was canceled while the
 * attempt was open; the cancel still has to reach the wallet network.
 */
export type PaymentAttemptStatus = 'sending' | 'pending' | 'succeeded' | 'failed' | 'canceling' | 'canceled';

export function insertPaymentAttempt(ex: Executor, row: PaymentAttemptRow): Promise<unknown> {
  return ex.insertInto('payment_attempts').values(row).execute();
}

export function findAttemptById(ex: Executor, id: string): Promise<PaymentAttemptRow | undefined> {
  return ex.selectFrom('payment_attempts').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findAttemptByPaymentRequestId(ex: Executor, paymentRequestId: string): Promise<PaymentAttemptRow | undefined> {
  return ex.selectFrom('payment_attempts').selectAll().where('payment_request_id', '=', paymentRequestId).executeTakeFirst();
}

export async function countAttemptsForIntent(ex: Executor, paymentIntentId: string): Promise<number> {
  const row = await ex
    .selectFrom('payment_attempts')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('payment_intent_id', '=', paymentIntentId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Attempts of one intent still open at the wallet network (`sending` or `pending`). */
export function findOpenAttemptsForIntent(ex: Executor, paymentIntentId: string): Promise<PaymentAttemptRow[]> {
  return ex
    .selectFrom('payment_attempts')
    .selectAll()
    .where('payment_intent_id', '=', paymentIntentId)
    .where('status', 'in', ['sending', 'pending'])
    .execute();
}

/** Moves an attempt from `from` to `to` only if it is still in `from`; returns whether it moved. */
async function moveAttempt(
  ex: Executor,
  id: string,
  from: PaymentAttemptStatus[],
  to: PaymentAttemptStatus,
  nowMs: number,
  fields: Partial<Pick<PaymentAttemptRow, 'external_payment_id' | 'failure_code' | 'failure_message' | 'expires_at'>> = {},
): Promise<boolean> {
  const result = await ex
    .updateTable('payment_attempts')
    .set({ ...fields, status: to, updated: nowMs })
    .where('id', '=', id)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function markAttemptPending(ex: Executor, id: string, externalPaymentId: string | null, expiresAtMs: number | null, nowMs: number) {
  return moveAttempt(ex, id, ['sending'], 'pending', nowMs, { external_payment_id: externalPaymentId, expires_at: expiresAtMs });
}

export function markAttemptFailed(ex: Executor, id: string, code: string, message: string, nowMs: number) {
  return moveAttempt(ex, id, ['sending', 'pending'], 'failed', nowMs, { failure_code: code, failure_message: message });
}

export function markAttemptSucceeded(ex: Executor, id: string, externalPaymentId: string | null, nowMs: number) {
  return moveAttempt(ex, id, ['sending', 'pending', 'canceling'], 'succeeded', nowMs, externalPaymentId === null ? {} : { external_payment_id: externalPaymentId });
}

export function markAttemptCanceling(ex: Executor, id: string, nowMs: number) {
  return moveAttempt(ex, id, ['sending', 'pending'], 'canceling', nowMs);
}

export function markAttemptCanceled(ex: Executor, id: string, nowMs: number) {
  return moveAttempt(ex, id, ['canceling'], 'canceled', nowMs);
}
