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
  responseRetrieval: '/aps/api/v1/disputes/responseRetrieval',
  initiateEscalation: '/aps/api/v1/disputes/initiateEscalation',
  responseEscalation: '/aps/api/v1/disputes/responseEscalation',
  notifyDisputeResult: '/aps/api/v1/disputes/notifyDisputeResult',
} as const;

/**
 * The dispute calls Alipay+ makes to the acquirer. Alipay+ sends them to the acquirer's registered
 * dispute endpoint; the sandbox resolves `disputes/<name>` against the payment's `paymentNotifyUrl`
 * (our choice: no extra registration for the gateway), and the string to sign uses that URL's path.
 */
export const INBOUND_DISPUTE_APIS = ['initiateRetrieval', 'initiateEscalation', 'notifyDisputeResult'] as const;
export type InboundDisputeApi = (typeof INBOUND_DISPUTE_APIS)[number];

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

/**
 * Disputes. Field names follow the Alipay+ ACQP dispute APIs (initiateRetrieval, responseRetrieval,
 * initiateEscalation, responseEscalation); the result notification of a judged case is our
 * choice (`notifyDisputeResult`), as are the reason codes below and `responseDeadline`.
 *
 * `disputeRequestId` is assigned by Alipay+ and is the idempotency field of all of them: the same
 * id again is answered again and changes nothing; the same id with another `paymentRequestId`
 * (or, for a response, other key fields) is `F / REPEAT_REQ_INCONSISTENT`.
 */
export type DisputeType = 'RETRIEVAL' | 'ESCALATION';

/**
 * Reason codes the sandbox sends (our choice; the acquirer maps them to Stripe's reasons and
 * keeps the original): a real Alipay+ may send others, which map to `general`.
 */
export const DISPUTE_REASON_CODES = [
  'TRANSACTION_INFORMATION_REQUEST',
  'UNAUTHORIZED_TRANSACTION',
  'FRAUD',
  'GOODS_NOT_RECEIVED',
  'GOODS_NOT_AS_DESCRIBED',
  'DUPLICATE_TRANSACTION',
  'REFUND_NOT_PROCESSED',
  'UNRECOGNIZED_TRANSACTION',
  'INCORRECT_AMOUNT',
] as const;
export type DisputeReasonCode = (typeof DISPUTE_REASON_CODES)[number];

/** Sent by Alipay+ to the acquirer: the wallet asks for information about a payment (no money moves). */
export interface InitiateRetrievalRequest {
  disputeRequestId: string;
  paymentRequestId: string;
  paymentId: string;
  /** When the shopper raised it, ISO 8601 with offset. */
  disputeOccurTime: string;
  retrievalReasonCode: string;
  retrievalReasonMessage?: string;
  /** What the wallet asks for, e.g. `TRANSACTION_RECEIPT`, `PROOF_OF_DELIVERY`. */
  requestInformationType?: string[];
  /** The last moment the acquirer may answer with responseRetrieval, ISO 8601 with offset. */
  responseDeadline: string;
}

/** Sent by Alipay+ to the acquirer: a chargeback-like escalation; `escalationAmount` is withheld until won. */
export interface InitiateEscalationRequest {
  disputeRequestId: string;
  paymentRequestId: string;
  paymentId: string;
  disputeOccurTime: string;
  /** ≤ paid − refunded − already escalated, in the payment's currency. */
  escalationAmount: Amount;
  escalationReasonCode: string;
  escalationReasonMessage?: string;
  responseDeadline: string;
}

/** The acquirer's synchronous, signed answer to an initiate call or a result notification. */
export interface DisputeAck {
  result: Result;
}

/** One piece of evidence, as text (our choice: Zhifu's evidence fields are text, as Stripe's are). */
export interface DisputeDocument {
  /** The Stripe evidence field it came from, upper snake case, e.g. `PRODUCT_DESCRIPTION`, `RECEIPT`. */
  documentType: string;
  documentContent: string;
}

/**
 * Acquirer → Alipay+: the merchant's answer to a retrieval. `responseCode` 0001 = all the
 * information asked for, 0002 = part of it, 0003 = none.
 */
export interface ResponseRetrievalRequest {
  disputeRequestId: string;
  paymentRequestId: string;
  responseCode: '0001' | '0002' | '0003';
  otherDocumentation?: DisputeDocument[];
}

/**
 * Acquirer → Alipay+: the merchant's answer to an escalation. `REFUSE_REFUND` defends it with the
 * documents; `ACCEPT_REFUND` concedes the whole escalated amount (the case is lost).
 */
export interface ResponseEscalationRequest {
  disputeRequestId: string;
  paymentRequestId: string;
  refundType: 'ACCEPT_REFUND' | 'ACCEPT_PARTIAL_REFUND' | 'REFUSE_REFUND';
  /** Required for ACCEPT_PARTIAL_REFUND; ≤ escalationAmount. */
  refundAmount?: Amount;
  defenseDocumentation?: DisputeDocument[];
}

export interface DisputeResponseResult {
  result: Result;
}

/**
 * Alipay+ → acquirer when a case is decided (our choice of name and shape): a retrieval the wallet
 * closed, or an escalation judged for (`MERCHANT_WON`, the amount is reinstated) or against the
 * merchant (`MERCHANT_LOST`).
 */
export interface NotifyDisputeResultRequest {
  disputeRequestId: string;
  paymentRequestId: string;
  paymentId: string;
  disputeType: DisputeType;
  disputeResult: 'CLOSED' | 'MERCHANT_WON' | 'MERCHANT_LOST';
  /** The escalated amount, for escalations. */
  disputeAmount?: Amount;
  resultTime: string;
}
