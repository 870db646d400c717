import { sql } from 'kysely';
import type { Expression, SqlBool } from 'kysely';

/** Bounds of api.md §1 lists. */
export const LIST_LIMIT_DEFAULT = 10;
export const LIST_LIMIT_MAX = 100;

export interface CreatedFilter {
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}

/** A position in a newest-first list: the (created, id) of the object a page starts after/before. */
export interface Cursor {
  created: number;
  id: string;
}

export interface ListWindow {
  limit: number;
  created: CreatedFilter;
  /** `after`: older than the cursor (next page). `before`: newer than it (previous page). */
  cursor: { direction: 'after' | 'before'; at: Cursor } | null;
}

/**
 * Conditions on (created, id) for a keyset page. Row-value comparison lets both databases
 * seek in the (account_id, livemode, created, id) index instead of scanning, so a page costs
 * the same on the millionth row as on the first.
 */
export function keysetConditions(window: ListWindow): Expression<SqlBool>[] {
  const created = sql.ref('created');
  const conditions: Expression<SqlBool>[] = [];
  const { gt, gte, lt, lte } = window.created;
  if (gt !== undefined) conditions.push(sql<SqlBool>`${created} > ${gt}`);
  if (gte !== undefined) conditions.push(sql<SqlBool>`${created} >= ${gte}`);
  if (lt !== undefined) conditions.push(sql<SqlBool>`${created} < ${lt}`);
  if (lte !== undefined) conditions.push(sql<SqlBool>`${created} <= ${lte}`);
  if (window.cursor !== null) {
    const { created: at, id } = window.cursor.at;
    conditions.push(
      window.cursor.direction === 'after'
        ? sql<SqlBool>`(${created}, ${sql.ref('id')}) < (${at}, ${id})`
        : sql<SqlBool>`(${created}, ${sql.ref('id')}) > (${at}, ${id})`,
    );
  }
  return conditions;
}

/** `before` pages are read oldest-first (nearest the cursor), then flipped back to newest-first. */
export function keysetOrder(window: ListWindow): 'asc' | 'desc' {
  return window.cursor?.direction === 'before' ? 'asc' : 'desc';
}

/** Rows were fetched with limit + 1: the extra row only says that there is more. */
export function takePage<Row>(rows: Row[], window: ListWindow): { rows: Row[]; hasMore: boolean } {
  const hasMore = rows.length > window.limit;
  const page = rows.slice(0, window.limit);
  return { rows: keysetOrder(window) === 'asc' ? page.reverse() : page, hasMore };
}
