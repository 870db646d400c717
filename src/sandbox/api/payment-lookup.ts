import type { SandboxContext } from '../core/context.js';
import { expireDuePayments } from '../core/outcomes.js';
import type { PaymentRow } from '../store/payments.js';

/**
 * Finds the client's payment by paymentId or paymentRequestId (both must agree when both are
 * given). Another client's payment is never found. Due expiries are applied first so the state
 * read is exact to the clock.
 */
export function findClientPayment(ctx: SandboxContext, clientId: string, ref: { paymentId?: string; paymentRequestId?: string }): PaymentRow | undefined {
  expireDuePayments(ctx);
  const payment = ref.paymentId ? ctx.payments.findByPaymentId(ref.paymentId) : ctx.payments.findByClientAndPaymentRequestId(clientId, ref.paymentRequestId ?? '');
  if (!payment || payment.client_id !== clientId) return undefined;
  if (ref.paymentRequestId !== undefined && payment.payment_request_id !== ref.paymentRequestId) return undefined;
  return payment;
}
