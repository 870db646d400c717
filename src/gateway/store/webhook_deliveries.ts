import { sql } from 'kysely';
import { Precompiled } from './precompiled.js';
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
export async function findDueDeliveries(ex: Executor, nowMs: number, limit: number, excludedEndpointIds: string[] = []): Promise<Pick<WebhookDeliveryRow, 'id' | 'endpoint_id'>[]> {
  const result = await dueStatement.execute<Pick<WebhookDeliveryRow, 'id' | 'endpoint_id'>>(ex, nowMs, limit, excludedEndpointIds);
  return result.rows;
}

/** Built once per count of excluded endpoints: the worker asks on every wake-up, mostly finding nothing. */
const dueStatement = new Precompiled(
  (ex: Executor, nowMs: number, limit: number, excludedEndpointIds: string[]) => {
    let query = ex
      .selectFrom('webhook_deliveries')
      .select(['id', 'endpoint_id'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', nowMs)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', nowMs)]));
    if (excludedEndpointIds.length > 0) query = query.where('endpoint_id', 'not in', excludedEndpointIds);
    return query.orderBy('next_attempt_at').orderBy('id').limit(limit).compile();
  },
  (nowMs, limit, excludedEndpointIds) => ['pending', nowMs, nowMs, ...excludedEndpointIds, limit],
  (_nowMs, _limit, excludedEndpointIds) => String(excludedEndpointIds.length),
);

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
 * Moves leased deliveries to their next states; each row moves only while pending under its own
 * lease token. Returns the ids that moved (a lost lease is not among them). On PostgreSQL in ONE
 * statement (the outcomes joined as a VALUES list by id: one round trip for the batch); on SQLite
 * (in-process, no round trips) one cached statement per outcome, compiled once per batch, which
 * costs SQLite less than the join and Kysely less than building each UPDATE.
 */
export async function recordDeliveryOutcomes(ex: Executor, kind: 'sqlite' | 'postgres', outcomes: DeliveryOutcome[]): Promise<Set<string>> {
  if (outcomes.length === 0) return new Set();
  if (kind === 'sqlite') return recordEachOutcome(ex, outcomes);
  // Every value CAST: PostgreSQL would otherwise read the parameters of a VALUES list as text.
  const text = (value: string | null) => sql`cast(${value} as text)`;
  const bigint = (value: number | null) => sql`cast(${value} as bigint)`;
  const values = [...outcomes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((o) => {
    const delivered = o.next.status === 'delivered';
    return sql`(${sql.join([
      text(o.id), text(o.token), text(o.next.status), bigint(o.next.nextAttemptAtMs), bigint(o.attempt.attemptedAtMs),
      bigint(o.attempt.statusCode), bigint(o.attempt.latencyMs), text(o.attempt.error), bigint(delivered ? o.attempt.attemptedAtMs : null),
    ])})`;
  });
  const result = await sql<{ id: string }>`
    with v (id, token, status, next_attempt_at, attempted_at, status_code, latency_ms, error, delivered_at) as (values ${sql.join(values)})
    update webhook_deliveries
    set status = v.status,
        next_attempt_at = v.next_attempt_at,
        attempt_count = webhook_deliveries.attempt_count + 1,
        lease_until = null,
        lease_token = null,
        last_attempt_at = v.attempted_at,
        last_status_code = v.status_code,
        last_latency_ms = v.latency_ms,
        last_error = v.error,
        delivered_at = coalesce(v.delivered_at, webhook_deliveries.delivered_at)
    from v
    where webhook_deliveries.id = v.id and webhook_deliveries.status = 'pending' and webhook_deliveries.lease_token = v.token
    returning webhook_deliveries.id`.execute(ex);
  return new Set(result.rows.map((row) => row.id));
}

/** The SQLite side of recordDeliveryOutcomes: one UPDATE compiled once, run per outcome. */
async function recordEachOutcome(ex: Executor, outcomes: DeliveryOutcome[]): Promise<Set<string>> {
  // Compiled with a marker per value; each outcome's parameters replace the markers in place.
  const marker = (name: string) => `\u0000${name}`;
  const compiled = ex
    .updateTable('webhook_deliveries')
    .set({
      status: marker('status') as WebhookDeliveryStatus,
      next_attempt_at: marker('next') as unknown as number,
      attempt_count: sql<number>`attempt_count + 1`,
      lease_until: null,
      lease_token: null,
      last_attempt_at: marker('at') as unknown as number,
      last_status_code: marker('code') as unknown as number,
      last_latency_ms: marker('latency') as unknown as number,
      last_error: marker('error'),
      delivered_at: sql<number>`coalesce(${marker('delivered')}, delivered_at)`,
    })
    .where('id', '=', marker('id'))
    .where('status', '=', 'pending')
    .where('lease_token', '=', marker('token'))
    .compile();
  const moved = new Set<string>();
  for (const o of outcomes) {
    const values: Record<string, unknown> = {
      [marker('status')]: o.next.status,
      [marker('next')]: o.next.nextAttemptAtMs,
      [marker('at')]: o.attempt.attemptedAtMs,
      [marker('code')]: o.attempt.statusCode,
      [marker('latency')]: o.attempt.latencyMs,
      [marker('error')]: o.attempt.error,
      [marker('delivered')]: o.next.status === 'delivered' ? o.attempt.attemptedAtMs : null,
      [marker('id')]: o.id,
      [marker('token')]: o.token,
    };
    const parameters = compiled.parameters.map((p) => (typeof p === 'string' && p in values ? values[p] : p));
    const result = await ex.executeQuery({ ...compiled, parameters });
    if (Number(result.numAffectedRows ?? 0) === 1) moved.add(o.id);
  }
  return moved;
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
