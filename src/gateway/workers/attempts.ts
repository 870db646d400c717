import type { NetworkConnector } from '../connector/types.js';
import { isFinal } from '../domain/payment_attempts.js';
import { recordAttemptRequiresAttention } from '../core/attention.js';
import type { CoreDeps } from '../core/context.js';
import { inquireAndApply } from '../core/network_outcomes.js';
import { recordAttemptClosed } from '../core/payment_attempts.js';
import { inTransaction } from '../store/database.js';
import { tryMoveAttempt } from '../core/attempt_moves.js';
import type { AttemptReversal } from '../store/payment_attempts.js';
import type { PaymentAttemptRow } from '../store/schema.js';
import { REVERSAL_REFUSALS_MAX, SENDING_CHECK_DELAY_MS, WORKER_CHECKS_MAX, attemptDeadline, nextInquiryAt, nextRetryAt } from '../domain/schedule.js';

/** What a check of one attempt needs: the core's dependencies and a connector that inquires and reverses. */
export interface AttemptWork {
  deps: CoreDeps;
  connector: NetworkConnector;
  /**
   * Renews the worker's lease on the attempt and says whether it still holds it. A check makes
   * two network calls (inquire, then reverse); a lease that ran out during the first (a stalled
   * process, a clock that jumped) may have been taken by another worker, so it is asked again
   * before the second.
   */
  leaseHeld?: () => Promise<boolean>;
}

/** The worker's lease on an attempt was taken by another worker mid-check: this check stops. */
export class AttemptLeaseLost extends Error {
  override readonly name = 'AttemptLeaseLost';
}

/** Why the worker closes an open attempt; the decline code is what Alipay+ says of a closed order. */
export const CLOSE_REASONS = {
  expired: { code: 'ORDER_IS_CLOSED', message: 'The shopper did not pay before the payment expired.' },
  outcomeLost: { code: 'ORDER_IS_CLOSED', message: 'The payment request was not confirmed by Alipay+ in time, so the order was closed.' },
} as const;

type PaymentState = 'succeeded' | 'failed' | 'pending' | 'unknown' | 'amount_mismatch';

/**
 * Checks one attempt the worker holds a lease on and moves it toward a final state. Returns
 * when it is next due, or null when no more checks are needed (it is final, or its new status
 * already carries its next check).
 */
export async function checkAttempt(work: AttemptWork, attempt: PaymentAttemptRow): Promise<number | null> {
  const status = attempt.status;
  // Bounded: an attempt that got no final answer in this many checks of one status is an operator's.
  if (!isFinal(status) && attempt.checks >= WORKER_CHECKS_MAX) {
    await recordAttemptRequiresAttention(work.deps, attempt.id, `no final answer from Alipay+ after ${attempt.checks} checks in status ${status}`);
    return null;
  }
  switch (status) {
    case 'sending':
    case 'pending':
      return checkOpenAttempt(work, attempt, status);
    case 'canceling':
      return checkCancelingAttempt(work, attempt);
    case 'succeeded':
    case 'failed':
    case 'canceled':
    case 'requires_attention':
      return null;
  }
}

/**
 * An attempt with no final outcome: inquire and record what Alipay+ says (exactly as a
 * notification would). Still unpaid at its deadline: close it. A `sending` attempt that Alipay+
 * holds as unpaid is closed at once: the request path gave up on it, so no shopper ever got its
 * cashier URL or code and nobody can pay it. One that Alipay+ does not know (ORDER_NOT_EXIST,
 * after SENDING_CHECK_DELAY_MS) is recorded failed by inquireAndRecord: the pay never arrived,
 * and re-sending it now would open an order the shopper was already told is processing.
 */
async function checkOpenAttempt(work: AttemptWork, attempt: PaymentAttemptRow, status: 'sending' | 'pending'): Promise<number | null> {
  const applied = await inquireAndApply(work.deps, work.connector, attempt);
  const now = work.deps.clock.now();
  const deadline = attemptDeadline(attempt);
  switch (applied) {
    case 'succeeded':
    case 'failed':
    case 'requires_attention':
      return null;
    case 'unknown':
      return nextInquiryAt(attempt.created, deadline, now);
    case 'pending':
      if (status === 'sending') return closeOpenAttempt(work, attempt, status, CLOSE_REASONS.outcomeLost);
      if (now >= deadline) return closeOpenAttempt(work, attempt, status, CLOSE_REASONS.expired);
      return nextInquiryAt(attempt.created, deadline, now);
  }
}

/**
 * Moves the attempt to `canceling` first (a compare-and-set on the status we saw), so that a
 * success reported while the cancel is on its way is never recorded: once a cancel is requested
 * the order can only end cancelled, and money taken meanwhile is returned by the reversal.
 */
async function closeOpenAttempt(work: AttemptWork, attempt: PaymentAttemptRow, status: 'sending' | 'pending', reason: { code: string; message: string }): Promise<number | null> {
  const now = work.deps.clock.now();
  const moved = await inTransaction(work.deps.database, (tx) => tryMoveAttempt(tx, { id: attempt.id, status }, { kind: 'close' }, now, { failure_code: reason.code, failure_message: reason.message }));
  // Someone else moved it (the request path, a notification, a cancel): look again soon.
  if (!moved) return now;
  work.deps.logger.info({ payment_request_id: attempt.payment_request_id, reason: reason.message }, 'closing payment attempt at Alipay+');
  // The move restarted the count of checks (the reversal's bound and backoff count from here).
  return reverseAndRecord(work, { ...attempt, status: 'canceling', checks: 0 }, 'pending');
}

