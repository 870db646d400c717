/**
 * The boundary between the gateway's core and the wallet network. The core records an attempt,
 * commits, calls `confirm` outside any transaction, then records the outcome it returns. The
 * implementation over Alipay+ lives beside this file; the core knows nothing of Alipay+ wire names.
 *
 * Implementations must not throw for a payment outcome: declines and unknown results are typed
 * values. A thrown error is treated like `unknown` (the attempt is left for the worker).
 */
export interface PaymentConnector {
  /** Starts the payment at the wallet network. Must be safe to repeat with the same paymentRequestId. */
  confirm(request: ConnectorPayRequest): Promise<ConnectorPayOutcome>;
  /** Cancels an open payment. Must be safe to repeat with the same paymentRequestId. */
  cancel(request: ConnectorCancelRequest): Promise<ConnectorCancelOutcome>;
  /**
   * Refunds all or part of a paid payment. Must be safe to repeat with the same refundRequestId.
   * Optional: without it refunds stay `pending` (not sent) until a connector that can send them.
   */
  refund?(request: ConnectorRefundRequest): Promise<ConnectorRefundOutcome>;
  /**
   * The payment's state at the network, read by its paymentRequestId. The reported amount is
   * checked against `expected`: a different one is `amount_mismatch`, never a success. `ok: false`
   * when the inquiry itself got no answer. Optional: without it no worker runs.
   */
  inquire?(livemode: boolean, expected: ConnectorExpectedPayment): Promise<ConnectorInquiryResult>;
  /**
   * Returns the money of a payment nobody awaits any more: cancel, or past the cancel window a
   * full refund under a request id derived from the paymentRequestId. Safe to repeat.
   */
  reverse?(request: ConnectorReverseRequest): Promise<ConnectorReverseOutcome>;
  /**
   * Verifies and parses an inbound payment notification (raw bytes, as signed). Returns the
   * typed report; the connector never records anything (the core applies it).
   */
  parseNotification?(livemode: boolean, headers: Record<string, string | string[] | undefined>, rawBody: string): ConnectorInboundNotification;
  /** The signed answer to a notification, once the core decided whether it is acknowledged. */
  replyToNotification?(livemode: boolean, disposition: NotificationDisposition): ConnectorReply;
  /** Whether `token` is the one the connector put in the shopper's return URL for this PaymentIntent. */
  isReturnTokenValid?(livemode: boolean, paymentIntentId: string, token: string): boolean;
  /**
   * Verifies and parses an inbound dispute call (raw bytes, as signed): a dispute opened, or its
   * result. Records nothing; the core applies it and decides the answer.
   */
  parseDisputeCall?(livemode: boolean, call: DisputeCallName, headers: Record<string, string | string[] | undefined>, rawBody: string): ConnectorInboundDispute;
  /** The signed answer to a dispute call, once the core decided. */
  replyToDisputeCall?(livemode: boolean, call: DisputeCallName, disposition: DisputeDisposition): ConnectorReply;
  /**
   * The merchant's response to a dispute as it will go on the wire: the core stores it with the
   * status change and sends exactly it (again, on a retry) with `sendDisputeResponse`.
   */
  buildDisputeResponse?(request: ConnectorDisputeResponseRequest): ConnectorStoredDisputeResponse;
  /** Sends a stored response. Safe to repeat: the body carries the dispute's disputeRequestId. */
  sendDisputeResponse?(livemode: boolean, response: ConnectorStoredDisputeResponse): Promise<ConnectorDisputeResponseOutcome>;
}

/** What the dispute side of the core needs of a connector. */
export type DisputeConnector = PaymentConnector & Required<Pick<PaymentConnector, 'buildDisputeResponse' | 'sendDisputeResponse'>>;

/** The inbound dispute calls (alipayplus.md §7), by the name of their path. */
export const DISPUTE_CALL_NAMES = ['initiateRetrieval', 'initiateEscalation', 'notifyDisputeResult'] as const;
export type DisputeCallName = (typeof DISPUTE_CALL_NAMES)[number];

export type ConnectorDisputeType = 'retrieval' | 'escalation';

/** A verified, well-formed report that the network opened a dispute on a payment. */
export interface ConnectorDisputeOpened {
  kind: 'opened';
  livemode: boolean;
  type: ConnectorDisputeType;
  /** The network's idempotency field for the dispute. */
  disputeRequestId: string;
  paymentRequestId: string;
  externalPaymentId: string;
  /** Escalations: the amount withdrawn, in the payment currency. Retrievals: null. */
  amount: ConnectorAmount | null;
  reasonCode: string;
  reasonMessage: string | null;
  occurredAtMs: number | null;
  /** The last moment the merchant may answer. */
  dueByMs: number | null;
}

