import type { Insertable } from 'kysely';
import type { Executor } from '../store/schema.js';
import { findRequestLog, findRequestLogCursor, listRequestLogRows } from '../store/request_logs.js';
import type { RequestLogFilter, RequestLogRow, RequestLogsTable } from '../store/request_logs.js';
import type { Scope } from '../store/scope.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';

export type { RequestLogFilter } from '../store/request_logs.js';

/** Each body is stored up to this many characters (64 KiB of ASCII), then cut with a marker. */
export const REQUEST_LOG_BODY_MAX = 64 * 1024;
export const TRUNCATED_MARKER = '…[truncated]';

/**
 * What the HTTP hook hands over for one answered request: references and numbers only, so the
 * request's own path does no serialization or redaction (that happens in the writer's batch).
 */
export interface CapturedRequest {
  id: string;
  accountId: string;
  livemode: boolean;
  created: number;
  method: string;
  path: string;
  route: string | null;
  status: number;
  durationMs: number;
  idempotencyKey: string | null;
  idempotentReplayed: boolean;
  apiKeyLast4: string | null;
  /** The parsed parameters (JSON or form), or already-capped text for a large body. */
  requestBody: unknown;
  /** The response payload as sent (already JSON text). */
  responseBody: string | null;
}

/** Where the HTTP layer puts captured requests; must never block nor throw (workers/request_logs.ts). */
export interface RequestLogSink {
  enqueue(entry: CapturedRequest): void;
}

/** Parameter names whose values never reach the log: webhook secrets, client secrets, passwords, keys. */
const SECRET_NAME = /secret|password|passphrase|api_?key|private_?key|token/i;
/** `"name": "value"` in JSON text whose name is secret-looking; an unterminated value (cut body) too. */
const SECRET_JSON_MEMBER = /"([^"\\]*(?:secret|password|passphrase|api_?key|private_?key|token)[^"\\]*)"(\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)/gi;
/** Values that are credentials whatever their name: secret and restricted keys, webhook secrets, client secrets. */
const SECRET_VALUE = /\b(?:(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+|whsec_[A-Za-z0-9+/=_-]+|[a-z]+_\d+_secret_[A-Za-z0-9]+)/g;
export const REDACTED = '[REDACTED]';

/** Blanks secret-named members and secret-looking values in JSON (or any) text. Linear-time patterns. */
export function redactText(text: string): string {
  return text.replace(SECRET_JSON_MEMBER, (_m, name: string, colon: string) => `"${name}"${colon}"${REDACTED}"`).replace(SECRET_VALUE, REDACTED);
}

/** A copy of parsed parameters with secret-named members blanked (form bodies never were JSON text). */
function redactParams(value: unknown, depth = 0): unknown {
  if (typeof value !== 'object' || value === null || depth > 25) return value;
  if (Array.isArray(value)) return value.map((item) => redactParams(item, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) out[key] = SECRET_NAME.test(key) && child !== null && child !== '' ? REDACTED : redactParams(child, depth + 1);
  return out;
}

/** Cuts text to the cap, marking the cut. */
export function capBody(text: string, max = REQUEST_LOG_BODY_MAX): string {
  return text.length <= max ? text : text.slice(0, max) + TRUNCATED_MARKER;
}

function requestBodyText(body: unknown): string | null {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return capBody(redactText(body));
  if (typeof body === 'object' && Object.keys(body).length === 0) return null;
  return capBody(redactText(JSON.stringify(redactParams(body))));
}

/**
 * The stored row of a captured request: bodies redacted, then capped (redacting first means a
 * cut can never leave the start of a secret behind its name).
 */
export function requestLogRow(entry: CapturedRequest): Insertable<RequestLogsTable> {
  return {
    id: entry.id,
    account_id: entry.accountId,
    livemode: entry.livemode ? 1 : 0,
    created: entry.created,
    method: entry.method,
    path: capBody(redactText(entry.path), 2048),
    route: entry.route,
    status: entry.status,
    duration_ms: Math.round(entry.durationMs),
    idempotency_key: entry.idempotencyKey,
    idempotent_replayed: entry.idempotentReplayed ? 1 : 0,
    api_key_last4: entry.apiKeyLast4,
    request_body: requestBodyText(entry.requestBody),
    response_body: entry.responseBody === null || entry.responseBody === '' ? null : capBody(redactText(entry.responseBody)),
  };
}

/** A request log as the dashboard shows it: the captured request, its bodies redacted and capped as stored. */
export type RequestLog = Omit<CapturedRequest, 'accountId' | 'requestBody' | 'responseBody'> & {
  requestBody: string | null;
  responseBody: string | null;
};

function toRequestLog(row: RequestLogRow): RequestLog {
  return {
    id: row.id,
    created: Number(row.created),
    livemode: Number(row.livemode) === 1,
    method: row.method,
    path: row.path,
    route: row.route,
    status: Number(row.status),
    durationMs: Number(row.duration_ms),
    idempotencyKey: row.idempotency_key,
    idempotentReplayed: Number(row.idempotent_replayed) === 1,
    apiKeyLast4: row.api_key_last4,
    requestBody: row.request_body,
    responseBody: row.response_body,
  };
}

/**
 * One account and mode's request logs, newest first, keyset-paged (`starting_after` /
 * `ending_before` are request ids; `created` bounds the time range). Another account's request id
 * as a cursor is "no such request log", like every other list.
 */
export async function listRequestLogs(db: Executor, scope: Scope, filter: RequestLogFilter, params: ListParams): Promise<Page<RequestLog>> {
  const window = await listWindow(params, 'request log', (id) => findRequestLogCursor(db, scope, id));
  const { rows, hasMore } = await listRequestLogRows(db, scope, filter, window);
  return { data: rows.map(toRequestLog), hasMore };
}

/** One request log by its request id, within the caller's account and mode (undefined otherwise). */
export async function getRequestLog(db: Executor, scope: Scope, requestId: string): Promise<RequestLog | undefined> {
  const row = await findRequestLog(db, scope, requestId);
  return row === undefined ? undefined : toRequestLog(row);
}