/** A cancel that has not reached the network yet, or money taken after the cancel: finish both. */
async function checkCancelingAttempt(work: AttemptWork, attempt: PaymentAttemptRow): Promise<number | null> {
  const state = await paymentState(work, attempt);
  if (state.kind === 'amount_mismatch') {
    // Paid (or closed) for another amount: returning "the money" would return the wrong sum.
    await recordAttemptRequiresAttention(work.deps, attempt.id, state.reason ?? 'amount mismatch');
    return null;
  }
  if (state.kind === 'failed') {
    // No order yet while the request path may still be re-sending the pay: it may yet appear.
    const sendsOverAt = attempt.created + SENDING_CHECK_DELAY_MS;
    if (state.code === 'ORDER_NOT_EXIST' && work.deps.clock.now() < sendsOverAt) return sendsOverAt;
    // Closed at the network (declined, expired, cancelled, or never created): nothing was taken.
    await recordAttemptClosed(work.deps, attempt.id, null);
    return null;
  }
  return reverseAndRecord(work, attempt, state.kind);
}

/**
 * Cancels at Alipay+ or, past the cancel window, refunds in full (AlipayPlusGateway.reverse), and
 * records the attempt closed with how any money went back. Without a final answer it is retried
 * later with the same request ids.
 */
async function reverseAndRecord(work: AttemptWork, attempt: PaymentAttemptRow, state: PaymentState): Promise<number | null> {
  if (work.leaseHeld !== undefined && !(await work.leaseHeld())) throw new AttemptLeaseLost(`lease on ${attempt.id} lost before its reversal`);
  const outcome = await work.connector.reverse({
    accountId: attempt.account_id,
    livemode: attempt.livemode === 1,
    paymentIntentId: attempt.payment_intent_id,
    attemptId: attempt.id,
    paymentRequestId: attempt.payment_request_id,
    amountMinor: attempt.amount,
    currency: attempt.currency,
  });
  const log = { payment_request_id: attempt.payment_request_id, payment_intent_id: attempt.payment_intent_id, amount: attempt.amount, currency: attempt.currency };
  switch (outcome.kind) {
    case 'canceled': {
      const reversal: AttemptReversal | null = state === 'succeeded' ? { kind: 'cancel', refundRequestId: null, refundId: null } : null;
      await recordAttemptClosed(work.deps, attempt.id, reversal);
      if (reversal) work.deps.logger.warn(log, 'payment made after its cancel was reversed by cancelPayment');
      return null;
    }
    case 'refunded':
      await recordAttemptClosed(work.deps, attempt.id, { kind: 'refund', refundRequestId: outcome.refundRequestId, refundId: outcome.refundId });
      work.deps.logger.warn({ ...log, refund_request_id: outcome.refundRequestId, refund_id: outcome.refundId }, 'payment made after its cancel was refunded in full (cancel window exceeded)');
      return null;
    case 'refused':
      // e.g. a refund refused because the order is still unpaid past the cancel window: it
      // closes at its expiry, which a later check sees. Bounded: refused again and again, the
      // money cannot go back without an operator.
      if (attempt.checks + 1 >= REVERSAL_REFUSALS_MAX) {
        await recordAttemptRequiresAttention(work.deps, attempt.id, `Alipay+ refused the reversal ${attempt.checks + 1} times: ${outcome.code}: ${outcome.reason}`);
        return null;
      }
      work.deps.logger.warn({ ...log, code: outcome.code, reason: outcome.reason }, 'Alipay+ refused to cancel or refund; retrying');
      return nextRetryAt(attempt.checks, work.deps.clock.now());
    case 'unknown':
      work.deps.logger.warn({ ...log, reason: outcome.reason }, 'cancel or refund not confirmed; retrying with the same request ids');
      return nextRetryAt(attempt.checks, work.deps.clock.now());
  }
}

/** The payment's state at Alipay+ without recording it (a canceling attempt is not awaited). */
async function paymentState(work: AttemptWork, attempt: PaymentAttemptRow): Promise<{ kind: PaymentState; code: string | null; reason?: string }> {
  const inquiry = await work.connector.inquire(attempt.livemode === 1, { paymentRequestId: attempt.payment_request_id, currency: attempt.currency, amountMinor: attempt.amount });
  if (!inquiry.ok) return { kind: 'unknown', code: null };
  const outcome = inquiry.outcome;
  // A paymentId other than the one pay returned is no answer about this payment.
  if (outcome.kind !== 'pending' && outcome.externalPaymentId !== null && attempt.external_payment_id !== null && outcome.externalPaymentId !== attempt.external_payment_id) {
    return { kind: 'amount_mismatch', code: null, reason: `Alipay+ reported paymentId ${outcome.externalPaymentId}, but pay returned ${attempt.external_payment_id}` };
  }
  switch (outcome.kind) {
    case 'failed':
      return { kind: 'failed', code: outcome.code };
    case 'amount_mismatch':
      return { kind: 'amount_mismatch', code: null, reason: outcome.reason };
    case 'succeeded':
    case 'pending':
      return { kind: outcome.kind, code: null };
  }
}