/** A verified, well-formed report that the network decided a dispute. */
export interface ConnectorDisputeDecided {
  kind: 'decided';
  livemode: boolean;
  type: ConnectorDisputeType;
  disputeRequestId: string;
  paymentRequestId: string;
  externalPaymentId: string;
  /** `closed` ends a retrieval; an escalation is `won` (reinstated) or `lost`. */
  result: 'closed' | 'won' | 'lost';
}

export type ConnectorInboundDispute =
  | ConnectorDisputeOpened
  | ConnectorDisputeDecided
  /** Unverifiable or malformed: answered with `reply` as it is, nothing applied. */
  | { kind: 'refused'; reason: string; reply: ConnectorReply }
  | { kind: 'not_configured'; reason: string };

/**
 * The core's decision on a dispute call: acknowledged (recorded now or before), or refused with
 * the reason the network is told (`repeat_inconsistent`: same disputeRequestId, other facts).
 */
export type DisputeDisposition =
  | { ack: true; note: string }
  | { ack: false; why: 'unknown_payment' | 'invalid' | 'repeat_inconsistent' | 'amount_exceeded'; note: string };

export interface ConnectorDisputeResponseRequest {
  livemode: boolean;
  type: ConnectorDisputeType;
  disputeRequestId: string;
  paymentRequestId: string;
  /** `defend` with the evidence; `accept` concedes (an escalation's whole amount). */
  action: 'defend' | 'accept';
  /** Non-empty evidence fields, by Stripe's field name. */
  evidence: Array<{ field: string; text: string }>;
  /** The disputed amount (escalations). */
  amount: ConnectorAmount;
}

/** A response as stored in the outbox: which call, and the exact body to send. */
export interface ConnectorStoredDisputeResponse {
  type: ConnectorDisputeType;
  body: string;
}

export type ConnectorDisputeResponseOutcome =
  | { kind: 'accepted' }
  /** A final refusal: `code` is the network's result code. */
  | { kind: 'refused'; code: string; message: string }
  /** No final answer (timeout, `U`): re-sent later with the same body. */
  | { kind: 'unknown'; reason: string };

/** What the worker needs of a connector: it inquires and reverses. */
export type NetworkConnector = PaymentConnector & Required<Pick<PaymentConnector, 'inquire' | 'reverse'>>;

export interface ConnectorExpectedPayment {
  paymentRequestId: string;
  /** ISO 4217, upper case. */
  currency: string;
  /** Smallest currency unit. */
  amountMinor: number;
}

export interface ConnectorAmount {
  currency: string;
  amountMinor: number;
}

/** A payment's state as the network reports it (inquiry or notification). */
export type ConnectorPaymentResult =
  | { kind: 'succeeded'; externalPaymentId: string; buyerId: string | null; wallet: string | null; paidAtMs: number | null; settlement: ConnectorSettlement | null }
  | { kind: 'failed'; code: string; message: string; externalPaymentId: string | null }
  /** Still with the shopper. */
  | { kind: 'pending' }
  /** A final answer for an amount other than the one we sent: nothing the gateway can decide alone. */
  | { kind: 'amount_mismatch'; reason: string; externalPaymentId: string | null };

export type ConnectorInquiryResult = { ok: true; outcome: ConnectorPaymentResult } | { ok: false; reason: string; unknown: true };

/** A verified, well-formed notification of a final payment result. */
export interface ConnectorPaymentNotification {
  kind: 'payment';
  livemode: boolean;
  paymentRequestId: string;
  /** The amount the network says was paid (or failed), to be checked against the attempt. */
  amount: ConnectorAmount;
  outcome: Extract<ConnectorPaymentResult, { kind: 'succeeded' | 'failed' }>;
}

export type ConnectorInboundNotification =
  | ConnectorPaymentNotification
  /** Unverifiable or malformed: answered with `reply` as it is, nothing applied. */
  | { kind: 'refused'; reason: string; reply: ConnectorReply }
  /** This mode has no endpoint configured. */
  | { kind: 'not_configured'; reason: string };

/** The core's decision on a notification: acknowledged (recorded, or recorded before) or refused so the network sends it again. */
export type NotificationDisposition = { ack: true; note: string } | { ack: false; why: 'unknown_payment' | 'invalid'; note: string };

