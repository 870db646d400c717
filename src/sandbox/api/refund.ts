import { API_PATHS, amount, formatDateTime, result, type RefundRequest, type RefundResponse } from '../../alipayplus/index.js';
import type { SandboxContext } from '../core/context.js';
import { disputeFacts } from '../core/disputes.js';
import { newQuoteId, newRefundId } from '../core/ids.js';
import { escalatedMinor } from '../domain/dispute-rules.js';
import type { PaymentCurrency, SettlementCurrency } from '../domain/currencies.js';
import { isWithinRefundWindow } from '../domain/payment-rules.js';
import { settle } from '../domain/settlement.js';
import type { PaymentRow } from '../store/payments.js';
import { findClientPayment } from './payment-lookup.js';
import type { ProtocolRoute } from './protocol-route.js';
import { refundRequestSchema, wireValidator } from './wire-schema.js';

export function refundRoute(ctx: SandboxContext): ProtocolRoute {
  return { path: API_PATHS.refund, faultTarget: 'refund', validate: wireValidator(refundRequestSchema), handle: (body, clientId) => refund(ctx, body as unknown as RefundRequest, clientId) };
}

/**
 * Refunds all or part of a paid payment, synchronously. Several partial refunds are allowed
 * while their total stays within the paid amount (checked here and by a table constraint), for
 * a year after payment. A repeat of a refundRequestId returns the stored answer; a repeat with
 * other key fields is `REPEAT_REQ_INCONSISTENT`.
 */
function refund(ctx: SandboxContext, request: RefundRequest, clientId: string): RefundResponse {
  return ctx.db.transaction((): RefundResponse => {
    const payment = findClientPayment(ctx, clientId, request);
    if (!payment) return { result: result('ORDER_NOT_EXIST', 'no such payment for this client') };
    const fingerprint = JSON.stringify([payment.payment_id, request.refundAmount.currency, request.refundAmount.value]);
    const existing = ctx.refunds.findByClientAndRefundRequestId(clientId, request.refundRequestId);
    if (existing) {
      if (existing.request_fingerprint === fingerprint) return JSON.parse(existing.response_json) as RefundResponse;
      return { result: result('REPEAT_REQ_INCONSISTENT', `refundRequestId ${request.refundRequestId} was used with another payment or amount`) };
    }
    const escalated = escalatedMinor(disputeFacts(ctx.disputes.listByPaymentId(payment.payment_id)));
    const refusal = refuse(payment, escalated, request, ctx.clock.now());
    if (refusal) return { result: refusal };
    return recordRefund(ctx, payment, request, clientId, fingerprint);
  })();
}

/** `withheldMinor`: what escalations (not WON/REJECTED) withhold; refunds and escalations share the paid amount. */
function refuse(payment: PaymentRow, withheldMinor: number, request: RefundRequest, now: number) {
  if (payment.status !== 'SUCCESS') return result('ORDER_IS_CLOSED', `payment is ${payment.status}, not paid: nothing to refund`);
  if (request.refundAmount.currency !== payment.currency) {
    return result('CURRENCY_NOT_SUPPORT', `refundAmount.currency must be the payment's currency ${payment.currency}`);
  }
  if (request.refundAmount.value === '0') return result('PARAM_ILLEGAL', 'refundAmount.value must be at least 1 minor unit');
  if (!isWithinRefundWindow(payment.paid_at as number, now)) return result('REFUND_WINDOW_EXCEED', 'refunds are accepted for one year after payment');
  const remaining = Math.max(0, payment.amount_minor - payment.refunded_minor - withheldMinor);
  if (BigInt(request.refundAmount.value) > BigInt(remaining)) {
    const escalatedNote = withheldMinor > 0 ? ` (paid − refunded − ${withheldMinor} under escalation)` : '';
    return result('REFUND_AMOUNT_EXCEED', `refundAmount ${request.refundAmount.value} exceeds the refundable remainder ${remaining}${escalatedNote}`);
  }
  return null;
}

function recordRefund(ctx: SandboxContext, payment: PaymentRow, request: RefundRequest, clientId: string, fingerprint: string): RefundResponse {
  const now = ctx.clock.now();
  const amountMinor = Number(request.refundAmount.value);
  if (!ctx.payments.addRefunded(payment.payment_id, amountMinor)) {
    return { result: result('REFUND_AMOUNT_EXCEED', 'refund total would exceed the paid amount') };
  }
  const refundId = newRefundId(now);
  const { settlementAmount, settlementQuote } = settle(
    { currency: payment.currency as PaymentCurrency, amountMinor: BigInt(amountMinor) },
    payment.settlement_currency as SettlementCurrency,
    'refund',
    newQuoteId(now),
    now,
  );
  const response: RefundResponse = {
    result: result('SUCCESS'),
    refundId,
    refundRequestId: request.refundRequestId,
    refundTime: formatDateTime(now),
    refundAmount: amount(payment.currency, amountMinor),
    settlementAmount,
    settlementQuote,
  };
  ctx.refunds.insert({
    refund_id: refundId,
    client_id: clientId,
    refund_request_id: request.refundRequestId,
    payment_id: payment.payment_id,
    request_fingerprint: fingerprint,
    currency: payment.currency,
    amount_minor: amountMinor,
    reason: request.refundReason ?? null,
    created_at: now,
    response_json: JSON.stringify(response),
  });
  return response;
}
