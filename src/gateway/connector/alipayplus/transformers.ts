import {
  AlipayPlusError,
  amount,
  amountsEqual,
  formatDateTime,
  parseDateTime,
  type CancelPaymentRequest,
  type InquiryPaymentResponse,
  type NotifyPaymentRequest,
  type PayRequest,
  type PayResponse,
  type RefundRequest,
  type RefundResponse,
  type SettlementQuote,
} from '../../../alipayplus/index.js';
import type {
  ConnectorAmount,
  ConnectorExpectedPayment,
  ConnectorPaymentResult,
  ConnectorCancelOutcome,
  ConnectorCancelRequest,
  ConnectorPayOutcome,
  ConnectorPayRequest,
  ConnectorRefundOutcome,
  ConnectorRefundRequest,
  ConnectorReverseOutcome,
  ConnectorReverseRequest,
} from '../types.js';

/**
 * Pure mappings between the gateway's payment attempts and Alipay+ wire types. No I/O, clock or
 * randomness: ids, URLs and `now` come in as arguments, so every mapping is tested directly.
 */

/** How long the shopper has to pay an attempt (Alipay+'s cashier default). */
export const ATTEMPT_TTL_MS = 14 * 60 * 1000;
/** Alipay+'s cashier for Alipay CN wallets (our choice; ALIPAY_HK serves AlipayHK). */
export const PAYMENT_METHOD_TYPE = 'ALIPAY_CN';
const ORDER_DESCRIPTION_MAX = 256;

export interface PayContext {
  /** Where Alipay+ sends notifyPayment for this mode. */
  notifyUrl: string;
  /** The gateway's return handler for this attempt; it checks the real status before sending the shopper to return_url. */
  redirectUrl: string;
}

export function toPayRequest(attempt: ConnectorPayRequest, context: PayContext): PayRequest {
  const paymentAmount = amount(attempt.currency, attempt.amountMinor);
  const request: PayRequest = {
    paymentRequestId: attempt.paymentRequestId,
    paymentAmount,
    order: {
      referenceOrderId: attempt.merchantOrderId ?? attempt.paymentIntentId,
      orderDescription: (attempt.description ?? `Payment ${attempt.paymentIntentId}`).slice(0, ORDER_DESCRIPTION_MAX),
      orderAmount: paymentAmount,
      merchant: { referenceMerchantId: attempt.accountId, ...(attempt.merchantName ? { merchantName: attempt.merchantName } : {}) },
      env: {
        terminalType: attempt.terminalType,
        ...(attempt.osType ? { osType: attempt.osType } : {}),
        ...(attempt.clientIp ? { clientIp: attempt.clientIp } : {}),
      },
    },
    paymentFactor: { isCashierPayment: 'true' },
    paymentMethod: { paymentMethodType: PAYMENT_METHOD_TYPE },
    paymentNotifyUrl: context.notifyUrl,
    paymentRedirectUrl: context.redirectUrl,
    paymentExpiryTime: formatDateTime(attempt.createdAtMs + ATTEMPT_TTL_MS),
    settlementStrategy: { settlementCurrency: attempt.settlementCurrency },
  };
  return request;
}

/** A created cashier order becomes `requires_action` with where to send the shopper. */
export function fromPayResponse(attempt: ConnectorPayRequest, response: PayResponse): ConnectorPayOutcome {
  const expiresAtMs = parseDateTime(response.paymentExpiryTime) ?? parseDateTime(response.orderCodeForm?.expireTime) ?? attempt.createdAtMs + ATTEMPT_TTL_MS;
  const codeValue = response.orderCodeForm?.codeDetails?.find((detail) => detail.displayType === 'TEXT')?.codeValue ?? null;
  const destination = shopperDestination(attempt.terminalType, response);
  if (!destination.redirectUrl) return { kind: 'unknown', reason: 'Alipay+ created the order but returned no URL for the shopper' };
  return {
    kind: 'requires_action',
    redirectUrl: destination.redirectUrl,
    nativeUrl: destination.nativeUrl,
    qrCode: codeValue && attempt.terminalType === 'WEB' ? { data: codeValue, expiresAtMs } : null,
    externalPaymentId: response.paymentId ?? null,
    expiresAtMs,
  };
}

/**
 * WEB shoppers go to the cashier page that shows the QR code. APP shoppers go through the app
 * link (the seed's render.alipay.com launcher), WAP shoppers to the wallet's H5 page; both also
 * get the app's own link as `native_url`.
 */
function shopperDestination(terminalType: ConnectorPayRequest['terminalType'], response: PayResponse) {
  switch (terminalType) {
    case 'WEB':
      return { redirectUrl: response.normalUrl ?? null, nativeUrl: null };
    case 'APP':
      return { redirectUrl: response.applinkUrl ?? response.normalUrl ?? null, nativeUrl: response.schemeUrl ?? null };
    case 'WAP':
      return { redirectUrl: response.normalUrl ?? response.applinkUrl ?? null, nativeUrl: response.applinkUrl ?? response.schemeUrl ?? null };
  }
}

