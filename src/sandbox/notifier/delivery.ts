import { request, type Agent } from 'undici';
import { readBodyCapped, readResultStatus, signedHeaders, verifySignedMessage } from '../../alipayplus/index.js';
import type { SandboxContext } from '../core/context.js';
import type { NotificationRow, SendOutcome } from '../store/notifications.js';

/** An acknowledgement is a small JSON object; anything longer is not one, and reading stops there. */
const ACK_BYTES_MAX = 64 * 1024;
const DETAIL_CHARS_MAX = 500;

export interface DeliveryResult {
  outcome: SendOutcome;
  httpStatus: number | null;
  /** The result of a verified, signed answer (null when the answer was missing or not verified). */
  ackStatus: 'S' | 'F' | 'U' | null;
  ackCode: string | null;
  detail: string | null;
}

export interface DeliveryOptions {
  ctx: SandboxContext;
  agent: Agent;
  nowMs: number;
  /** 2 when a `duplicate` fault sends the same signed message twice. */
  copies: number;
  /** A `bad_signature` fault: the message carries a signature that cannot verify. */
  badSignature?: boolean;
  timeoutMs: number;
  stopSignal: AbortSignal;
}

/**
 * POSTs the stored body (a notifyPayment or a dispute call), byte for byte, signed as an Alipay+
 * request. It counts as acknowledged only when the answer is 2xx, signed by the acquirer's key, and
 * says `S`. A dispute call answered with a verified `F` is `refused`: the acquirer has decided, and
 * sending it again would not change that.
 */
export async function deliverNotification(row: NotificationRow, options: DeliveryOptions): Promise<DeliveryResult[]> {
  const url = new URL(row.url);
  const path = url.pathname + url.search;
  const headers: Record<string, string> = { ...signedHeaders({ kind: 'request', path, clientId: row.client_id, body: row.body, privateKey: options.ctx.privateKey, nowMs: options.nowMs }) };
  if (options.badSignature) {
    // Signed with the right key over other bytes: well-formed, but it cannot verify against this body.
    headers.Signature = signedHeaders({ kind: 'request', path, clientId: row.client_id, body: `${row.body} `, privateKey: options.ctx.privateKey, nowMs: options.nowMs }).Signature;
  }
  const results: DeliveryResult[] = [];
  for (let copy = 0; copy < options.copies; copy++) results.push(await sendOnce(row, path, { ...headers }, options));
  return results;
}

async function sendOnce(row: NotificationRow, path: string, headers: Record<string, string>, options: DeliveryOptions): Promise<DeliveryResult> {
  let response;
  try {
    response = await request(row.url, {
      method: 'POST',
      headers,
      body: row.body,
      dispatcher: options.agent,
      signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), options.stopSignal]),
    });
  } catch (error) {
    return { outcome: 'failed', httpStatus: null, ackStatus: null, ackCode: null, detail: transportDetail(error, options) };
  }
  let text: string;
  try {
    text = await readBodyCapped(response.body, ACK_BYTES_MAX);
  } catch (error) {
    return { outcome: 'failed', httpStatus: response.statusCode, ackStatus: null, ackCode: null, detail: transportDetail(error, options) };
  }
  return judgeAcknowledgement(row, path, response.statusCode, response.headers, text, options.ctx);
}

function judgeAcknowledgement(row: NotificationRow, path: string, status: number, headers: Record<string, string | string[] | undefined>, text: string, ctx: SandboxContext): DeliveryResult {
  const rejected = (detail: string, ack: Pick<DeliveryResult, 'ackStatus' | 'ackCode'> = { ackStatus: null, ackCode: null }): DeliveryResult => ({
    outcome: 'rejected',
    httpStatus: status,
    ...ack,
    detail: truncate(detail),
  });
  if (status < 200 || status >= 300) return rejected(`HTTP ${status}: ${text}`);
  const verified = verifySignedMessage({
    kind: 'response',
    path,
    headers,
    body: text,
    // Only the key of the acquirer the notification is for may acknowledge it.
    publicKeyFor: (clientId) => (clientId === row.client_id ? ctx.clientPublicKey(clientId) : undefined),
  });
  if (!verified.ok) return rejected(`acknowledgement not validly signed (${verified.failure}: ${verified.message})`);
  let answer: { resultStatus?: unknown; resultCode?: unknown } | undefined;
  try {
    answer = (JSON.parse(text) as { result?: { resultStatus?: unknown; resultCode?: unknown } } | null)?.result;
  } catch {
    return rejected('acknowledgement is not JSON');
  }
  const resultStatus = readResultStatus(answer?.resultStatus);
  const ack = { ackStatus: resultStatus === 'unrecognized' ? null : resultStatus, ackCode: typeof answer?.resultCode === 'string' ? truncate(answer.resultCode) : null };
  // A verified F ends a dispute call — unless it only says our signature did not verify (a
  // `bad_signature` fault, a key being rotated): that is about this send, and the retry may pass.
  if (resultStatus === 'F' && row.api !== 'notifyPayment' && ack.ackCode !== 'INVALID_SIGNATURE') {
    return { outcome: 'refused', httpStatus: status, ...ack, detail: truncate(`acquirer refused: ${text}`) };
  }
  if (resultStatus !== 'S') return rejected(`acknowledgement result is not S: ${text}`, ack);
  return { outcome: 'acknowledged', httpStatus: status, ...ack, detail: null };
}

function transportDetail(error: unknown, options: DeliveryOptions): string {
  if (options.stopSignal.aborted) return 'sandbox stopped before an answer arrived';
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') return `no answer within ${options.timeoutMs} ms`;
  return truncate(error instanceof Error ? error.message : String(error));
}


function truncate(text: string): string {
  return text.length > DETAIL_CHARS_MAX ? `${text.slice(0, DETAIL_CHARS_MAX)}…` : text;
}
