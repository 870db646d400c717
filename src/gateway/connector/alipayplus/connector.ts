import { performance } from 'node:perf_hooks';
import { NETWORK_RESEND_BACKOFF_MS, NETWORK_SENDS_MAX } from '../../domain/schedule.js';
import { AlipayPlusError, type AlipayPlusClient, type InquiryPaymentResponse, type ResponseEscalationRequest, type ResponseRetrievalRequest } from '../../../alipayplus/index.js';
import type {
  ConnectorDisputeResponseOutcome,
  ConnectorStoredDisputeResponse,
  ConnectorCancelOutcome,
  ConnectorCancelRequest,
  ConnectorInquiryResult,
  ConnectorPayOutcome,
  ConnectorPayRequest,
  ConnectorRefundOutcome,
  ConnectorRefundRequest,
  ConnectorReverseOutcome,
  ConnectorReverseRequest,
  PaymentConnector,
} from '../types.js';
import {
  fromCancelError,
  fromInquiry,
  fromPayError,
  fromPayResponse,
  fromRefundError,
  fromRefundResponse,
  fromReversalRefundError,
  fromReversalRefundResponse,
  toCancelRequest,
  toPayRequest,
  toRefundRequest,
  toReversalRefundRequest,
  type ExpectedPayment,
} from './transformers.js';
import { fromDisputeResponseError } from './disputes.js';
import type { AlipayPlusCall } from '../../metrics/registry.js';

/** Told of every send to Alipay+ (the gateway's metrics); never affects the call. */
export type AlipayPlusCallObserver = (call: AlipayPlusCall) => void;

/**
 * Sends of one request before leaving the outcome to the worker. Every re-send carries the same
 * request id, so Alipay+ processes it at most once.
 */
export const SENDS_MAX = NETWORK_SENDS_MAX;
export const RESEND_BACKOFF_MS = NETWORK_RESEND_BACKOFF_MS;

export interface AlipayPlusConnectorOptions {
  client: AlipayPlusClient;
  /** Absolute URL of this mode's notifyPayment endpoint on the gateway. */
  notifyUrl: () => string;
  /** Builds the gateway's return-handler URL for a PaymentIntent. */
  returnHandlerUrl: (paymentIntentId: string) => string;
  resendBackoffMs?: number;
  livemode?: boolean;
  /** Read at each send, so the gateway can attach its metrics after the connector is built. */
  observer?: () => AlipayPlusCallObserver | null;
  /** Read at each send: the gateway's durability barrier, awaited before anything goes out. */
  durable?: () => (() => Promise<void>) | null;
}

/** The PaymentConnector over Alipay+: pay, cancel and inquire, each with bounded same-id re-sends. */
export class AlipayPlusConnector implements PaymentConnector {
  constructor(private readonly options: AlipayPlusConnectorOptions) {}

  async confirm(request: ConnectorPayRequest): Promise<ConnectorPayOutcome> {
    const body = toPayRequest(request, {
      notifyUrl: this.options.notifyUrl(),
      redirectUrl: this.options.returnHandlerUrl(request.paymentIntentId),
    });
    try {
      return fromPayResponse(request, await this.resend('pay', () => this.options.client.pay(body)));
    } catch (error) {
      return fromPayError(error);
    }
  }

  async cancel(request: ConnectorCancelRequest): Promise<ConnectorCancelOutcome> {
    try {
      await this.resend('cancelPayment', () => this.options.client.cancelPayment(toCancelRequest(request)));
      return { kind: 'canceled' };
    } catch (error) {
      return fromCancelError(error);
    }
  }

  /** Refunds under the request's refundRequestId; re-sent with the same id while the outcome is unknown. */
  async refund(request: ConnectorRefundRequest): Promise<ConnectorRefundOutcome> {
    try {
      return fromRefundResponse(request, await this.resend('refund', () => this.options.client.refund(toRefundRequest(request))));
    } catch (error) {
      return fromRefundError(error);
    }
  }