/** A failed call: `F` is a decline with the network's code; anything else leaves the outcome unknown. */
export function fromPayError(error: unknown): ConnectorPayOutcome {
  if (error instanceof AlipayPlusError && error.kind === 'F') {
    return { kind: 'declined', declineCode: error.resultCode, message: error.response?.result.resultMessage ?? error.message };
  }
  return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
}

export function toCancelRequest(request: ConnectorCancelRequest): CancelPaymentRequest {
  return { paymentRequestId: request.paymentRequestId };
}

export function fromCancelError(error: unknown): ConnectorCancelOutcome {
  if (error instanceof AlipayPlusError && error.kind === 'F') {
    // ORDER_NOT_EXIST: the pay never reached Alipay+, so there is nothing to cancel.
    if (error.resultCode === 'ORDER_NOT_EXIST') return { kind: 'canceled' };
    return { kind: 'not_canceled', code: error.resultCode, reason: `${error.resultCode}: ${error.response?.result.resultMessage ?? error.message}` };
  }
  return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
}

/**
 * The refundRequestId of the one full refund that reverses an attempt: derived from its
 * paymentRequestId, so every retry (by any gateway process) is the same refund at Alipay+.
 */
export function reversalRefundRequestId(paymentRequestId: string): string {
  return `${paymentRequestId}_reversal`;
}

export function toReversalRefundRequest(request: ConnectorReverseRequest): RefundRequest {
  return {
    refundRequestId: reversalRefundRequestId(request.paymentRequestId),
    paymentRequestId: request.paymentRequestId,
    refundAmount: amount(request.currency, request.amountMinor),
    refundReason: 'Paid after the payment was canceled or closed; returned in full',
  };
}

export function fromReversalRefundResponse(request: ConnectorReverseRequest, response: RefundResponse): ConnectorReverseOutcome {
  return { kind: 'refunded', refundRequestId: reversalRefundRequestId(request.paymentRequestId), refundId: response.refundId ?? null };
}

export function fromReversalRefundError(error: unknown): ConnectorReverseOutcome {
  if (error instanceof AlipayPlusError && error.kind === 'F') {
    return { kind: 'refused', code: error.resultCode, reason: `${error.resultCode}: ${error.response?.result.resultMessage ?? error.message}` };
  }
  return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
}

/** What a payment's final state says, from a notification or an inquiry. */
export type PaymentResultOutcome = ConnectorPaymentResult;

export interface SettlementDetails {
  currency: string;
  amountMinor: number;
  quote: SettlementQuote | null;
}

export type ExpectedPayment = ConnectorExpectedPayment;

export type NotificationCheck = { ok: true; outcome: PaymentResultOutcome } | { ok: false; reason: string };

/**
 * Reads a payment's final result against the attempt we stored. A different paymentRequestId or
 * a result that is not final is no answer (`ok: false`); a final result for another amount is
 * `amount_mismatch`, which is never recorded as paid.
 */
function readPaymentResult(body: NotifyPaymentRequest, expected: ExpectedPayment): NotificationCheck {
  if (body.paymentRequestId !== expected.paymentRequestId) return { ok: false, reason: 'paymentRequestId does not match the attempt' };
  const status = body.paymentResult?.resultStatus;
  if (status !== 'S' && status !== 'F') return { ok: false, reason: `paymentResult.resultStatus ${String(status)} is not final` };
  if (!amountsEqual(body.paymentAmount, amount(expected.currency, expected.amountMinor))) {
    return { ok: true, outcome: { kind: 'amount_mismatch', reason: `paymentAmount ${JSON.stringify(body.paymentAmount)} does not match ${expected.currency} ${expected.amountMinor}`, externalPaymentId: body.paymentId ?? null } };
  }
  if (status === 'S') return { ok: true, outcome: succeeded(body) };
  return { ok: true, outcome: { kind: 'failed', code: body.paymentResult.resultCode, message: body.paymentResult.resultMessage, externalPaymentId: body.paymentId ?? null } };
}

/**
 * Checks a verified notification against the attempt we stored: the ids and the amount must
 * match, or it is never recorded as paid.
 */
export function fromNotification(body: NotifyPaymentRequest, expected: ExpectedPayment): NotificationCheck {
  const check = readPaymentResult(body, expected);
  if (check.ok && check.outcome.kind === 'amount_mismatch') return { ok: false, reason: check.outcome.reason };
  return check;
}

/** Reads an inquiry: `paymentResult` S paid, F failed or closed, U still with the shopper; another amount is `amount_mismatch`. */
export function fromInquiry(response: InquiryPaymentResponse, expected: ExpectedPayment): NotificationCheck {
  if (!response.paymentResult || response.paymentResult.resultStatus === 'U') return { ok: true, outcome: { kind: 'pending' } };
  return readPaymentResult(response as unknown as NotifyPaymentRequest, expected);
}

/** A verified notifyPayment body read into the connector's report, or why it is malformed. */
export type ParsedNotification =
  | { ok: true; paymentRequestId: string; amount: ConnectorAmount; outcome: Extract<PaymentResultOutcome, { kind: 'succeeded' | 'failed' }> }
  | { ok: false; reason: string };