export interface ConnectorReply {
  headers: Record<string, string>;
  body: string;
}

export type TerminalType = 'WEB' | 'WAP' | 'APP';
export type OsType = 'IOS' | 'ANDROID';

export interface ConnectorPayRequest {
  accountId: string;
  livemode: boolean;
  paymentIntentId: string;
  attemptId: string;
  /** Derived from our ids and reused on every retry of this attempt. */
  paymentRequestId: string;
  /** Smallest currency unit. */
  amountMinor: number;
  /** ISO 4217, upper case. */
  currency: string;
  terminalType: TerminalType;
  osType: OsType | null;
  clientIp: string | null;
  /** The merchant's return_url; the connector sends the shopper through the gateway's return handler first. */
  returnUrl: string;
  description: string | null;
  merchantOrderId: string | null;
  merchantUserId: string | null;
  /** The account's business name, shown to the shopper by the cashier and wallet. */
  merchantName: string | null;
  /** The account's settlement currency (GBP, HKD or EUR): the network settles this payment in it. */
  settlementCurrency: string;
  /** When the attempt was recorded, ms since the epoch. */
  createdAtMs: number;
}

export type ConnectorPayOutcome =
  /** The wallet network holds the payment; the shopper must go to `redirectUrl` (or scan `qrCode`). */
  | {
      kind: 'requires_action';
      redirectUrl: string;
      /** App link for WAP/APP terminals. */
      nativeUrl: string | null;
      qrCode: { data: string; expiresAtMs: number } | null;
      externalPaymentId: string | null;
      /** When the wallet network gives up on the payment, if it said. */
      expiresAtMs: number | null;
    }
  | { kind: 'succeeded'; externalPaymentId: string | null; buyerId: string | null; wallet: string | null }
  /** A final refusal: `declineCode` is the network's result code. */
  | { kind: 'declined'; declineCode: string; message: string }
  /** No final answer (timeout, status `U` after retries): a worker inquires later. */
  | { kind: 'unknown'; reason: string };

export interface ConnectorCancelRequest {
  accountId: string;
  livemode: boolean;
  paymentIntentId: string;
  attemptId: string;
  paymentRequestId: string;
}

export type ConnectorCancelOutcome =
  | { kind: 'canceled' }
  /** The network would not cancel (`code` is its result code, e.g. CANCEL_WINDOW_EXCEED): the worker reverses it. */
  | { kind: 'not_canceled'; code: string; reason: string }
  | { kind: 'unknown'; reason: string };

/** Returns a payment's money whatever its state: the whole amount, in its currency. */
export interface ConnectorReverseRequest extends ConnectorCancelRequest {
  /** Smallest currency unit; the full amount of the attempt. */
  amountMinor: number;
  currency: string;
}

export type ConnectorReverseOutcome =
  /** Cancelled at the network: unpaid, it can no longer be paid; paid, the payment was reversed. */
  | { kind: 'canceled' }
  /** Too late to cancel, so the full amount was refunded under `refundRequestId` (derived from the paymentRequestId). */
  | { kind: 'refunded'; refundRequestId: string; refundId: string | null }
  /** A final refusal of the cancel or the refund; `code` is the network's result code. */
  | { kind: 'refused'; code: string; reason: string }
  /** No final answer: try again later with the same request ids. */
  | { kind: 'unknown'; reason: string };

export interface ConnectorRefundRequest {
  accountId: string;
  livemode: boolean;
  refundId: string;
  /** Derived from the refund id and reused on every retry of this refund. */
  refundRequestId: string;
  /** The paid attempt's request id. */
  paymentRequestId: string;
  /** Smallest currency unit; at most what remains of the payment. */
  amountMinor: number;
  currency: string;
  reason: string | null;
}

/** What the network settles a payment or refund at: amount in the settlement currency's minor unit. */
export interface ConnectorSettlement {
  currency: string;
  amountMinor: number;
  quote: { quoteId: string; quoteCurrencyPair: string; quotePrice: string } | null;
}

export type ConnectorRefundOutcome =
  | { kind: 'succeeded'; externalRefundId: string | null; settlement: ConnectorSettlement | null }
  /** A final refusal: `code` is the network's result code. */
  | { kind: 'failed'; code: string; message: string }
  /** The network refunded another amount than we asked for: nothing the gateway can decide alone. */
  | { kind: 'amount_mismatch'; reason: string }
  /** No final answer (timeout, `U` after re-sends): retried later with the same refundRequestId. */
  | { kind: 'unknown'; reason: string };
