import { sql } from 'kysely';
import type { Insertable } from 'kysely';
import type { EventRow, EventsTable, Executor } from './schema.js';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import { Precompiled, insertParameters, insertShape } from './precompiled.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/** Written in the same transaction as the state change it records (DESIGN.md). */
export function insertEvent(ex: Executor, row: Insertable<EventsTable>): Promise<unknown> {
  return insertStatement.execute(ex, row);
}

const insertStatement = new Precompiled(
  (ex: Executor, row: Insertable<EventsTable>) => ex.insertInto('events').values(row).compile(),
  (row) => insertParameters(row),
  (row) => insertShape(row),
);

export function findEventByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<EventRow | undefined> {
  return ex
    .selectFrom('events')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

export interface EventFilters {
  /** Exact type names (`type` or `types[]`). */
  types?: string[];
  /** `payment_intent.*`: every type under this prefix (the `.` included). */
  typePrefix?: string;
}

export async function listEventsByAccount(ex: Executor, scope: Scope, window: ListWindow, filters: EventFilters) {
  let query = ex
    .selectFrom('events')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  if (filters.types !== undefined) query = query.where('type', 'in', filters.types);
  // Prefixes are validated to [a-z_.] by the route, so no LIKE wildcard can slip in.
  if (filters.typePrefix !== undefined) query = query.where('type', 'like', `${filters.typePrefix}%`);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}

/**
 * Moves an event's count of deliveries not yet made by `delta` (+1 a new delivery, −1 delivered
 * or canceled). An increment in SQL, so concurrent workers never lose each other's updates.
 */
export function adjustPendingWebhooks(ex: Executor, eventId: string, delta: number): Promise<unknown> {
  return ex
    .updateTable('events')
    .set({ pending_webhooks: sql<number>`pending_webhooks + ${delta}` })
    .where('id', '=', eventId)
    .execute();
}
