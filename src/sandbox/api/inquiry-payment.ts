import {
  API_PATHS,
  amount,
  formatDateTime,
  result,
  type InquiryPaymentRequest,
  type InquiryPaymentResponse,
  type Result,
  type ResultCode,
} from '../../alipayplus/index.js';
import type { SandboxContext } from '../core/context.js';
import type { PaymentRow } from '../store/payments.js';
import { findClientPayment } from './payment-lookup.js';
import type { ProtocolRoute } from './protocol-route.js';
import { inquiryPaymentRequestSchema, wireValidator } from './wire-schema.js';

export function inquiryPaymentRoute(ctx: SandboxContext): ProtocolRoute {
  return {
    path: API_PATHS.inquiryPayment,
    faultTarget: 'inquiryPayment',
    validate: wireValidator(inquiryPaymentRequestSchema),
    handle: (body, clientId) => inquire(ctx, body as InquiryPaymentRequest, clientId),
  };
}

function inquire(ctx: SandboxContext, request: InquiryPaymentRequest, clientId: string): InquiryPaymentResponse {
  const payment = findClientPayment(ctx, clientId, request);
  if (!payment) return { result: result('ORDER_NOT_EXIST', 'no such payment for this client') };
  const response: InquiryPaymentResponse = {
    result: result('SUCCESS'),
    paymentResult: paymentResult(payment),
    paymentRequestId: payment.payment_request_id,
    paymentId: payment.payment_id,
    paymentAmount: amount(payment.currency, payment.amount_minor),
  };
  if (payment.customer_id) response.customerId = payment.customer_id;
  if (payment.status === 'SUCCESS') {
    response.paymentTime = formatDateTime(payment.paid_at as number);
    response.walletBrandName = payment.wallet_brand === 'ALIPAY_HK' ? 'AlipayHK' : 'Alipay';
    response.settlementAmount = amount(payment.settlement_currency, payment.settlement_amount_minor as number);
    response.settlementQuote = JSON.parse(payment.settlement_quote_json as string);
  }
  return response;
}

/** The payment's own state: S paid, F declined/expired/cancelled, U still waiting for the shopper. */
export function paymentResult(payment: PaymentRow): Result {
  switch (payment.status) {
    case 'PROCESSING':
      return result('PAYMENT_IN_PROCESS', 'payment in process');
    case 'SUCCESS':
      return result('SUCCESS');
    case 'FAIL':
      return result((payment.result_code ?? 'PROCESS_FAIL') as ResultCode);
    case 'CANCELLED':
      return result('ORDER_IS_CLOSED', 'payment was cancelled');
  }
}
