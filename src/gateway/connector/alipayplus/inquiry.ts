import type { CoreDeps } from '../../core/context.js';
import { recordAttemptFailed, recordAttemptSucceeded } from '../../core/payment_attempts.js';
import type { PaymentAttemptRow } from '../../store/schema.js';
import type { AlipayPlusGateway } from './modes.js';

export type InquiryApplied = 'succeeded' | 'failed' | 'pending' | 'unknown';

/**
 * Asks Alipay+ for an attempt's state and records a final one exactly as a notification would
 * (same idempotent core functions), so a lost notification loses nothing.
 */
export async function inquireAndRecord(deps: CoreDeps, alipayPlus: AlipayPlusGateway, attempt: PaymentAttemptRow): Promise<InquiryApplied> {
  const inquiry = await alipayPlus.inquire(attempt.livemode === 1, { paymentRequestId: attempt.payment_request_id, currency: attempt.currency, amountMinor: attempt.amount });
  if (!inquiry.ok) {
    deps.logger.warn({ payment_request_id: attempt.payment_request_id, reason: inquiry.reason }, 'inquiryPayment gave no usable answer');
    return 'unknown';
  }
  const outcome = inquiry.outcome;
  switch (outcome.kind) {
    case 'succeeded':
      await recordAttemptSucceeded(deps, attempt.payment_request_id, { externalPaymentId: outcome.externalPaymentId, buyerId: outcome.buyerId, wallet: outcome.wallet, settlement: outcome.settlement });
      return 'succeeded';
    case 'failed':
      await recordAttemptFailed(deps, attempt.payment_request_id, { declineCode: outcome.code, message: outcome.message });
      return 'failed';
    case 'pending':
      return 'pending';
  }
}
