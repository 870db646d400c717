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
/** Values that are credentials whatever their name: secret and restricted keys, webhook secrets, client secrets. */
const SECRET_VALUE = /\b(?:(?:sk|rk)_(?:test|live)_[A-Za-z0-9]+|whsec_[A-Za-z0-9+/=_-]+|[a-z]+_\d+_secret_[A-Za-z0-9]+)/g;
export const REDACTED = '[REDACTED]';

/** Blanks secret-named members and secret-looking values in JSON (or any) text. Linear time. */
export function redactText(text: string): string {
  return redactSecretValues(redactSecretMembers(text));
}

/**
 * SECRET_VALUE replaced, skipping the pass when none of the literal parts every match holds
 * (`sk_`, `rk_`, `whsec_`, `_secret_`) occurs: the usual case once secret-named members (a
 * PaymentIntent's client_secret) are blanked.
 */
function redactSecretValues(text: string): string {
  if (!text.includes('sk_') && !text.includes('rk_') && !text.includes('whsec_') && !text.includes('_secret_')) return text;
  return text.replace(SECRET_VALUE, REDACTED);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/** What `\s` matches in a JavaScript regular expression. */
function isRegExpSpace(c: number): boolean {
  return (c >= 0x09 && c <= 0x0d) || c === 0x20 || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/** What `.` does not match (no `s` flag): the line terminators. */
function isLineTerminator(c: number): boolean {
  return c === 0x0a || c === 0x0d || c === 0x2028 || c === 0x2029;
}

/** The secret words of SECRET_NAME, to find where a secret-named member can start. */
const SECRET_WORD = /secret|password|passphrase|api_?key|private_?key|token/gi;

/**
 * Replaces the value of every `"name": "value"` whose name is secret-looking (SECRET_NAME) by
 * `"[REDACTED]"`; a value cut short by the cap (no closing quote) is blanked to the end. The
 * same replacements as the regular expression
 * `/"([^"\\]*(?:secret|…|token)[^"\\]*)"(\s*:\s*)"(?:[^"\\]|\\.)*(?:"|$)/gi`, which tried every
 * quote of the text (names and values alike) and searched each string for each word: here only
 * the quote opening the string around each secret word is tried. Linear time: quotes and
 * backslashes are each passed once, and a start that failed is not tried again.
 */
function redactSecretMembers(text: string): string {
  let out = '';
  let copiedUpTo = 0;
  // The quotes and backslashes around the scan: the last one before the current word and the next one after it.
  let lastQuote = -1;
  let nextQuote = text.indexOf('"');
  let lastBackslash = -1;
  let nextBackslash = text.indexOf('\\');
  let failedStart = -1;
  SECRET_WORD.lastIndex = 0;
  for (let word = SECRET_WORD.exec(text); word !== null; word = SECRET_WORD.exec(text)) {
    const at = word.index;
    if (at < copiedUpTo) continue;
    while (nextQuote !== -1 && nextQuote < at) {
      lastQuote = nextQuote;
      nextQuote = text.indexOf('"', nextQuote + 1);
    }
    while (nextBackslash !== -1 && nextBackslash < at) {
      lastBackslash = nextBackslash;
      nextBackslash = text.indexOf('\\', nextBackslash + 1);
    }
    // A member's name runs from a quote to the next quote, with no backslash, around the word.
    const start = lastQuote;
    if (start < copiedUpTo || start === failedStart || lastBackslash > start || nextQuote === -1 || (nextBackslash !== -1 && nextBackslash < nextQuote)) continue;
    const end = secretValueEnd(text, nextQuote);
    if (end === null) {
      failedStart = start;
      continue;
    }
    out += `${text.slice(copiedUpTo, end.valueStart)}"${REDACTED}"`;
    copiedUpTo = end.valueEnd;
    if (SECRET_WORD.lastIndex < copiedUpTo) SECRET_WORD.lastIndex = copiedUpTo;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

/**
 * After a name's closing quote at `nameEnd`: `\s*:\s*` and a string value, its characters and
 * escapes (a backslash and any character but a line terminator) up to a quote or the end of the
 * text. Null when the name is not followed by a string value.
 */
function secretValueEnd(text: string, nameEnd: number): { valueStart: number; valueEnd: number } | null {
  const length = text.length;
  let at = nameEnd + 1;
  while (at < length && isRegExpSpace(text.charCodeAt(at))) at++;
  if (at >= length || text.charCodeAt(at) !== COLON) return null;
  at++;
  while (at < length && isRegExpSpace(text.charCodeAt(at))) at++;
  if (at >= length || text.charCodeAt(at) !== QUOTE) return null;
  for (let i = at + 1; i < length; ) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) return { valueStart: at, valueEnd: i + 1 };
    if (c === BACKSLASH) {
      if (i + 1 >= length || isLineTerminator(text.charCodeAt(i + 1))) return null;
      i += 2;
    } else i++;
  }
  return { valueStart: at, valueEnd: length };
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
