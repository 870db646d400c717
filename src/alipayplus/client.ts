import type { KeyObject } from 'node:crypto';
import { Agent, request } from 'undici';
import { signedHeaders, verifySignedMessage } from './message.js';
import { readResultStatus } from './result.js';
import { loadPrivateKey, loadPublicKey } from './signature.js';
import {
  API_PATHS,
  type CancelPaymentRequest,
  type CancelPaymentResponse,
  type InquiryPaymentRequest,
  type InquiryPaymentResponse,
  type PayRequest,
  type PayResponse,
  type RefundRequest,
  type RefundResponse,
  type ResponseEscalationRequest,
  type ResponseRetrievalRequest,
  type DisputeResponseResult,
  type Result,
} from './wire.js';

export const CLIENT_TIMEOUT_MS_DEFAULT = 10_000;
export const CLIENT_CONNECTIONS_MAX_DEFAULT = 64;
/** Responses larger than this are not Alipay+ responses; reading stops there. */
export const RESPONSE_BYTES_MAX = 1024 * 1024;

/**
 * How a call failed:
 * - `F`: the network said no. Do not retry this request id.
 * - `U`: the outcome is unknown (a `U` result, or a response that is not validly signed).
 *   Retry the same request with the same request id, or inquire.
 * - `transport`: no usable answer at all (timeout, connection refused, non-2xx, garbage body).
 *   The request may or may not have been processed: retry the same request id, or inquire.
 */
export type AlipayPlusErrorKind = 'F' | 'U' | 'transport';

export class AlipayPlusError extends Error {
  override readonly name = 'AlipayPlusError';
  constructor(
    readonly kind: AlipayPlusErrorKind,
    readonly resultCode: string,
    message: string,
    /** The verified response body, when there was one. */
    readonly response?: { result: Result } & Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Whether re-sending the same request (same request id) may still succeed. */
  get retryable(): boolean {
    return this.kind !== 'F';
  }
}

export interface AlipayPlusClientOptions {
  /** e.g. `https://open-sea.alipayplus.com` or the sandbox's `http://127.0.0.1:4343`. */
  baseUrl: string;
  clientId: string;
  /** Our private key (PKCS#8 PEM or base64 DER). */
  privateKey: string | KeyObject;
  /** Alipay+'s public key (X.509 PEM or base64 DER), used to verify every response. */
  alipayPublicKey: string | KeyObject;
  timeoutMs?: number;
  connectionsMax?: number;
  now?: () => number;
}

/**
 * A typed Alipay+ client. Every request is signed; every response must carry a valid signature
 * or the call fails as `U` (the outcome is then unknown, never trusted). Connections are pooled
 * with keep-alive. The client never retries by itself: the caller decides, with the same id.
 */
export class AlipayPlusClient {
  private readonly agent: Agent;
  private readonly privateKey: KeyObject;
  private readonly alipayPublicKey: KeyObject;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  readonly baseUrl: string;
  readonly clientId: string;

  constructor(options: AlipayPlusClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.clientId = options.clientId;
    this.privateKey = loadPrivateKey(options.privateKey);
    this.alipayPublicKey = loadPublicKey(options.alipayPublicKey);
    this.timeoutMs = options.timeoutMs ?? CLIENT_TIMEOUT_MS_DEFAULT;
    this.now = options.now ?? Date.now;
    this.agent = new Agent({
      connections: options.connectionsMax ?? CLIENT_CONNECTIONS_MAX_DEFAULT,
      keepAliveTimeout: 30_000,
      headersTimeout: this.timeoutMs,
      bodyTimeout: this.timeoutMs,
    });
  }

  /**
   * Creates a cashier payment. Resolves with the response when the order was created
   * (`U / PAYMENT_IN_PROCESS` with a URL or code to send the shopper to).
   */
  pay(body: PayRequest): Promise<PayResponse> {
    return this.call<PayResponse>(API_PATHS.pay, body, (response) => response.result.resultCode === 'PAYMENT_IN_PROCESS' && hasPaymentDestination(response));
  }

  /** Resolves when the inquiry itself succeeded; the payment's state is in `paymentResult`. */
  inquiryPayment(body: InquiryPaymentRequest): Promise<InquiryPaymentResponse> {
    return this.call<InquiryPaymentResponse>(API_PATHS.inquiryPayment, body);
  }

