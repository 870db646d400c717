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
  detail: string | null;
}

export interface DeliveryOptions {
  ctx: SandboxContext;
  agent: Agent;
  nowMs: number;
  /** 2 when a `duplicate` fault sends the same signed message twice. */
  copies: number;
  timeoutMs: number;
  stopSignal: AbortSignal;
}

/**
 * POSTs the stored notification body, byte for byte, signed as an Alipay+ request. It counts as
 * acknowledged only when the answer is 2xx, signed by the acquirer's key, and says `S`.
 */
export async function deliverNotification(row: NotificationRow, options: DeliveryOptions): Promise<DeliveryResult[]> {
  const url = new URL(row.url);
  const path = url.pathname + url.search;
  const headers = signedHeaders({ kind: 'request', path, clientId: row.client_id, body: row.body, privateKey: options.ctx.privateKey, nowMs: options.nowMs });
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
    return { outcome: 'failed', httpStatus: null, detail: transportDetail(error, options) };
  }
  let text: string;
  try {
    text = await readBodyCapped(response.body, ACK_BYTES_MAX);
  } catch (error) {
    return { outcome: 'failed', httpStatus: response.statusCode, detail: transportDetail(error, options) };
  }
  return judgeAcknowledgement(row, path, response.statusCode, response.headers, text, options.ctx);
}

function judgeAcknowledgement(row: NotificationRow, path: string, status: number, headers: Record<string, string | string[] | undefined>, text: string, ctx: SandboxContext): DeliveryResult {
  const rejected = (detail: string): DeliveryResult => ({ outcome: 'rejected', httpStatus: status, detail: truncate(detail) });
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
  let resultStatus: unknown;
  try {
    resultStatus = (JSON.parse(text) as { result?: { resultStatus?: unknown } } | null)?.result?.resultStatus;
  } catch {
    return rejected('acknowledgement is not JSON');
  }
  if (readResultStatus(resultStatus) !== 'S') return rejected(`acknowledgement result is not S: ${text}`);
  return { outcome: 'acknowledged', httpStatus: status, detail: null };
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
