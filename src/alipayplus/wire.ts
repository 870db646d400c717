/**
 * Alipay+ wire types, spelled exactly as the protocol spells them.
 *
 * JSON typing rule of Alipay+: every non-array scalar travels as a string ("20", "true").
 * Optional fields are omitted (or null), never "".
 */

/** Paths of the Alipay+ APIs the gateway calls and the sandbox serves. */
export const API_PATHS = {
  pay: '/aps/api/v1/payments/pay',
  inquiryPayment: '/aps/api/v1/payments/inquiryPayment',
  cancelPayment: '/aps/api/v1/payments/cancelPayment',
  refund: '/aps/api/v1/payments/refund',
  initiateRetrieval: '/aps/api/v1/disputes/initiateRetrieval',
  initiateEscalation: '/aps/api/v1/disputes/initiateEscalation',
} as const;

export type ApiName = keyof typeof API_PATHS;
export type ApiPath = (typeof API_PATHS)[ApiName];

export type ResultStatus = 'S' | 'F' | 'U';

/** `value` is a natural number in the currency's minor unit, as a string (CNY 0.20 → "20"). */
export interface Amount {
  currency: string;
  value: string;
}

export interface Result {
  resultCode: string;
  resultStatus: ResultStatus;
  resultMessage: string;
}

export type TerminalType = 'WEB' | 'WAP' | 'APP' | 'MINI_APP';
export type OsType = 'IOS' | 'ANDROID';
export type PaymentMethodType = 'ALIPAY_CN' | 'ALIPAY_HK';

export interface Merchant {
  referenceMerchantId: string;
  merchantName?: string;
  merchantMCC?: string;
  merchantDisplayName?: string;
}

export interface Env {
  terminalType: TerminalType;
  osType?: OsType;
  clientIp?: string;
  userAgent?: string;
}

export interface Order {
  referenceOrderId: string;
  orderDescription: string;
  orderAmount: Amount;
  merchant: Merchant;
  env: Env;
}

export interface SettlementStrategy {
  settlementCurrency: string;
}

export interface SettlementQuote {
  quoteId: string;
  quoteCurrencyPair: string;
  /** Decimal string: units of the second currency per unit of the first. */
  quotePrice: string;
  quoteStartTime: string;
  quoteExpiryTime: string;
}

export interface PayRequest {
  paymentRequestId: string;
  paymentAmount: Amount;
  order: Order;
  paymentFactor?: { isCashierPayment: 'true' | 'false' };
  paymentMethod: { paymentMethodType: PaymentMethodType | string };
  paymentNotifyUrl?: string;
  paymentRedirectUrl?: string;
  /** ISO 8601 with offset; default 14 minutes after creation. */
  paymentExpiryTime?: string;
  settlementStrategy?: SettlementStrategy;
}

export interface CodeDetail {
  codeValue: string;
  displayType: 'TEXT' | 'SMALLIMAGE' | 'MIDDLEIMAGE' | 'BIGIMAGE';
}

export interface OrderCodeForm {
  codeDetails: CodeDetail[];
  expireTime: string;
}

export interface PayResponse {
  result: Result;
  paymentId?: string;
  paymentRequestId?: string;
  paymentAmount?: Amount;
  paymentCreateTime?: string;
  normalUrl?: string;
  applinkUrl?: string;
  schemeUrl?: string;
  appIdentifier?: string;
  orderCodeForm?: OrderCodeForm;
  paymentExpiryTime?: string;
}

export interface NotifyPaymentRequest {
  /** `resultStatus` is only `S` or `F` here, never `U`. */
  paymentResult: Result;
  paymentRequestId: string;
  paymentId: string;
  paymentAmount: Amount;
  paymentTime?: string;
  customerId?: string;
  pspId?: string;
  acquirerId?: string;
  walletBrandName?: string;
  settlementAmount?: Amount;
  settlementQuote?: SettlementQuote;
}

/** The acknowledgement the receiver of a notification answers with (signed). */
export interface NotificationAck {
  result: Result;
}

export interface InquiryPaymentRequest {
  paymentRequestId?: string;
  paymentId?: string;
}

export interface InquiryPaymentResponse {
  /** Result of the inquiry call itself. */
  result: Result;
  /** The payment's state when `result` is `S`: S paid, F failed/closed, U still in process. */
  paymentResult?: Result;
  paymentRequestId?: string;
  paymentId?: string;
  paymentAmount?: Amount;
  paymentTime?: string;
  customerId?: string;
  walletBrandName?: string;
  settlementAmount?: Amount;
  settlementQuote?: SettlementQuote;
}

export interface CancelPaymentRequest {
  paymentRequestId?: string;
  paymentId?: string;
}

export interface CancelPaymentResponse {
  result: Result;
  paymentId?: string;
  paymentRequestId?: string;
  cancelTime?: string;
}

export interface RefundRequest {
  refundRequestId: string;
  paymentId?: string;
  paymentRequestId?: string;
  refundAmount: Amount;
  refundReason?: string;
}

export interface RefundResponse {
  result: Result;
  refundId?: string;
  refundRequestId?: string;
  refundTime?: string;
  refundAmount?: Amount;
  settlementAmount?: Amount;
  settlementQuote?: SettlementQuote;
}

/** Sent by Alipay+ to the acquirer: the wallet asks for information about a payment. */
export interface InitiateRetrievalRequest {
  disputeRequestId: string;
  paymentRequestId: string;
  paymentId?: string;
  disputeReasonCode?: string;
  disputeReasonMessage?: string;
  disputeTime?: string;
  responseDeadline?: string;
}

/** Sent by Alipay+ to the acquirer: a chargeback-like escalation. */
export interface InitiateEscalationRequest {
  disputeRequestId: string;
  paymentRequestId: string;
  paymentId?: string;
  disputeAmount: Amount;
  disputeReasonCode?: string;
  disputeReasonMessage?: string;
  disputeTime?: string;
  responseDeadline?: string;
}

export interface DisputeAck {
  result: Result;
  disputeId?: string;
}
