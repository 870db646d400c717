import { sql } from 'kysely';
import type { Insertable, Selectable, SqlBool } from 'kysely';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { Cursor, ListWindow } from './pagination.js';
import type { Executor } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/** One answered /v1 request (migrations_request_logs.ts). Bodies are stored redacted and capped. */
export interface RequestLogsTable {
  /** The request's `req_…` id, as in its Request-Id header. */
  id: string;
  account_id: string;
  livemode: number;
  created: number;
  method: string;
  /** As requested, query string included. */
  path: string;
  /** The route pattern that served it (`/v1/payment_intents/:id`). */
  route: string | null;
  status: number;
  duration_ms: number;
  idempotency_key: string | null;
  /** 1 when the response was a stored one replayed for its Idempotency-Key. */
  idempotent_replayed: number;
  /** The last four characters of the API key used; never the key. */
  api_key_last4: string | null;
  request_body: string | null;
  response_body: string | null;
}

// The typed schema learns of the table here, so this feature stays in its own files.
declare module './schema.js' {
  interface Tables {
    request_logs: RequestLogsTable;
  }
}

export type RequestLogRow = Selectable<RequestLogsTable>;

/**
 * One multi-row INSERT for a batch. `on conflict do nothing`: a batch retried after an unclear
 * failure (the commit happened, the answer was lost) must not fail on its own rows.
 */
export async function insertRequestLogs(db: Executor, rows: Insertable<RequestLogsTable>[]): Promise<void> {
  if (rows.length === 0) return;
  await db.insertInto('request_logs').values(rows).onConflict((oc) => oc.column('id').doNothing()).execute();
}

export interface RequestLogFilter {
  method?: string;
  /** An exact status, or a half-open range (`{ gte: 400, lt: 500 }` for every 4xx). */
  status?: number | { gte?: number; lt?: number };
  /** Matches paths that start with it (compared exactly, case-sensitive, on both databases). */
  pathPrefix?: string;
  apiKeyLast4?: string;
}

/** A newest-first keyset page of one account and mode's logs (created filters in the window). */
export async function listRequestLogRows(db: Executor, scope: Scope, filter: RequestLogFilter, window: ListWindow): Promise<{ rows: RequestLogRow[]; hasMore: boolean }> {
  let query = db
    .selectFrom('request_logs')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  if (filter.method !== undefined) query = query.where('method', '=', filter.method.toUpperCase());
  if (typeof filter.status === 'number') query = query.where('status', '=', filter.status);
  else if (filter.status !== undefined) {
    if (filter.status.gte !== undefined) query = query.where('status', '>=', filter.status.gte);
    if (filter.status.lt !== undefined) query = query.where('status', '<', filter.status.lt);
  }
  if (filter.pathPrefix !== undefined && filter.pathPrefix !== '') {
    // substr rather than LIKE: no wildcards to escape, and the same case rules on both databases.
    query = query.where(sql<SqlBool>`substr(path, 1, ${filter.pathPrefix.length}) = ${filter.pathPrefix}`);
  }
  if (filter.apiKeyLast4 !== undefined) query = query.where('api_key_last4', '=', filter.apiKeyLast4);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}

export async function findRequestLog(db: Executor, scope: Scope, id: string): Promise<RequestLogRow | undefined> {
  return db
    .selectFrom('request_logs')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

export async function findRequestLogCursor(db: Executor, scope: Scope, id: string): Promise<Cursor | undefined> {
  const row = await findRequestLog(db, scope, id);
  return row === undefined ? undefined : { created: Number(row.created), id: row.id };
}

/**
 * Deletes up to `batch` rows created before `cutoff`, oldest first (through the created index),
 * and says how many went: small batches keep each statement short, so SQLite's single writer is
 * never held for long.
 */
export async function deleteRequestLogsBefore(db: Executor, cutoff: number, batch: number): Promise<number> {
  const result = await db
    .deleteFrom('request_logs')
    .where('id', 'in', (sub) => sub.selectFrom('request_logs').select('id').where('created', '<', cutoff).orderBy('created').limit(batch))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
