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
  /** No final answer (timeout, `U` after re-sends): retried later with the same refundRequestId. */
  | { kind: 'unknown'; reason: string };
