import { sql } from 'kysely';
import type { Executor, WebhookDeliveryAttemptRow, WebhookDeliveryRow, WebhookDeliveryStatus } from './schema.js';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';

/* Deliveries are worked under a lease: every write after the claim compares the lease token, so a
   worker whose lease expired (and was taken over by another process) cannot overwrite the outcome. */

export async function insertDeliveries(ex: Executor, rows: WebhookDeliveryRow[]): Promise<void> {
  if (rows.length > 0) await ex.insertInto('webhook_deliveries').values(rows).execute();
}

/**
 * Ids of pending deliveries due at `nowMs` and not leased, soonest first. Every process claims in
 * this one order (ties broken by id), so on PostgreSQL two claiming transactions wait on each
 * other's row locks in the same order and never deadlock.
 */
export function findDueDeliveries(ex: Executor, nowMs: number, limit: number, excludedEndpointIds: string[] = []): Promise<Pick<WebhookDeliveryRow, 'id' | 'endpoint_id'>[]> {
  let query = ex
    .selectFrom('webhook_deliveries')
    .select(['id', 'endpoint_id'])
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', nowMs)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', nowMs)]));
  if (excludedEndpointIds.length > 0) query = query.where('endpoint_id', 'not in', excludedEndpointIds);
  return query
    .orderBy('next_attempt_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * Claims the given due deliveries in one statement (one round trip, one commit however many):
 * a compare-and-set per row (pending, due, lease free), so a row another process claimed since it
 * was read is simply not returned. On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED` in
 * id order first: a row another process is claiming right now is skipped rather than waited
 * for, and two claims never deadlock. Returns the ids claimed.
 */
export async function claimDeliveries(ex: Executor, kind: 'sqlite' | 'postgres', ids: string[], nowMs: number, leaseUntilMs: number, token: string): Promise<string[]> {
  if (ids.length === 0) return [];
  let query = ex
    .updateTable('webhook_deliveries')
    .set({ lease_until: leaseUntilMs, lease_token: token })
    // On SQLite `+status` keeps the planner off the due-order index: through it the UPDATE scanned
    // every due row (the whole backlog) per claim; by primary key it reads only the ids given.
    .where(kind === 'sqlite' ? sql<string>`+${sql.ref('status')}` : sql.ref('status'), '=', 'pending')
    .where('next_attempt_at', '<=', nowMs)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', nowMs)]));
  query = kind === 'postgres'
    ? query.where('id', 'in', ex
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('id', 'in', ids)
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', nowMs)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', nowMs)]))
      .orderBy('id')
      .forUpdate()
      .skipLocked())
    : query.where('id', 'in', ids);
  const rows = await query.returning('id').execute();
  return rows.map((row) => row.id);
}

/** What the attempts need, for many deliveries in one query: each delivery, its endpoint (if it still exists) and the event's bytes. */
export function findDeliveriesWork(ex: Executor, ids: string[]) {
  return ex
    .selectFrom('webhook_deliveries as d')
    .innerJoin('events as e', 'e.id', 'd.event_id')
    .leftJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
    .select(['d.id', 'd.event_id', 'd.endpoint_id', 'd.attempt_count', 'e.body', 'w.url', 'w.secret', 'w.status as endpoint_status'])
    .where('d.id', 'in', ids)
    .execute();
}

export interface AttemptRecord {
  attemptedAtMs: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
}

/** One leased delivery's recorded attempt and next state, for recordDeliveryOutcomes. */
export interface DeliveryOutcome {
  id: string;
  token: string;
  attempt: AttemptRecord;
  next: { status: WebhookDeliveryStatus; nextAttemptAtMs: number | null };
}

/**
 * Moves leased deliveries to their next states in ONE statement (each row's values picked per
 * column by `CASE id`): a recorded batch costs one UPDATE instead of one per attempt. Each row
 * still moves only while pending under its own lease token; returns the ids that moved (a lost
 * lease is not among them).
 */
export async function recordDeliveryOutcomes(ex: Executor, kind: 'sqlite' | 'postgres', outcomes: DeliveryOutcome[]): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  const id = sql.ref('id');
  // CAST on both sides keeps PostgreSQL from reading the parameters as text.
  const pick = (column: string, type: 'bigint' | 'text', value: (o: DeliveryOutcome) => string | number | null | undefined) => {
    const branches = outcomes.filter((o) => value(o) !== undefined).map((o) => sql`when ${o.id} then cast(${value(o)} as ${sql.raw(type)})`);
    return branches.length === 0 ? sql<never>`${sql.ref(column)}` : sql<never>`case ${id} ${sql.join(branches, sql` `)} else ${sql.ref(column)} end`;
  };
  const rows = await ex
    .updateTable('webhook_deliveries')
    .set({
      status: pick('status', 'text', (o) => o.next.status),
      next_attempt_at: pick('next_attempt_at', 'bigint', (o) => o.next.nextAttemptAtMs),
      attempt_count: sql<number>`attempt_count + 1`,
      lease_until: null,
      lease_token: null,
      last_attempt_at: pick('last_attempt_at', 'bigint', (o) => o.attempt.attemptedAtMs),
      last_status_code: pick('last_status_code', 'bigint', (o) => o.attempt.statusCode),
      last_latency_ms: pick('last_latency_ms', 'bigint', (o) => o.attempt.latencyMs),
      last_error: pick('last_error', 'text', (o) => o.attempt.error),
      delivered_at: pick('delivered_at', 'bigint', (o) => (o.next.status === 'delivered' ? o.attempt.attemptedAtMs : undefined)),
    })
    .where('id', 'in', outcomes.map((o) => o.id).sort())
    // As in claimDeliveries: by primary key on SQLite, not through the due-order index.
    .where(kind === 'sqlite' ? sql<string>`+${sql.ref('status')}` : sql.ref('status'), '=', 'pending')
    .where('lease_token', '=', sql<string>`case ${id} ${sql.join(outcomes.map((o) => sql`when ${o.id} then cast(${o.token} as text)`), sql` `)} end`)
    .returning('id')
    .execute();
  return new Set(rows.map((row) => row.id));
}

export function insertDeliveryAttempt(ex: Executor, row: WebhookDeliveryAttemptRow): Promise<unknown> {
  return ex.insertInto('webhook_delivery_attempts').values(row).execute();
}

/** Several attempts in one INSERT (a batch of outcomes recorded together). */
export async function insertDeliveryAttempts(ex: Executor, rows: WebhookDeliveryAttemptRow[]): Promise<void> {
  if (rows.length > 0) await ex.insertInto('webhook_delivery_attempts').values(rows).execute();
}

/**
 * Lowers `pending_webhooks` of several events by `by` each, in one UPDATE (ids sorted, so
 * concurrent batches lock the events in one order).
 */
export async function lowerPendingWebhooks(ex: Executor, eventIds: string[], by: number): Promise<void> {
  if (eventIds.length === 0) return;
  await ex
    .updateTable('events')
    .set({ pending_webhooks: sql<number>`pending_webhooks - ${by}` })
    .where('id', 'in', [...eventIds].sort())
    .execute();
}

/** Cancels a delivery whose endpoint vanished or was disabled while it was leased. */
export async function cancelLeasedDelivery(ex: Executor, id: string, token: string, reason: string): Promise<boolean> {
  const result = await ex
    .updateTable('webhook_deliveries')
    .set({ status: 'canceled', next_attempt_at: null, lease_until: null, lease_token: null, last_error: reason })
    .where('id', '=', id)
    .where('status', '=', 'pending')
    .where('lease_token', '=', token)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Cancels an endpoint's pending deliveries (disabled or deleted); returns their event ids. */
export async function cancelPendingDeliveriesOfEndpoint(ex: Executor, endpointId: string, reason: string): Promise<string[]> {
  const rows = await ex
    .updateTable('webhook_deliveries')
    .set({ status: 'canceled', next_attempt_at: null, lease_until: null, lease_token: null, last_error: reason })
    .where('endpoint_id', '=', endpointId)
    .where('status', '=', 'pending')
    .returning('event_id')
    .execute();
  return rows.map((row) => row.event_id);
}

/** Supersedes the undelivered deliveries of one event to one endpoint (a manual retry); returns how many. */
export async function supersedeUndelivered(ex: Executor, eventId: string, endpointId: string): Promise<number> {
  const rows = await ex
    .updateTable('webhook_deliveries')
    .set({ status: 'canceled', next_attempt_at: null, lease_until: null, lease_token: null, last_error: 'superseded by a manual retry' })
    .where('event_id', '=', eventId)
    .where('endpoint_id', '=', endpointId)
    .where('status', 'in', ['pending', 'failed'])
    .returning('id')
    .execute();
  return rows.length;
}

export interface DeliveryFilters {
  status?: WebhookDeliveryStatus;
  eventId?: string;
}

export async function listDeliveriesByEndpoint(ex: Executor, endpointId: string, window: ListWindow, filters: DeliveryFilters) {
  let query = ex.selectFrom('webhook_deliveries').selectAll().where('endpoint_id', '=', endpointId);
  if (filters.status !== undefined) query = query.where('status', '=', filters.status);
  if (filters.eventId !== undefined) query = query.where('event_id', '=', filters.eventId);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}

export function findDeliveryOfEndpoint(ex: Executor, endpointId: string, id: string): Promise<WebhookDeliveryRow | undefined> {
  return ex.selectFrom('webhook_deliveries').selectAll().where('id', '=', id).where('endpoint_id', '=', endpointId).executeTakeFirst();
}

/** The attempts of some deliveries, oldest first (one query for a whole page). */
export function findAttemptsOfDeliveries(ex: Executor, deliveryIds: string[]): Promise<WebhookDeliveryAttemptRow[]> {
  if (deliveryIds.length === 0) return Promise.resolve([]);
  return ex
    .selectFrom('webhook_delivery_attempts')
    .selectAll()
    .where('delivery_id', 'in', deliveryIds)
    .orderBy('attempted_at')
    .orderBy('id')
    .execute();
}
