import { createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { AlipayPlusClient, SignedReceiver, loadPrivateKey, result } from '../../../alipayplus/index.js';
import type {
  ConnectorDisputeResponseOutcome,
  ConnectorDisputeResponseRequest,
  ConnectorInboundDispute,
  ConnectorStoredDisputeResponse,
  DisputeCallName,
  DisputeDisposition,
  ConnectorCancelOutcome,
  ConnectorCancelRequest,
  ConnectorInboundNotification,
  ConnectorInquiryResult,
  NotificationDisposition,
  ConnectorReply,
  ConnectorPayOutcome,
  ConnectorPayRequest,
  ConnectorRefundOutcome,
  ConnectorRefundRequest,
  ConnectorReverseOutcome,
  ConnectorReverseRequest,
  PaymentConnector,
} from '../types.js';
import { timeoutInconsistency } from '../../domain/schedule.js';
import { AlipayPlusConnector, type AlipayPlusCallObserver } from './connector.js';
import { parseNotificationBody, type ExpectedPayment } from './transformers.js';
import { dispositionResult, parseDisputeCallBody, toDisputeResponse } from './disputes.js';

/** Where an Alipay+ endpoint is and which keys speak to it. Test and live mode each have their own. */
export interface AlipayPlusEndpoint {
  baseUrl: string;
  clientId: string;
  /** The gateway's private key for this mode (PKCS#8 PEM). */
  privateKey: string | KeyObject;
  /** Alipay+'s public key for this mode (X.509 PEM). */
  alipayPublicKey: string | KeyObject;
  timeoutMs?: number;
}

import { DISPUTE_PATHS, NOTIFY_PATHS, RETURN_PATH_PREFIX, type Mode } from './paths.js';

export { DISPUTE_PATHS, NOTIFY_PATHS, RETURN_PATH_PREFIX, type Mode };

export const modeOf = (livemode: boolean): Mode => (livemode ? 'live' : 'test');

interface ModeSide {
  client: AlipayPlusClient;
  connector: AlipayPlusConnector;
  receiver: SignedReceiver;
  clientId: string;
  /** Keys the return-handler tokens, so only the wallet's redirect (not a guessed URL) reveals a client_secret. */
  returnTokenKey: Buffer;
}

export type InquiryResult = ConnectorInquiryResult;

/**
 * The gateway's whole Alipay+ side: a connector per mode behind one PaymentConnector, and the
 * receivers that verify notifications and sign their acknowledgements. A mode without an
 * endpoint declines payments with a clear message instead of calling anywhere.
 */
export class AlipayPlusGateway implements PaymentConnector {
  private readonly sides: Partial<Record<Mode, ModeSide>> = {};
  private observer: AlipayPlusCallObserver | null = null;
  private durable: (() => Promise<void>) | null = null;

  /**
   * @param publicUrl the gateway's base URL as Alipay+ and shoppers reach it; a function when it is
   *   only known once the server listens (port 0).
   */
  constructor(endpoints: Partial<Record<Mode, AlipayPlusEndpoint | null>>, publicUrl: string | (() => string), options: { resendBackoffMs?: number; timeoutMs?: number } = {}) {
    const baseUrl = typeof publicUrl === 'string' ? () => publicUrl : publicUrl;
    for (const mode of ['test', 'live'] as const) {
      const endpoint = endpoints[mode];
      if (!endpoint) continue;
      const timeoutMs = endpoint.timeoutMs ?? options.timeoutMs;
      // The worker's delays assume the sends are over by then (domain/schedule.ts); see also loadConfig.
      const problem = timeoutMs === undefined ? null : timeoutInconsistency(timeoutMs);
      if (problem !== null) throw new Error(`Alipay+ ${mode} timeout ${timeoutMs} ms: ${problem}`);
      const client = new AlipayPlusClient({ ...endpoint, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
      const privateKeyDer = loadPrivateKey(endpoint.privateKey).export({ format: 'der', type: 'pkcs8' });
      const returnTokenKey = createHmac('sha256', privateKeyDer).update('zhifu return handler').digest();
      const connector = new AlipayPlusConnector({
        client,
        notifyUrl: () => baseUrl() + NOTIFY_PATHS[mode],
        returnHandlerUrl: (paymentIntentId) => `${baseUrl()}${RETURN_PATH_PREFIX}${paymentIntentId}?token=${returnToken(returnTokenKey, paymentIntentId)}`,
        ...(options.resendBackoffMs === undefined ? {} : { resendBackoffMs: options.resendBackoffMs }),
        livemode: mode === 'live',
        observer: () => this.observer,
        durable: () => this.durable,
      });
      const receiver = new SignedReceiver({ privateKey: endpoint.privateKey, peerPublicKeys: { [endpoint.clientId]: endpoint.alipayPublicKey } });
      this.sides[mode] = { client, connector, receiver, clientId: endpoint.clientId, returnTokenKey };
    }
  }

  /** Every send to Alipay+ from now on is reported to `observer` (the gateway's metrics); null stops it. */
  observeCalls(observer: AlipayPlusCallObserver | null): void {
    this.observer = observer;
  }

  /** Every send to Alipay+ from now on first awaits `barrier` (the gateway's database.durable); null stops it. */
  sendAfter(barrier: (() => Promise<void>) | null): void {
    this.durable = barrier;
  }

  confirm(request: ConnectorPayRequest): Promise<ConnectorPayOutcome> {
    const side = this.sides[modeOf(request.livemode)];
    if (!side) return Promise.resolve({ kind: 'declined', declineCode: 'MERCHANT_NOT_REGISTERED', message: notConfigured(request.livemode) });
    return side.connector.confirm(request);
  }

  cancel(request: ConnectorCancelRequest): Promise<ConnectorCancelOutcome> {
    const side = this.sides[modeOf(request.livemode)];
    if (!side) return Promise.resolve({ kind: 'not_canceled', code: 'MERCHANT_NOT_REGISTERED', reason: notConfigured(request.livemode) });
    return side.connector.cancel(request);
  }

  refund(request: ConnectorRefundRequest): Promise<ConnectorRefundOutcome> {
    const side = this.sides[modeOf(request.livemode)];
    if (!side) return Promise.resolve({ kind: 'failed', code: 'MERCHANT_NOT_REGISTERED', message: notConfigured(request.livemode) });
    return side.connector.refund(request);
  }

  /** Cancel, or past the cancel window refund in full (see AlipayPlusConnector.reverse). */
  reverse(request: ConnectorReverseRequest): Promise<ConnectorReverseOutcome> {
    const side = this.sides[modeOf(request.livemode)];
    if (!side) return Promise.resolve({ kind: 'unknown', reason: notConfigured(request.livemode) });
    return side.connector.reverse(request);
  }

  inquire(livemode: boolean, expected: ExpectedPayment): Promise<InquiryResult> {
    const side = this.sides[modeOf(livemode)];
    if (!side) return Promise.resolve({ ok: false, reason: notConfigured(livemode), unknown: true });
    return side.connector.inquirePayment(expected);
  }

  /**
   * Verifies a notifyPayment (signature over the exact bytes, with this mode's Alipay+ key) and
   * reads it into a typed report. Records nothing: the core applies the report.
   */
  parseNotification(livemode: boolean, headers: Record<string, string | string[] | undefined>, rawBody: string): ConnectorInboundNotification {
    const mode = modeOf(livemode);
    const side = this.sides[mode];
    if (!side) return { kind: 'not_configured', reason: `${mode} mode has no Alipay+ endpoint configured` };
    const path = NOTIFY_PATHS[mode];
    const inbound = side.receiver.verifyRequest(path, headers, rawBody);
    if (!inbound.ok) return { kind: 'refused', reason: `unverifiable: ${inbound.result.resultMessage}`, reply: side.receiver.reply(path, side.clientId, { result: inbound.result }) };
    const parsed = parseNotificationBody(inbound.body);
    if (!parsed.ok) return { kind: 'refused', reason: parsed.reason, reply: side.receiver.reply(path, side.clientId, { result: result('PARAM_ILLEGAL', parsed.reason) }) };
    return { kind: 'payment', livemode, paymentRequestId: parsed.paymentRequestId, amount: parsed.amount, outcome: parsed.outcome };
  }

  /** The signed answer to a notification: SUCCESS stops Alipay+ re-sending it; a refusal makes it send again. */
  replyToNotification(livemode: boolean, disposition: NotificationDisposition): ConnectorReply {
    const mode = modeOf(livemode);
    const side = this.sides[mode];
    if (!side) throw new Error(`${mode} mode has no Alipay+ endpoint configured`);
    const answer = disposition.ack ? result('SUCCESS') : result(disposition.why === 'unknown_payment' ? 'ORDER_NOT_EXIST' : 'PARAM_ILLEGAL', disposition.note);
    return side.receiver.reply(NOTIFY_PATHS[mode], side.clientId, { result: answer });
  }

  /**
   * Verifies an inbound dispute call (signature over the exact bytes, with this mode's Alipay+
   * key, for the path it was posted to) and reads it into a typed report. Records nothing.
   */
  parseDisputeCall(livemode: boolean, call: DisputeCallName, headers: Record<string, string | string[] | undefined>, rawBody: string): ConnectorInboundDispute {
    const mode = modeOf(livemode);
    const side = this.sides[mode];
    if (!side) return { kind: 'not_configured', reason: `${mode} mode has no Alipay+ endpoint configured` };
    const path = DISPUTE_PATHS[mode][call];
    const inbound = side.receiver.verifyRequest(path, headers, rawBody);
    if (!inbound.ok) return { kind: 'refused', reason: `unverifiable: ${inbound.result.resultMessage}`, reply: side.receiver.reply(path, side.clientId, { result: inbound.result }) };
    const parsed = parseDisputeCallBody(call, inbound.body);
    if (!parsed.ok) return { kind: 'refused', reason: parsed.reason, reply: side.receiver.reply(path, side.clientId, { result: result('PARAM_ILLEGAL', parsed.reason) }) };
    return { ...parsed.call, livemode };
  }

  /** The signed answer to a dispute call: SUCCESS once recorded (or recorded before), else F with its code. */
  replyToDisputeCall(livemode: boolean, call: DisputeCallName, disposition: DisputeDisposition): ConnectorReply {
    const mode = modeOf(livemode);
    const side = this.sides[mode];
    if (!side) throw new Error(`${mode} mode has no Alipay+ endpoint configured`);
    return side.receiver.reply(DISPUTE_PATHS[mode][call], side.clientId, { result: dispositionResult(disposition) });
  }

  /** The wire body of a merchant's dispute response (responseRetrieval / responseEscalation). */
  buildDisputeResponse(request: ConnectorDisputeResponseRequest): ConnectorStoredDisputeResponse {
    return toDisputeResponse(request);
  }

  sendDisputeResponse(livemode: boolean, response: ConnectorStoredDisputeResponse): Promise<ConnectorDisputeResponseOutcome> {
    const side = this.sides[modeOf(livemode)];
    if (!side) return Promise.resolve({ kind: 'refused', code: 'MERCHANT_NOT_REGISTERED', message: notConfigured(livemode) });
    return side.connector.sendStoredDisputeResponse(response);
  }

  /** Whether `token` is the one this gateway put in the redirect URL it gave Alipay+ for this PaymentIntent. */
  isReturnTokenValid(livemode: boolean, paymentIntentId: string, token: string): boolean {
    const side = this.sides[modeOf(livemode)];
    if (!side) return false;
    const expected = Buffer.from(returnToken(side.returnTokenKey, paymentIntentId));
    const given = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.sides).map((side) => side.client.close()));
  }
}

function returnToken(key: Buffer, paymentIntentId: string): string {
  return createHmac('sha256', key).update(paymentIntentId).digest('base64url').slice(0, 32);
}

function notConfigured(livemode: boolean): string {
  return livemode
    ? 'Live-mode Alipay+ is not configured on this gateway (set ZHIFU_ALIPAYPLUS_BASE_URL, ZHIFU_ALIPAYPLUS_CLIENT_ID and the key files).'
    : 'Test-mode Alipay+ (the sandbox) is not configured on this gateway.';
}