const MINOR_UNITS = /^(0|[1-9]\d{0,15})$/;

/**
 * Reads a notifyPayment whose signature was verified. Only a final result (S or F) is a
 * notification; the amount must be natural-number minor units within 2^53, so the core can
 * compare it exactly with the attempt's.
 */
export function parseNotificationBody(body: Record<string, unknown>): ParsedNotification {
  if (typeof body.paymentRequestId !== 'string' || body.paymentRequestId.length === 0) return { ok: false, reason: 'paymentRequestId is required' };
  const paymentAmount = body.paymentAmount as { currency?: unknown; value?: unknown } | undefined;
  if (typeof paymentAmount !== 'object' || paymentAmount === null || typeof paymentAmount.currency !== 'string' || typeof paymentAmount.value !== 'string' || !MINOR_UNITS.test(paymentAmount.value) || !Number.isSafeInteger(Number(paymentAmount.value))) {
    return { ok: false, reason: 'paymentAmount must be an Amount with a natural-number value' };
  }
  const paymentResult = body.paymentResult as Record<string, unknown> | undefined;
  if (typeof paymentResult !== 'object' || paymentResult === null || typeof paymentResult.resultCode !== 'string' || typeof paymentResult.resultStatus !== 'string') {
    return { ok: false, reason: 'paymentResult with resultCode and resultStatus is required' };
  }
  if (body.paymentId !== undefined && typeof body.paymentId !== 'string') return { ok: false, reason: 'paymentId must be a string' };
  const notification = { ...body, paymentResult: { ...paymentResult, resultMessage: typeof paymentResult.resultMessage === 'string' ? paymentResult.resultMessage : '' } } as unknown as NotifyPaymentRequest;
  const amountMinor = Number(paymentAmount.value);
  const read = readPaymentResult(notification, { paymentRequestId: notification.paymentRequestId, currency: paymentAmount.currency, amountMinor });
  if (!read.ok) return read;
  const outcome = read.outcome;
  if (outcome.kind !== 'succeeded' && outcome.kind !== 'failed') return { ok: false, reason: 'a notification must carry a final paymentResult' };
  if (outcome.kind === 'succeeded' && typeof notification.paymentId !== 'string') return { ok: false, reason: 'a paid notification must carry its paymentId' };
  return { ok: true, paymentRequestId: notification.paymentRequestId, amount: { currency: paymentAmount.currency, amountMinor }, outcome };
}

function succeeded(body: Pick<NotifyPaymentRequest, 'paymentId' | 'customerId' | 'walletBrandName' | 'paymentTime' | 'settlementAmount' | 'settlementQuote'>): PaymentResultOutcome {
  const settlement =
    body.settlementAmount && /^\d{1,16}$/.test(body.settlementAmount.value)
      ? { currency: body.settlementAmount.currency, amountMinor: Number(body.settlementAmount.value), quote: body.settlementQuote ?? null }
      : null;
  return {
    kind: 'succeeded',
    externalPaymentId: body.paymentId,
    buyerId: body.customerId ?? null,
    wallet: body.walletBrandName ?? null,
    paidAtMs: parseDateTime(body.paymentTime),
    settlement,
  };
}

const REFUND_REASON_MAX = 256;

export function toRefundRequest(request: ConnectorRefundRequest): RefundRequest {
  return {
    refundRequestId: request.refundRequestId,
    paymentRequestId: request.paymentRequestId,
    refundAmount: amount(request.currency, request.amountMinor),
    ...(request.reason === null ? {} : { refundReason: request.reason.slice(0, REFUND_REASON_MAX) }),
  };
}

/** `S`: the refund is done; its settlement amount and quote feed the balance transaction. */
export function fromRefundResponse(request: ConnectorRefundRequest, response: RefundResponse): ConnectorRefundOutcome {
  if (response.refundAmount !== undefined && !amountsEqual(response.refundAmount, amount(request.currency, request.amountMinor))) {
    return { kind: 'amount_mismatch', reason: `refundAmount ${JSON.stringify(response.refundAmount)} does not match ${request.currency} ${request.amountMinor}` };
  }
  const settlement =
    response.settlementAmount && /^\d{1,16}$/.test(response.settlementAmount.value)
      ? {
          currency: response.settlementAmount.currency,
          amountMinor: Number(response.settlementAmount.value),
          quote: response.settlementQuote
            ? { quoteId: response.settlementQuote.quoteId, quoteCurrencyPair: response.settlementQuote.quoteCurrencyPair, quotePrice: response.settlementQuote.quotePrice }
            : null,
        }
      : null;
  return { kind: 'succeeded', externalRefundId: response.refundId ?? null, settlement };
}

/** `F` is final (the refund is refused); anything else leaves it unknown, retried with the same id. */
export function fromRefundError(error: unknown): ConnectorRefundOutcome {
  if (error instanceof AlipayPlusError && error.kind === 'F') {
    return { kind: 'failed', code: error.resultCode, message: error.response?.result.resultMessage ?? error.message };
  }
  return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
}
