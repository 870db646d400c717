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
export type PaymentResultOutcome =
  | { kind: 'succeeded'; externalPaymentId: string; buyerId: string | null; wallet: string | null; paidAtMs: number | null; settlement: SettlementDetails | null }
  | { kind: 'failed'; code: string; message: string; externalPaymentId: string | null }
  | { kind: 'pending' };

export interface SettlementDetails {
  currency: string;
  amountMinor: number;
  quote: SettlementQuote | null;
}

export interface ExpectedPayment {
  paymentRequestId: string;
  currency: string;
  amountMinor: number;
}

export type NotificationCheck = { ok: true; outcome: PaymentResultOutcome } | { ok: false; reason: string };

/**
 * Checks a verified notification against the attempt we stored: the ids and the amount must
 * match, or it is never recorded as paid.
 */
export function fromNotification(body: NotifyPaymentRequest, expected: ExpectedPayment): NotificationCheck {
  if (body.paymentRequestId !== expected.paymentRequestId) return { ok: false, reason: 'paymentRequestId does not match the attempt' };
  if (!amountsEqual(body.paymentAmount, amount(expected.currency, expected.amountMinor))) {
    return { ok: false, reason: `paymentAmount ${JSON.stringify(body.paymentAmount)} does not match ${expected.currency} ${expected.amountMinor}` };
  }
  const status = body.paymentResult?.resultStatus;
  if (status === 'S') return { ok: true, outcome: succeeded(body) };
  if (status === 'F') {
    return { ok: true, outcome: { kind: 'failed', code: body.paymentResult.resultCode, message: body.paymentResult.resultMessage, externalPaymentId: body.paymentId ?? null } };
  }
  return { ok: false, reason: `paymentResult.resultStatus ${String(status)} is not final` };
}

/** Reads an inquiry: `paymentResult` S paid, F failed or closed, U still with the shopper. */
export function fromInquiry(response: InquiryPaymentResponse, expected: ExpectedPayment): NotificationCheck {
  if (!response.paymentResult || response.paymentResult.resultStatus === 'U') return { ok: true, outcome: { kind: 'pending' } };
  return fromNotification(response as unknown as NotifyPaymentRequest, expected);
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
    return { kind: 'unknown', reason: `refundAmount ${JSON.stringify(response.refundAmount)} does not match ${request.currency} ${request.amountMinor}` };
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
