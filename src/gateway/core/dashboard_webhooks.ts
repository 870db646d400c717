import { invalidRequest, resourceMissing } from '../errors.js';
import { findDeliveriesOfEvent } from '../store/dashboard_webhooks.js';
import { findEventByAccountAndId } from '../store/events.js';
import { findAttemptsOfDeliveries, findDeliveryOfEndpoint, listDeliveriesByEndpoint } from '../store/webhook_deliveries.js';
import { findEndpointByAccountAndId, listEndpointsByAccount } from '../store/webhook_endpoints.js';
import type { WebhookDeliveryAttemptRow, WebhookDeliveryRow, WebhookDeliveryStatus, WebhookEndpointRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps } from './context.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import { retryEvent } from './webhook_deliveries.js';

/**
 * What the dashboard's Developers pages show of webhooks (issue 11): endpoints, each delivery
 * with every attempt as the worker recorded it (time, HTTP status, latency, the start of the
 * receiver's answer), and a retry of one delivery through the API's own retry (retryEvent), so a
 * retry from the dashboard is the same new delivery the API would schedule.
 */

export interface DashboardEndpoint {
  id: string;
  created: number;
  url: string;
  enabledEvents: string[];
  status: string;
  description: string | null;
}

export interface DashboardAttempt {
  attemptedAt: number;
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseBody: string | null;
  nextRetryAt: number | null;
}

export interface DashboardDelivery {
  id: string;
  created: number;
  eventId: string;
  eventType: string;
  endpointId: string;
  status: WebhookDeliveryStatus;
  attemptCount: number;
  nextAttemptAt: number | null;
  deliveredAt: number | null;
  lastError: string | null;
  attempts: DashboardAttempt[];
}

const DELIVERY_STATUSES: readonly WebhookDeliveryStatus[] = ['pending', 'delivered', 'failed', 'canceled'];

function endpointOf(row: WebhookEndpointRow): DashboardEndpoint {
  return { id: row.id, created: Number(row.created), url: row.url, enabledEvents: JSON.parse(row.enabled_events) as string[], status: row.status, description: row.description };
}

function attemptOf(row: WebhookDeliveryAttemptRow): DashboardAttempt {
  return {
    attemptedAt: Number(row.attempted_at), statusCode: row.status_code === null ? null : Number(row.status_code), latencyMs: Number(row.latency_ms),
    error: row.error, responseBody: row.response_body, nextRetryAt: row.next_retry_at === null ? null : Number(row.next_retry_at),
  };
}

function deliveryOf(row: WebhookDeliveryRow, attempts: WebhookDeliveryAttemptRow[]): DashboardDelivery {
  return {
    id: row.id, created: Number(row.created), eventId: row.event_id, eventType: row.event_type, endpointId: row.endpoint_id, status: row.status,
    attemptCount: Number(row.attempt_count), nextAttemptAt: row.next_attempt_at === null ? null : Number(row.next_attempt_at),
    deliveredAt: row.delivered_at === null ? null : Number(row.delivered_at), lastError: row.last_error,
    attempts: attempts.filter((attempt) => attempt.delivery_id === row.id).map(attemptOf),
  };
}

/** The account's endpoints in one mode, newest first, keyset-paged. */
export async function dashboardEndpoints(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: ListParams): Promise<Page<DashboardEndpoint>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'webhook_endpoint', (id) => findEndpointByAccountAndId(db, scope, id));
  const page = await listEndpointsByAccount(db, scope, window);
  return { data: page.rows.map(endpointOf), hasMore: page.hasMore };
}

/** One endpoint of the caller's account and mode; another's (or none) is 404. */
export async function dashboardEndpoint(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<DashboardEndpoint> {
  const row = await findEndpointByAccountAndId(deps.database.db, scope, id);
  if (row === undefined) throw resourceMissing('webhook_endpoint', id);
  return endpointOf(row);
}

/** Parses a delivery status filter (`failed`, …); empty is none, anything else a 400. */
export function deliveryStatusFilter(value: string | undefined): WebhookDeliveryStatus | null {
  if (value === undefined) return null;
  if ((DELIVERY_STATUSES as readonly string[]).includes(value)) return value as WebhookDeliveryStatus;
  throw invalidRequest('parameter_invalid', `Invalid status: "${value}". Use one of ${DELIVERY_STATUSES.join(', ')}.`, 'status');
}

/** An endpoint's delivery log: deliveries newest first (keyset-paged), each with all its attempts, oldest first. */
export async function endpointDeliveryLog(
  deps: Pick<CoreDeps, 'database'>,
  scope: Scope,
  endpointId: string,
  params: ListParams & { status?: WebhookDeliveryStatus | null },
): Promise<Page<DashboardDelivery>> {
  const db = deps.database.db;
  if ((await findEndpointByAccountAndId(db, scope, endpointId)) === undefined) throw resourceMissing('webhook_endpoint', endpointId);
  const window = await listWindow(params, 'webhook_delivery', (id) => findDeliveryOfEndpoint(db, endpointId, id));
  const page = await listDeliveriesByEndpoint(db, endpointId, window, params.status == null ? {} : { status: params.status });
  const attempts = await findAttemptsOfDeliveries(db, page.rows.map((row) => row.id));
  return { data: page.rows.map((row) => deliveryOf(row, attempts)), hasMore: page.hasMore };
}

/**
 * Delivers one delivery's event to its endpoint again, now: the API's retryEvent for this one
 * endpoint (a new delivery due at once; an undelivered one for the pair is superseded, so the
 * receiver never gets the event from two schedules). The worker's next round makes the attempt.
 * Returns the event's id.
 */
export async function retryDelivery(deps: CoreDeps, scope: Scope, endpointId: string, deliveryId: string, requestId: string | null): Promise<string> {
  const db = deps.database.db;
  if ((await findEndpointByAccountAndId(db, scope, endpointId)) === undefined) throw resourceMissing('webhook_endpoint', endpointId);
  const delivery = await findDeliveryOfEndpoint(db, endpointId, deliveryId);
  if (delivery === undefined) throw resourceMissing('webhook_delivery', deliveryId, 'delivery');
  await retryEvent(deps, { scope, requestId, idempotency: null }, delivery.event_id, { endpoint: endpointId });
  return delivery.event_id;
}

export interface DashboardEventDelivery extends DashboardDelivery {
  /** The endpoint's URL (null: the endpoint was deleted since). */
  endpointUrl: string | null;
}

/** One event's deliveries (every endpoint, every retry) with their attempts; the event must be the caller's. */
export async function eventDeliveryLog(deps: Pick<CoreDeps, 'database'>, scope: Scope, eventId: string): Promise<DashboardEventDelivery[]> {
  const db = deps.database.db;
  if ((await findEventByAccountAndId(db, scope, eventId)) === undefined) throw resourceMissing('event', eventId);
  const rows = await findDeliveriesOfEvent(db, scope, eventId);
  const attempts = await findAttemptsOfDeliveries(db, rows.map((row) => row.id));
  return rows.map((row) => ({ ...deliveryOf(row, attempts), endpointUrl: row.endpoint_url }));
}