  /** Resolves when the payment is cancelled; `F / CANCEL_WINDOW_EXCEED` means refund instead. */
  cancelPayment(body: CancelPaymentRequest): Promise<CancelPaymentResponse> {
    return this.call<CancelPaymentResponse>(API_PATHS.cancelPayment, body);
  }

  /** Resolves when the refund succeeded. Retry `U`/transport errors with the same refundRequestId. */
  refund(body: RefundRequest): Promise<RefundResponse> {
    return this.call<RefundResponse>(API_PATHS.refund, body);
  }

  /** The merchant's answer to a retrieval. Safe to repeat with the same disputeRequestId and body. */
  responseRetrieval(body: ResponseRetrievalRequest): Promise<DisputeResponseResult> {
    return this.call<DisputeResponseResult>(API_PATHS.responseRetrieval, body);
  }

  /** The merchant's defence or acceptance of an escalation. Safe to repeat with the same disputeRequestId and body. */
  responseEscalation(body: ResponseEscalationRequest): Promise<DisputeResponseResult> {
    return this.call<DisputeResponseResult>(API_PATHS.responseEscalation, body);
  }

  /**
   * Sends one signed request and verifies the signed response. Resolves when the result is `S`
   * (or `accept` says the result is the expected one); otherwise rejects with an AlipayPlusError.
   */
  async call<T extends { result: Result }>(path: string, body: object, accept?: (response: T) => boolean): Promise<T> {
    const payload = JSON.stringify(body);
    const headers = signedHeaders({ kind: 'request', path, clientId: this.clientId, body: payload, privateKey: this.privateKey, nowMs: this.now() });
    const { statusCode, responseHeaders, text } = await this.send(path, headers, payload);

    if (statusCode < 200 || statusCode >= 300) {
      throw new AlipayPlusError('transport', 'HTTP_STATUS', `Alipay+ answered HTTP ${statusCode} on ${path}`);
    }
    const verified = verifySignedMessage({
      kind: 'response',
      path,
      headers: responseHeaders,
      body: text,
      publicKeyFor: (clientId) => (clientId === this.clientId ? this.alipayPublicKey : undefined),
    });
    if (!verified.ok) {
      throw new AlipayPlusError('U', 'RESPONSE_SIGNATURE_INVALID', `response to ${path} is not validly signed (${verified.failure}: ${verified.message}); its outcome is unknown`);
    }
    const response = parseResponse<T>(text, path);
    const status = readResultStatus(response.result.resultStatus);
    if (status === 'S' || accept?.(response)) return response;
    const { resultCode, resultMessage } = response.result;
    const kind: AlipayPlusErrorKind = status === 'F' ? 'F' : 'U';
    throw new AlipayPlusError(kind, String(resultCode), `${path}: ${status} / ${resultCode}: ${resultMessage}`, response);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(path: string, headers: Record<string, string>, payload: string) {
    try {
      const response = await request(this.baseUrl + path, {
        method: 'POST',
        headers,
        body: payload,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await readBodyCapped(response.body, RESPONSE_BYTES_MAX);
      return { statusCode: response.statusCode, responseHeaders: response.headers, text };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError' || /timeout/i.test(error.message));
      const code = timedOut ? 'TIMEOUT' : 'CONNECTION_FAILED';
      const reason = error instanceof Error ? error.message : String(error);
      throw new AlipayPlusError('transport', code, `${path}: ${timedOut ? `no answer within ${this.timeoutMs} ms` : reason}`, undefined, { cause: error });
    }
  }
}

function hasPaymentDestination(response: PayResponse): boolean {
  return Boolean(response.normalUrl || response.applinkUrl || response.schemeUrl || response.orderCodeForm?.codeDetails?.length);
}

/** Reads a response body as UTF-8, refusing to buffer more than `maxBytes` of it. */
export async function readBodyCapped(body: AsyncIterable<Buffer | Uint8Array>, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > maxBytes) throw new Error(`response larger than ${maxBytes} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseResponse<T extends { result: Result }>(text: string, path: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AlipayPlusError('transport', 'INVALID_RESPONSE', `response to ${path} is not JSON`);
  }
  const result = (parsed as { result?: unknown } | null)?.result as Record<string, unknown> | undefined;
  if (typeof result !== 'object' || result === null || typeof result.resultCode !== 'string') {
    throw new AlipayPlusError('transport', 'INVALID_RESPONSE', `response to ${path} has no result`);
  }
  return parsed as T;
}
