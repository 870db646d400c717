import type { ConnectorPaymentNotification, ConnectorPaymentResult, NetworkConnector, NotificationDisposition } from '../connector/types.js';
import { findAttemptByPaymentRequestId } from '../store/payment_attempts.js';
import type { PaymentAttemptRow } from '../store/schema.js';
import { recordAttemptRequiresAttention } from './attention.js';
import type { CoreDeps } from './context.js';
import { recordAttemptFailed, recordAttemptSucceeded } from './payment_attempts.js';

/** Where a report of a payment's state came from: a notification is refused where an inquiry is not. */
export type OutcomeSource = 'notification' | 'inquiry';

export type AppliedOutcome =
  /** Recorded paid now, or before. */
  | 'succeeded'
  /** Recorded failed now, or it was final before. */
  | 'failed'
  /** Still with the shopper: nothing to record. */
  | 'pending'
  /** Paid, but its PaymentIntent no longer awaited it: the worker returns the money. */
  | 'not_awaited'
  | 'requires_attention'
  /** A notification whose paymentId is not the one pay returned: nothing recorded. */
  | 'refused'
  | 'unknown_attempt';

/**
 * Applies what the network reports of a payment (DESIGN.md: the same function for a notification
 * and the worker's inquiry), so a lost notification loses nothing and a duplicate changes nothing.
 * Trusts nothing it did not check: the paymentId must be the one pay returned and we stored (when
 * we have one), and a report for another amount is never recorded as paid but as requires_attention.
 */
export async function applyPaymentOutcome(
  deps: CoreDeps,
  paymentRequestId: string,
  outcome: ConnectorPaymentResult,
  source: OutcomeSource,
  /** The attempt as its caller has just read it (a notification's check); read here otherwise. */
  justRead?: PaymentAttemptRow,
): Promise<AppliedOutcome> {
  // The recording transaction re-reads the attempt under its lock; this read only checks the report.
  const attempt = justRead ?? (await findAttemptByPaymentRequestId(deps.database.db, paymentRequestId));
  if (attempt === undefined) return 'unknown_attempt';
  const reportedPaymentId = outcome.kind === 'pending' ? null : outcome.externalPaymentId;
  if (attempt.external_payment_id !== null && reportedPaymentId !== null && reportedPaymentId !== attempt.external_payment_id) {
    const reason = `Alipay+ reported paymentId ${reportedPaymentId} for ${paymentRequestId}, but pay returned ${attempt.external_payment_id}`;
    // A notification is only refused (Alipay+ sends it again); the answer to our own inquiry is a fact to look at.
    if (source === 'notification') {
      deps.logger.warn({ payment_request_id: paymentRequestId, reported_payment_id: reportedPaymentId }, 'notification refused: paymentId does not match');
      return 'refused';
    }
    return (await recordAttemptRequiresAttention(deps, attempt.id, reason)) ? 'requires_attention' : finalOf(attempt);
  }
  switch (outcome.kind) {
    case 'succeeded': {
      const recorded = await recordAttemptSucceeded(deps, paymentRequestId, {
        externalPaymentId: outcome.externalPaymentId, buyerId: outcome.buyerId, wallet: outcome.wallet, settlement: outcome.settlement,
      });
      switch (recorded.kind) {
        case 'recorded':
        case 'already_recorded':
          return 'succeeded';
        case 'not_awaited':
          // Paid after the PaymentIntent was canceled: the attempt is `canceling`, and the worker's
          // cancel (or, past the cancel window, refund) returns the money.
          deps.logger.warn({ payment_request_id: paymentRequestId, attempt_status: recorded.attempt.status, source }, 'payment reported paid after its PaymentIntent stopped awaiting it');
          return 'not_awaited';
        case 'unknown_attempt':
          return 'unknown_attempt';
      }
      break;
    }
    case 'failed': {
      const recorded = await recordAttemptFailed(deps, paymentRequestId, { declineCode: outcome.code, message: outcome.message });
      return recorded.kind === 'unknown_attempt' ? 'unknown_attempt' : 'failed';
    }
    case 'pending':
      return 'pending';
    case 'amount_mismatch':
      return (await recordAttemptRequiresAttention(deps, attempt.id, outcome.reason)) ? 'requires_attention' : finalOf(attempt);
  }
}

function finalOf(attempt: PaymentAttemptRow): AppliedOutcome {
  return attempt.status === 'succeeded' ? 'succeeded' : attempt.status === 'requires_attention' ? 'requires_attention' : 'failed';
}

/**
 * A verified notification (connector.parseNotification): it must name an attempt of its own mode,
 * for the attempt's amount, before anything is applied. Returns whether to acknowledge it.
 */
export async function applyPaymentNotification(deps: CoreDeps, notification: ConnectorPaymentNotification): Promise<NotificationDisposition> {
  const attempt = await findAttemptByPaymentRequestId(deps.database.db, notification.paymentRequestId);
  if (attempt === undefined || (attempt.livemode === 1) !== notification.livemode) {
    return { ack: false, why: 'unknown_payment', note: `no payment attempt ${notification.paymentRequestId} in ${notification.livemode ? 'live' : 'test'} mode` };
  }
  const sameAmount = notification.amount.currency === attempt.currency && notification.amount.amountMinor === attempt.amount;
  const outcome: ConnectorPaymentResult = sameAmount
    ? notification.outcome
    : { kind: 'amount_mismatch', reason: `notification for ${notification.amount.currency} ${notification.amount.amountMinor}, but the attempt is ${attempt.currency} ${attempt.amount}`, externalPaymentId: notification.outcome.externalPaymentId };
  const applied = await applyPaymentOutcome(deps, attempt.payment_request_id, outcome, 'notification', attempt);
  switch (applied) {
    case 'succeeded':
    case 'failed':
    case 'not_awaited':
    case 'pending':
      return { ack: true, note: applied };
    case 'requires_attention':
      // Recorded for the operator; still not acknowledged as a payment we accept.
      return { ack: false, why: 'invalid', note: outcome.kind === 'amount_mismatch' ? outcome.reason : 'requires attention' };
    case 'refused':
      return { ack: false, why: 'invalid', note: 'paymentId does not match the payment' };
    case 'unknown_attempt':
      return { ack: false, why: 'unknown_payment', note: `no payment attempt ${notification.paymentRequestId}` };
  }
}

export type InquiryApplied = 'succeeded' | 'failed' | 'pending' | 'unknown' | 'requires_attention';

/** Asks the network for an attempt's state and applies a final one exactly as a notification would. */
export async function inquireAndApply(deps: CoreDeps, connector: Pick<NetworkConnector, 'inquire'>, attempt: PaymentAttemptRow): Promise<InquiryApplied> {
  const inquiry = await connector.inquire(attempt.livemode === 1, { paymentRequestId: attempt.payment_request_id, currency: attempt.currency, amountMinor: attempt.amount });
  if (!inquiry.ok) {
    deps.logger.warn({ payment_request_id: attempt.payment_request_id, reason: inquiry.reason }, 'inquiryPayment gave no usable answer');
    return 'unknown';
  }
  const applied = await applyPaymentOutcome(deps, attempt.payment_request_id, inquiry.outcome, 'inquiry');
  switch (applied) {
    case 'succeeded':
    case 'failed':
    case 'pending':
    case 'requires_attention':
      return applied;
    // Recorded paid but not awaited: the attempt is `canceling` now, its own status carries the next check.
    case 'not_awaited':
      return 'succeeded';
    case 'refused':
    case 'unknown_attempt':
      return 'unknown';
  }
}
