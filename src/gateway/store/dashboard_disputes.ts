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

/**
 * Keyset on (due_by ASC NULLS LAST, id ASC), spelled out for NULL: both databases sort NULL the
 * same way once told (NULLS LAST / NULLS FIRST), but a row comparison with NULL is unknown.
 */
function deadlineKeyset(direction: 'after' | 'before', at: Pick<DisputeRow, 'id' | 'due_by'>): Expression<SqlBool> {
  const due = sql.ref('due_by');
  const id = sql.ref('id');
  if (at.due_by === null) {
    return direction === 'after' ? sql<SqlBool>`(${due} is null and ${id} > ${at.id})` : sql<SqlBool>`(${due} is not null or ${id} < ${at.id})`;
  }
  return direction === 'after'
    ? sql<SqlBool>`(${due} > ${at.due_by} or (${due} = ${at.due_by} and ${id} > ${at.id}) or ${due} is null)`
    : sql<SqlBool>`(${due} < ${at.due_by} or (${due} = ${at.due_by} and ${id} < ${at.id}))`;
}

/** One page of disputes in the asked order (limit + 1 read, so `hasMore` says whether more follow in the read direction). */
export async function listDisputesForDashboard(ex: Executor, scope: Scope, query: DisputeListQuery): Promise<{ rows: DisputeRow[]; hasMore: boolean }> {
  let select = ex.selectFrom('disputes').selectAll().where('account_id', '=', scope.accountId).where('livemode', '=', bool(scope.livemode));
  if (query.statuses !== null) select = select.where('status', 'in', [...query.statuses]);
  if (query.dueBefore !== null) select = select.where('due_by', '<', query.dueBefore);
  const backwards = query.cursor?.direction === 'before';
  if (query.order === 'created') {
    if (query.cursor !== null) select = select.where(createdKeyset(query.cursor.direction, query.cursor.at));
    const order = backwards ? 'asc' : 'desc';
    select = select.orderBy('created', order).orderBy('id', order);
  } else {
    if (query.cursor !== null) select = select.where(deadlineKeyset(query.cursor.direction, query.cursor.at));
    select = backwards
      ? select.orderBy('due_by', (ob) => ob.desc().nullsFirst()).orderBy('id', 'desc')
      : select.orderBy('due_by', (ob) => ob.asc().nullsLast()).orderBy('id', 'asc');
  }
  const rows = await select.limit(query.limit + 1).execute();
  const hasMore = rows.length > query.limit;
  const page = rows.slice(0, query.limit);
  return { rows: backwards ? page.reverse() : page, hasMore };
}

/**
 * The `charge.dispute.*` events of one dispute, oldest first. Events carry their object only in
 * their JSON, so the read seeks the account's dispute events since the dispute opened
 * (events_type_list) and keeps those whose object is this dispute; the caller checks the id exactly.
 */
export function findDisputeEventRows(ex: Executor, scope: Scope, dispute: Pick<DisputeRow, 'id' | 'created'>, types: readonly string[], limit: number): Promise<EventRow[]> {
  return ex
    .selectFrom('events')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('type', 'in', [...types])
    .where('created', '>=', dispute.created)
    .where('data', 'like', `%"id":"${dispute.id}"%`)
    .orderBy('created')
    .orderBy('id')
    .limit(limit)
    .execute();
}
