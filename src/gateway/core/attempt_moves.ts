import { transitionAttempt } from '../domain/payment_attempts.js';
import type { PaymentAttemptInput, PaymentAttemptStatus } from '../domain/payment_attempts.js';
import { firstCheckAfterMove } from '../domain/schedule.js';
import { moveAttempt, type AttemptFields } from '../store/payment_attempts.js';
import type { Executor, PaymentAttemptRow } from '../store/schema.js';
import { movedOrRetry } from './payment_intent_rules.js';

/**
 * The one way the core changes an attempt's status: the status machine decides the move from the
 * status the caller read, and the store applies it as a compare-and-set on that status. A move
 * the machine refuses is a bug in the caller (it checked the status first), so it throws.
 * Returns whether the row moved (false: another writer moved it since it was read).
 */
export async function tryMoveAttempt(tx: Executor, attempt: Pick<PaymentAttemptRow, 'id' | 'status'>, input: PaymentAttemptInput, nowMs: number, fields: AttemptFields = {}): Promise<boolean> {
  const decided = transitionAttempt(attempt.status, input);
  if (!decided.ok) throw new Error(`payment attempt ${attempt.id}: ${decided.message}`);
  const nextCheckAt = firstCheckAfterMove(decided.to, nowMs);
  return moveAttempt(tx, attempt.id, decided, nowMs, { ...(nextCheckAt === null ? {} : { next_check_at: nextCheckAt }), ...fields });
}

/** tryMoveAttempt inside a compare-and-set unit: a lost race retries the whole transaction. */
export async function moveAttemptOrRetry(tx: Executor, attempt: Pick<PaymentAttemptRow, 'id' | 'status'>, input: PaymentAttemptInput, nowMs: number, fields: AttemptFields = {}): Promise<PaymentAttemptStatus> {
  movedOrRetry(await tryMoveAttempt(tx, attempt, input, nowMs, fields));
  const decided = transitionAttempt(attempt.status, input);
  return decided.ok ? decided.to : attempt.status;
}
