import { sql } from 'kysely';
import type { Expression, SqlBool } from 'kysely';
import type { DisputeStatus } from '../domain/disputes.js';
import type { DisputeRow, EventRow, Executor } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/**
 * The dashboard's reads of disputes (core/dashboard_disputes.ts): the list by status and by
 * deadline, which the API's list (newest first, by charge or PaymentIntent) does not offer, and
 * the events of one dispute. Every query is scoped to one account and mode and seeks in an index
 * of store/migrations_dashboard_disputes.ts.
 */

/** `created`: newest first (the API's order). `deadline`: soonest `due_by` first, disputes without one last. */
export type DisputeListOrder = 'created' | 'deadline';

export interface DisputeListQuery {
  /** Only these statuses (null: every status). */
  statuses: readonly DisputeStatus[] | null;
  /** Only disputes due before this instant (ms). */
  dueBefore: number | null;
  order: DisputeListOrder;
  limit: number;
  /** `after`: the rows following this one in the order (next page); `before`: those preceding it. */
  cursor: { direction: 'after' | 'before'; at: Pick<DisputeRow, 'id' | 'created' | 'due_by'> } | null;
}

function createdKeyset(direction: 'after' | 'before', at: Pick<DisputeRow, 'id' | 'created'>): Expression<SqlBool> {
  return direction === 'after'
    ? sql<SqlBool>`(${sql.ref('created')}, ${sql.ref('id')}) < (${at.created}, ${at.id})`
    : sql<SqlBool>`(${sql.ref('created')}, ${sql.ref('id')}) > (${at.created}, ${at.id})`;
}

function orderKey(query: DisputeListQuery): (a: DisputeRow, b: DisputeRow) => number {
  const byId = (a: DisputeRow, b: DisputeRow) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  const forwards = query.order === 'created'
    ? (a: DisputeRow, b: DisputeRow) => b.created - a.created || -byId(a, b)
    : (a: DisputeRow, b: DisputeRow) => (a.due_by === b.due_by ? 0 : a.due_by === null ? 1 : b.due_by === null ? -1 : a.due_by - b.due_by) || byId(a, b);
  return query.cursor?.direction === 'before' ? (a, b) => forwards(b, a) : forwards;
}

type DisputeSelect = ReturnType<typeof scopedDisputes>;

function scopedDisputes(ex: Executor, scope: Scope, query: DisputeListQuery, status: DisputeStatus | null) {
  let select = ex.selectFrom('disputes').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', bool(scope.livemode));
  if (status !== null) select = select.where('status', '=', status);
  if (query.dueBefore !== null) select = select.where('due_by', '<', query.dueBefore);
  return select;
}

/**
 * The deadline order is (due_by ASC, id ASC) with disputes without a deadline last. The two parts
 * are read apart — those with a deadline by a row comparison on (due_by, id), those without by id —
 * so each is a seek in disputes_status_deadline / disputes_deadline_list; one OR'ed condition over
 * both would make the database walk the index from its start.
 */
async function readByDeadline(select: DisputeSelect, query: DisputeListQuery): Promise<DisputeRow[]> {
  const limit = query.limit + 1;
  const cursor = query.cursor;
  const due = sql.ref('due_by');
  const id = sql.ref('id');
  const dated = (direction: 'asc' | 'desc', after?: Expression<SqlBool>) =>
    (after === undefined ? select : select.where(after)).where('due_by', 'is not', null).orderBy('due_by', direction).orderBy('id', direction).limit(limit).execute();
  const undated = (direction: 'asc' | 'desc', after?: Expression<SqlBool>) =>
    (after === undefined ? select : select.where(after)).where('due_by', 'is', null).orderBy('id', direction).limit(limit).execute();
  if (cursor?.direction === 'before') {
    const at = cursor.at;
    if (at.due_by !== null) return dated('desc', sql<SqlBool>`(${due}, ${id}) < (${at.due_by}, ${at.id})`);
    const rows = await undated('desc', sql<SqlBool>`${id} < ${at.id}`);
    return rows.length < limit ? [...rows, ...(await dated('desc'))].slice(0, limit) : rows;
  }
  const at = cursor?.at ?? null;
  if (at !== null && at.due_by === null) return undated('asc', sql<SqlBool>`${id} > ${at.id}`);
  const rows = await dated('asc', at === null ? undefined : sql<SqlBool>`(${due}, ${id}) > (${at.due_by}, ${at.id})`);
  return rows.length < limit ? [...rows, ...(await undated('asc'))].slice(0, limit) : rows;
}

/** The rows of one status (or all) in the read order, limit + 1 of them. */
function readRows(ex: Executor, scope: Scope, query: DisputeListQuery, status: DisputeStatus | null): Promise<DisputeRow[]> {
  const select = scopedDisputes(ex, scope, query, status);
  if (query.order === 'deadline') return readByDeadline(select, query);
  const order = query.cursor?.direction === 'before' ? 'asc' : 'desc';
  const keyed = query.cursor === null ? select : select.where(createdKeyset(query.cursor.direction, query.cursor.at));
  return keyed.orderBy('created', order).orderBy('id', order).limit(query.limit + 1).execute();
}

/**
 * One page of disputes in the asked order (limit + 1 read, so `hasMore` says whether more follow
 * in the read direction). Several statuses (the "open" filter) are read one status at a time and
 * merged, so each read is a seek on (account, mode, status, order key) — an IN list would leave
 * the planner to walk the whole account in deadline order past every closed dispute.
 */
export async function listDisputesForDashboard(ex: Executor, scope: Scope, query: DisputeListQuery): Promise<{ rows: DisputeRow[]; hasMore: boolean }> {
  const statuses = query.statuses === null ? [null] : [...new Set(query.statuses)];
  const read = (await Promise.all(statuses.map((status) => readRows(ex, scope, query, status)))).flat();
  if (statuses.length > 1) read.sort(orderKey(query));
  const rows = read.slice(0, query.limit + 1);
  const hasMore = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  return { rows: query.cursor?.direction === 'before' ? page.reverse() : page, hasMore };
}

/**
 * The `charge.dispute.*` events of one dispute, oldest first. Events carry their object only in
 * their JSON, so each type is read with a seek in events_type_list (account, mode, type, created)
 * from the dispute's creation on, keeping those whose object is this dispute (the caller checks
 * the id exactly). One type at a time: with an IN list the planner may prefer events_list and walk
 * every event of the account since then.
 */
export async function findDisputeEventRows(ex: Executor, scope: Scope, dispute: Pick<DisputeRow, 'id' | 'created'>, types: readonly string[], limit: number): Promise<EventRow[]> {
  const perType = await Promise.all(types.map((type) =>
    ex
      .selectFrom('events')
      .selectAll()
      .where('account_id', '=', scope.accountId)
      .where('livemode', '=', bool(scope.livemode))
      .where('type', '=', type)
      .where('created', '>=', dispute.created)
      .where('data', 'like', `%"id":"${dispute.id}"%`)
      .orderBy('created')
      .orderBy('id')
      .limit(limit)
      .execute(),
  ));
  return perType.flat().sort((a, b) => a.created - b.created || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, limit);
}
