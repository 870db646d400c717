import { claimDueRows, type LeaseClaim } from './leases.js';
import { sql } from 'kysely';
import { CANCEL_CHECK_DELAY_MS, INQUIRY_INTERVAL_FAST_MS, SENDING_CHECK_DELAY_MS } from '../workers/schedule.js';
import type { DatabaseKind } from './database.js';
import type { Executor, PaymentAttemptRow } from './schema.js';

/**
 * Attempt statuses. `sending`: recorded and committed before the network call, so a crash
 * mid-call leaves a row a worker can finish by inquiry. `pending`: the wallet network has the
 * payment and the shopper is acting. `canceling`: the PaymentIntent was canceled (or the
 * worker is closing an expired attempt) while the attempt was open; the cancel still has to
 * reach the wallet network, and money taken meanwhile must be returned. The worker's view of
 * these states is in ../workers/README.md.
 */
export type PaymentAttemptStatus = 'sending' | 'pending' | 'succeeded' | 'failed' | 'canceling' | 'canceled';

/** Statuses the worker still has business with. */
export const WORKER_STATUSES: readonly PaymentAttemptStatus[] = ['sending', 'pending', 'canceling'];

/** Inserts an attempt in `sending`; the worker first looks at it once the request path is surely done. */
export function insertPaymentAttempt(ex: Executor, row: PaymentAttemptRow): Promise<unknown> {
  return ex.insertInto('payment_attempts').values({ ...row, next_check_at: row.created + SENDING_CHECK_DELAY_MS, checks: 0 }).execute();
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
  fields: Partial<Pick<PaymentAttemptRow, 'external_payment_id' | 'failure_code' | 'failure_message' | 'expires_at' | 'next_check_at'>> = {},
): Promise<boolean> {
  const result = await ex
    .updateTable('payment_attempts')
    // A new status starts a new count of worker checks (the retry backoff restarts).
    .set({ ...fields, status: to, updated: nowMs, checks: 0 })
    .where('id', '=', id)
    .where('status', 'in', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export function markAttemptPending(ex: Executor, id: string, externalPaymentId: string | null, expiresAtMs: number | null, nowMs: number) {
  return moveAttempt(ex, id, ['sending'], 'pending', nowMs, { external_payment_id: externalPaymentId, expires_at: expiresAtMs, next_check_at: nowMs + INQUIRY_INTERVAL_FAST_MS });
}

/** `canceling` → `failed` is the worker closing an expired attempt whose PaymentIntent still awaited it. */
export function markAttemptFailed(ex: Executor, id: string, code: string, message: string, nowMs: number) {
  return moveAttempt(ex, id, ['sending', 'pending', 'canceling'], 'failed', nowMs, { failure_code: code, failure_message: message });
}

/** Never from `canceling`: once a cancel was requested the order can only end cancelled (alipayplus.md §5). */
export function markAttemptSucceeded(ex: Executor, id: string, externalPaymentId: string | null, nowMs: number) {
  return moveAttempt(ex, id, ['sending', 'pending'], 'succeeded', nowMs, externalPaymentId === null ? {} : { external_payment_id: externalPaymentId });
}

/**
 * Moves an open attempt (only from the statuses given: a compare-and-set against what the caller
 * saw) to `canceling`. `failed` is allowed for a failed attempt reported paid later: its money
 * must go back, which is the `canceling` worker's job.
 */
export function markAttemptCanceling(ex: Executor, id: string, nowMs: number, from: PaymentAttemptStatus[] = ['sending', 'pending']) {
  return moveAttempt(ex, id, from, 'canceling', nowMs, { next_check_at: nowMs + CANCEL_CHECK_DELAY_MS });
}

/**
 * The worker closing an open attempt it saw in `from` (expired, or its outcome lost): `canceling`
 * with the reason it will fail with, so the cancel is retried until the network confirms it.
 */
export function markAttemptClosing(ex: Executor, id: string, from: PaymentAttemptStatus, reason: { code: string; message: string }, nowMs: number) {
  return moveAttempt(ex, id, [from], 'canceling', nowMs, { failure_code: reason.code, failure_message: reason.message, next_check_at: nowMs + CANCEL_CHECK_DELAY_MS });
}

/** The attempt a PaymentIntent made last: the only one it can still be awaiting. */
export function findLatestAttemptForIntent(ex: Executor, paymentIntentId: string): Promise<PaymentAttemptRow | undefined> {
  return ex.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', paymentIntentId).orderBy('created', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
}

export function markAttemptCanceled(ex: Executor, id: string, nowMs: number) {
  return moveAttempt(ex, id, ['canceling'], 'canceled', nowMs);
}

export interface AttemptReversal {
  kind: 'cancel' | 'refund';
  refundRequestId: string | null;
  refundId: string | null;
}

/** Notes on the attempt how money taken after it stopped being awaited was returned. */
export async function recordAttemptReversal(ex: Executor, id: string, reversal: AttemptReversal): Promise<void> {
  await ex
    .updateTable('payment_attempts')
    .set({ reversal: reversal.kind, reversal_refund_request_id: reversal.refundRequestId, reversal_refund_id: reversal.refundId })
    .where('id', '=', id)
    .execute();
}

/** Claims due attempts the worker handles (see `claimDueRows` for the lease rules). */
export function claimDueAttempts(ex: Executor, kind: DatabaseKind, claim: LeaseClaim): Promise<PaymentAttemptRow[]> {
  return claimDueRows(ex, kind, 'payment_attempts', WORKER_STATUSES, claim);
}

/**
 * Gives the attempt back after a check: counts it and, when given, sets the next check. A no-op
 * when the lease was lost meanwhile (it expired and another process took the row).
 */
export async function releaseAttempt(ex: Executor, id: string, owner: string, nextCheckAtMs: number | null): Promise<boolean> {
  const result = await ex
    .updateTable('payment_attempts')
    .set({
      lease_owner: null,
      lease_until: null,
      checks: sql<number>`checks + 1`,
      ...(nextCheckAtMs === null ? {} : { next_check_at: nextCheckAtMs }),
    })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
