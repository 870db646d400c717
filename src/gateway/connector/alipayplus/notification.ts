import { isAmount, result, type NotifyPaymentRequest, type Result } from '../../../alipayplus/index.js';
import type { CoreDeps } from '../../core/context.js';
import { recordAttemptFailed, recordAttemptSucceeded } from '../../core/payment_attempts.js';
import { findAttemptByPaymentRequestId } from '../../store/payment_attempts.js';
import { modeOf, type Mode } from './modes.js';
import { fromNotification } from './transformers.js';

/** Acknowledge (the outcome is durably recorded, or was before), or refuse so Alipay+ sends again. */
export type NotificationDisposition = { ack: true; note: string } | { ack: false; result: Result; note: string };

/**
 * Handles a notifyPayment whose signature was already verified: the attempt must exist in this
 * mode and the amount must match what we stored before anything is recorded. Duplicates and
 * late notifications change nothing and are acknowledged again.
 */
export async function handlePaymentNotification(deps: CoreDeps, mode: Mode, body: Record<string, unknown>): Promise<NotificationDisposition> {
  const shapeProblem = checkShape(body);
  if (shapeProblem) return { ack: false, result: result('PARAM_ILLEGAL', shapeProblem), note: shapeProblem };
  const notification = body as unknown as NotifyPaymentRequest;
  const attempt = await findAttemptByPaymentRequestId(deps.database.db, notification.paymentRequestId);
  if (!attempt || modeOf(attempt.livemode === 1) !== mode) {
    return { ack: false, result: result('ORDER_NOT_EXIST', `no payment attempt ${notification.paymentRequestId} in ${mode} mode`), note: 'unknown paymentRequestId' };
  }
  const check = fromNotification(notification, { paymentRequestId: attempt.payment_request_id, currency: attempt.currency, amountMinor: attempt.amount });
  if (!check.ok) return { ack: false, result: result('PARAM_ILLEGAL', check.reason), note: check.reason };
  const outcome = check.outcome;
  switch (outcome.kind) {
    case 'succeeded': {
      const recorded = await recordAttemptSucceeded(deps, attempt.payment_request_id, { externalPaymentId: outcome.externalPaymentId, buyerId: outcome.buyerId, wallet: outcome.wallet, settlement: outcome.settlement });
      if (recorded.kind === 'not_awaited') {
        // Paid after the PaymentIntent was canceled: the attempt stays `canceling`, and the worker's
        // cancel (or, past the cancel window, refund) returns the money.
        deps.logger.warn({ payment_request_id: attempt.payment_request_id, attempt_status: attempt.status }, 'payment reported paid after its PaymentIntent stopped awaiting it');
      }
      return { ack: true, note: recorded.kind };
    }
    case 'failed': {
      const recorded = await recordAttemptFailed(deps, attempt.payment_request_id, { declineCode: outcome.code, message: outcome.message });
      return { ack: true, note: recorded.kind };
    }
    case 'pending':
      return { ack: false, result: result('PARAM_ILLEGAL', 'a notification must carry a final paymentResult'), note: 'not final' };
  }
}

function checkShape(body: Record<string, unknown>): string | null {
  if (typeof body.paymentRequestId !== 'string' || body.paymentRequestId.length === 0) return 'paymentRequestId is required';
  if (!isAmount(body.paymentAmount)) return 'paymentAmount must be an Amount with a natural-number value';
  const paymentResult = body.paymentResult as Record<string, unknown> | undefined;
  if (typeof paymentResult !== 'object' || paymentResult === null || typeof paymentResult.resultCode !== 'string' || typeof paymentResult.resultStatus !== 'string') {
    return 'paymentResult with resultCode and resultStatus is required';
  }
  if (typeof paymentResult.resultMessage !== 'string') paymentResult.resultMessage = '';
  return null;
}