  /**
   * Returns the money of a payment nobody awaits any more (alipayplus.md §5–6): cancelPayment
   * first, which closes an unpaid order and reverses a paid one; past the cancel window
   * (`F / CANCEL_WINDOW_EXCEED`) a full refund under a refundRequestId derived from the
   * paymentRequestId, so a retry never refunds twice.
   */
  async reverse(request: ConnectorReverseRequest): Promise<ConnectorReverseOutcome> {
    const canceled = await this.cancel(request);
    switch (canceled.kind) {
      case 'canceled':
      case 'unknown':
        return canceled;
      case 'not_canceled':
        if (canceled.code !== 'CANCEL_WINDOW_EXCEED') return { kind: 'refused', code: canceled.code, reason: canceled.reason };
    }
    try {
      return fromReversalRefundResponse(request, await this.resend('refund', () => this.options.client.refund(toReversalRefundRequest(request))));
    } catch (error) {
      return fromReversalRefundError(error);
    }
  }

  /**
   * Sends a merchant's stored dispute response exactly as stored (responseRetrieval or
   * responseEscalation), re-sent unchanged while the outcome is unknown: its disputeRequestId
   * makes Alipay+ take it once.
   */
  async sendStoredDisputeResponse(response: ConnectorStoredDisputeResponse): Promise<ConnectorDisputeResponseOutcome> {
    const body = JSON.parse(response.body) as ResponseRetrievalRequest & ResponseEscalationRequest;
    try {
      await this.resend(response.type === 'retrieval' ? 'responseRetrieval' : 'responseEscalation', () => (response.type === 'retrieval' ? this.options.client.responseRetrieval(body) : this.options.client.responseEscalation(body)));
      return { kind: 'accepted' };
    } catch (error) {
      return fromDisputeResponseError(error);
    }
  }

  /** The payment's state at Alipay+; `unknown` when the inquiry itself did not get an answer. */
  async inquirePayment(expected: ExpectedPayment): Promise<ConnectorInquiryResult> {
    let response: InquiryPaymentResponse;
    try {
      response = await this.resend('inquiryPayment', () => this.options.client.inquiryPayment({ paymentRequestId: expected.paymentRequestId }));
    } catch (error) {
      if (error instanceof AlipayPlusError && error.kind === 'F' && error.resultCode === 'ORDER_NOT_EXIST') {
        // The pay never reached Alipay+: the attempt can be closed as failed.
        return { ok: true, outcome: { kind: 'failed', code: 'ORDER_NOT_EXIST', message: 'Alipay+ has no such payment', externalPaymentId: null } };
      }
      return { ok: false, reason: error instanceof Error ? error.message : String(error), unknown: true };
    }
    const read = fromInquiry(response, expected);
    return read.ok ? read : { ...read, unknown: true };
  }

  /** Re-sends the identical request while the outcome is unknown (U or transport), then gives up. */
  private async resend<T extends { result: { resultStatus: string; resultCode: string } }>(api: string, send: () => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let sendNumber = 1; sendNumber <= SENDS_MAX; sendNumber++) {
      // What the request carries (its id, the attempt it belongs to) must survive a power loss first.
      await this.options.durable?.()?.();
      const started = performance.now();
      try {
        const response = await send();
        this.observe(api, started, response.result.resultStatus === 'U' ? 'U' : 'S', response.result.resultCode);
        return response;
      } catch (error) {
        if (error instanceof AlipayPlusError) this.observe(api, started, error.kind, error.resultCode);
        else this.observe(api, started, 'transport', 'CONNECTION_FAILED');
        lastError = error;
        if (!(error instanceof AlipayPlusError) || !error.retryable || sendNumber === SENDS_MAX) throw error;
        await new Promise((resolve) => setTimeout(resolve, (this.options.resendBackoffMs ?? RESEND_BACKOFF_MS) * sendNumber));
      }
    }
    throw lastError;
  }

  private observe(api: string, startedMs: number, resultStatus: AlipayPlusCall['resultStatus'], resultCode: string): void {
    const observer = this.options.observer?.();
    if (!observer) return;
    // Counting must never change a call's outcome: an observer that throws is ignored, not taken for a failed send.
    try {
      observer({ api, livemode: this.options.livemode ?? false, resultStatus, resultCode, seconds: (performance.now() - startedMs) / 1000 });
    } catch {
      // ignored (see above)
    }
  }
}
