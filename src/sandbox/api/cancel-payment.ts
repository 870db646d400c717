import { API_PATHS, formatDateTime, result, type CancelPaymentRequest, type CancelPaymentResponse } from '../../alipayplus/index.js';
import type { SandboxContext } from '../core/context.js';
import { cancelWindowEnd } from '../domain/payment-rules.js';
import { findClientPayment } from './payment-lookup.js';
import type { ProtocolRoute } from './protocol-route.js';
import { cancelPaymentRequestSchema, wireValidator } from './wire-schema.js';

export function cancelPaymentRoute(ctx: SandboxContext): ProtocolRoute {
  return {
    path: API_PATHS.cancelPayment,
    faultTarget: 'cancelPayment',
    validate: wireValidator(cancelPaymentRequestSchema),
    handle: (body, clientId) => cancel(ctx, body as CancelPaymentRequest, clientId),
  };
}

/**
 * Cancels a payment within its window (until 00:15 UTC+8 the next day): an unpaid one is closed,
 * a paid one is reversed. Once cancelled it stays cancelled: a later shopper payment is refused.
 * Cancelling an already closed payment succeeds again (idempotent on paymentRequestId).
 */
function cancel(ctx: SandboxContext, request: CancelPaymentRequest, clientId: string): CancelPaymentResponse {
  return ctx.db.transaction((): CancelPaymentResponse => {
    const payment = findClientPayment(ctx, clientId, request);
    if (!payment) return { result: result('ORDER_NOT_EXIST', 'no such payment for this client') };
    const now = ctx.clock.now();
    const done = (cancelTime: number): CancelPaymentResponse => ({
      result: result('SUCCESS'),
      paymentId: payment.payment_id,
      paymentRequestId: payment.payment_request_id,
      cancelTime: formatDateTime(cancelTime),
    });
    if (payment.status === 'CANCELLED' || payment.status === 'FAIL') return done(payment.closed_at ?? now);
    if (now >= cancelWindowEnd(payment.created_at)) {
      return { result: result('CANCEL_WINDOW_EXCEED', `the cancel window closed at ${formatDateTime(cancelWindowEnd(payment.created_at))}; refund instead`) };
    }
    if (payment.refunded_minor > 0) return { result: result('PROCESS_FAIL', 'payment has refunds; refund the remainder instead of cancelling') };
    ctx.payments.markCancelled(payment.payment_id, now);
    return done(now);
  })();
}
