import { API_PATHS, amount, formatDateTime, parseDateTime, result, type PayRequest, type PayResponse } from '../../alipayplus/index.js';
import type { SandboxContext } from '../core/context.js';
import { newCodeValue, newPaymentId } from '../core/ids.js';
import { DEFAULT_SETTLEMENT_CURRENCY, isPaymentCurrency, isSettlementCurrency, PAYMENT_CURRENCIES, SETTLEMENT_CURRENCIES } from '../domain/currencies.js';
import { PAYMENT_EXPIRY_MS_DEFAULT, PAYMENT_EXPIRY_MS_MAX } from '../domain/payment-rules.js';
import type { NewPayment } from '../store/payments.js';
import type { ProtocolRoute } from './protocol-route.js';
import { payRequestSchema, wireValidator } from './wire-schema.js';
import { cashierUrl, walletLinks } from './links.js';

const PAYMENT_METHOD_TYPES = ['ALIPAY_CN', 'ALIPAY_HK'];

export function payRoute(ctx: SandboxContext): ProtocolRoute {
  return { path: API_PATHS.pay, faultTarget: 'pay', validate: wireValidator(payRequestSchema), handle: (body, clientId) => pay(ctx, body as unknown as PayRequest, clientId) };
}

/**
 * Creates a cashier payment, or returns the stored answer for a repeat of the same
 * paymentRequestId. A repeat whose key fields differ is `REPEAT_REQ_INCONSISTENT`.
 */
function pay(ctx: SandboxContext, request: PayRequest, clientId: string): PayResponse {
  const now = ctx.clock.now();
  const refusal = refuse(request, now);
  if (refusal) return { result: refusal };
  const fingerprint = payFingerprint(request);
  return ctx.db.transaction((): PayResponse => {
    const existing = ctx.payments.findByClientAndPaymentRequestId(clientId, request.paymentRequestId);
    if (existing) {
      if (existing.request_fingerprint !== fingerprint) {
        return { result: result('REPEAT_REQ_INCONSISTENT', `paymentRequestId ${request.paymentRequestId} was used with other paymentAmount, settlementStrategy or paymentMethod`) };
      }
      return JSON.parse(existing.pay_response_json) as PayResponse;
    }
    const payment = newPayment(ctx, request, clientId, fingerprint, now);
    ctx.payments.insert(payment);
    return JSON.parse(payment.pay_response_json) as PayResponse;
  })();
}

/** Business checks beyond the schema: currencies, amounts, terminal rules and expiry bounds. */
function refuse(request: PayRequest, now: number) {
  const { paymentAmount, order } = request;
  if (!isPaymentCurrency(paymentAmount.currency)) {
    return result('CURRENCY_NOT_SUPPORT', `paymentAmount.currency ${paymentAmount.currency} is not supported; use one of ${PAYMENT_CURRENCIES.join(', ')}`);
  }
  if (paymentAmount.value === '0') return result('PARAM_ILLEGAL', 'paymentAmount.value must be at least 1 minor unit');
  if (!isPaymentCurrency(order.orderAmount.currency)) return result('CURRENCY_NOT_SUPPORT', `order.orderAmount.currency ${order.orderAmount.currency} is not supported`);
  const settlementCurrency = request.settlementStrategy?.settlementCurrency ?? DEFAULT_SETTLEMENT_CURRENCY;
  if (!isSettlementCurrency(settlementCurrency)) {
    return result('CURRENCY_NOT_SUPPORT', `settlementStrategy.settlementCurrency ${settlementCurrency} is not supported; use one of ${SETTLEMENT_CURRENCIES.join(', ')}`);
  }
  if ((order.env.terminalType === 'WAP' || order.env.terminalType === 'APP') && !order.env.osType) {
    return result('PARAM_ILLEGAL', `order.env.osType is required for terminalType ${order.env.terminalType}`);
  }
  if (!PAYMENT_METHOD_TYPES.includes(request.paymentMethod.paymentMethodType)) {
    return result('PARAM_ILLEGAL', `paymentMethod.paymentMethodType must be one of ${PAYMENT_METHOD_TYPES.join(', ')}`);
  }
  if (request.paymentExpiryTime !== undefined) {
    const expiry = parseDateTime(request.paymentExpiryTime);
    if (expiry === null) return result('PARAM_ILLEGAL', 'paymentExpiryTime must be an ISO 8601 datetime with offset');
    if (expiry <= now || expiry - now > PAYMENT_EXPIRY_MS_MAX) return result('PARAM_ILLEGAL', 'paymentExpiryTime must be in the future and at most 48 hours away');
  }
  return null;
}

function payFingerprint(request: PayRequest): string {
  return JSON.stringify([
    request.paymentAmount.currency,
    request.paymentAmount.value,
    request.settlementStrategy?.settlementCurrency ?? null,
    request.paymentMethod.paymentMethodType,
  ]);
}

function newPayment(ctx: SandboxContext, request: PayRequest, clientId: string, fingerprint: string, now: number): NewPayment {
  const paymentId = newPaymentId(now);
  const codeValue = newCodeValue();
  const expiresAt = request.paymentExpiryTime ? (parseDateTime(request.paymentExpiryTime) as number) : now + PAYMENT_EXPIRY_MS_DEFAULT;
  const { env, merchant } = request.order;
  const response: PayResponse = {
    result: result('PAYMENT_IN_PROCESS', 'payment in process'),
    paymentId,
    paymentRequestId: request.paymentRequestId,
    paymentAmount: amount(request.paymentAmount.currency, BigInt(request.paymentAmount.value)),
    paymentCreateTime: formatDateTime(now),
    paymentExpiryTime: formatDateTime(expiresAt),
  };
  if (env.terminalType === 'WEB') {
    response.normalUrl = cashierUrl(ctx.publicUrl(), codeValue);
    response.orderCodeForm = { codeDetails: [{ codeValue, displayType: 'TEXT' }], expireTime: formatDateTime(expiresAt) };
  } else {
    Object.assign(response, walletLinks(ctx.publicUrl(), codeValue, env.osType));
  }
  return {
    payment_id: paymentId,
    client_id: clientId,
    payment_request_id: request.paymentRequestId,
    request_fingerprint: fingerprint,
    code_value: codeValue,
    currency: request.paymentAmount.currency,
    amount_minor: Number(request.paymentAmount.value),
    terminal_type: env.terminalType,
    os_type: env.osType ?? null,
    payment_method_type: request.paymentMethod.paymentMethodType,
    reference_order_id: request.order.referenceOrderId,
    order_description: request.order.orderDescription,
    merchant_name: merchant.merchantDisplayName ?? merchant.merchantName ?? merchant.referenceMerchantId,
    reference_merchant_id: merchant.referenceMerchantId,
    settlement_currency: request.settlementStrategy?.settlementCurrency ?? DEFAULT_SETTLEMENT_CURRENCY,
    notify_url: request.paymentNotifyUrl ?? null,
    redirect_url: request.paymentRedirectUrl ?? null,
    created_at: now,
    expires_at: expiresAt,
    pay_response_json: JSON.stringify(response),
  };
}
