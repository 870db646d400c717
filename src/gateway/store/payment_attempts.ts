import { sql } from 'kysely';
import { SENDING_CHECK_DELAY_MS } from '../domain/schedule.js';
import { OPEN_ATTEMPT_STATUSES, type PaymentAttemptStatus } from '../domain/payment_attempts.js';
import type { Executor, PaymentAttemptRow } from './schema.js';
import { Precompiled, insertParameters, insertShape } from './precompiled.js';

export type { PaymentAttemptStatus } from '../domain/payment_attempts.js';

/** Inserts an attempt in `sending`; the worker first looks at it once the request path is surely done. */
export function insertPaymentAttempt(ex: Executor, row: PaymentAttemptRow): Promise<unknown> {
  return insertStatement.execute(ex, { ...row, next_check_at: row.created + SENDING_CHECK_DELAY_MS, checks: 0 });
}

// The payment path's statements on attempts, built once (store/precompiled.ts).
const insertStatement = new Precompiled(
  (ex: Executor, row: PaymentAttemptRow) => ex.insertInto('payment_attempts').values(row).compile(),
  (row) => insertParameters(row),
  (row) => insertShape(row),
);

const byIdStatement = new Precompiled(
  (ex: Executor, id: string) => ex.selectFrom('payment_attempts').selectAll().where('id', '=', id).compile(),
  (id) => [id],
);

const byPaymentRequestIdStatement = new Precompiled(
  (ex: Executor, paymentRequestId: string) => ex.selectFrom('payment_attempts').selectAll().where('payment_request_id', '=', paymentRequestId).compile(),
  (paymentRequestId) => [paymentRequestId],
);

const countStatement = new Precompiled(
  (ex: Executor, paymentIntentId: string) => ex
    .selectFrom('payment_attempts')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('payment_intent_id', '=', paymentIntentId)
    .compile(),
  (paymentIntentId) => [paymentIntentId],
);

export async function findAttemptById(ex: Executor, id: string): Promise<PaymentAttemptRow | undefined> {
  return (await byIdStatement.execute<PaymentAttemptRow>(ex, id)).rows[0];
}

export async function findAttemptByPaymentRequestId(ex: Executor, paymentRequestId: string): Promise<PaymentAttemptRow | undefined> {
  return (await byPaymentRequestIdStatement.execute<PaymentAttemptRow>(ex, paymentRequestId)).rows[0];
}

export async function countAttemptsForIntent(ex: Executor, paymentIntentId: string): Promise<number> {
  const row = (await countStatement.execute<{ n: number | string }>(ex, paymentIntentId)).rows[0];
  if (row === undefined) throw new Error('count(*) returned no row');
  return Number(row.n);
}

/** Attempts of one intent still open at the wallet network (`sending` or `pending`). */
export function findOpenAttemptsForIntent(ex: Executor, paymentIntentId: string): Promise<PaymentAttemptRow[]> {
  return ex
    .selectFrom('payment_attempts')
    .selectAll()
    .where('payment_intent_id', '=', paymentIntentId)
    .where('status', 'in', [...OPEN_ATTEMPT_STATUSES])
    .execute();
}

export type AttemptFields = Partial<Pick<PaymentAttemptRow, 'external_payment_id' | 'failure_code' | 'failure_message' | 'expires_at' | 'next_check_at'>>;

/**
 * Applies a move the status machine decided (domain/payment_attempts.ts `transitionAttempt`) as a
 * compare-and-set on `from`: false when the attempt is no longer in `from` (another writer moved
 * it since it was read), and the caller re-reads. A new status starts a new count of worker
 * checks (the retry backoff restarts).
 */
export async function moveAttempt(
  ex: Executor,
  id: string,
  move: { from: PaymentAttemptStatus; to: PaymentAttemptStatus },
  nowMs: number,
  fields: AttemptFields = {},
): Promise<boolean> {
  const result = await moveStatement.execute(ex, id, move, nowMs, fields);
  return Number(result.numAffectedRows ?? 0n) === 1;
}

/** One text per set of extra fields a move writes (a handful: the moves of domain/payment_attempts.ts). */
const moveStatement = new Precompiled(
  (ex: Executor, id: string, move: { from: PaymentAttemptStatus; to: PaymentAttemptStatus }, nowMs: number, fields: AttemptFields) => ex
    .updateTable('payment_attempts')
    .set({ ...fields, status: move.to, updated: nowMs, checks: 0 })
    .where('id', '=', id)
    .where('status', '=', move.from)
    .compile(),
  (id, move, nowMs, fields) => [...insertParameters(fields), move.to, nowMs, 0, id, move.from],
  (_id, _move, _nowMs, fields) => insertShape(fields),
);

/** The attempt a PaymentIntent made last: the only one it can still be awaiting. */
export function findLatestAttemptForIntent(ex: Executor, paymentIntentId: string): Promise<PaymentAttemptRow | undefined> {
  return ex.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', paymentIntentId).orderBy('created', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
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
