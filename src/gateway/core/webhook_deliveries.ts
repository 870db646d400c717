import { invalidRequest, resourceMissing } from '../errors.js';
import type { IdGenerator } from '../ids.js';
import { inTransaction } from '../store/database.js';
import { adjustPendingWebhooks, findEventByAccountAndId } from '../store/events.js';
import { findAttemptsOfDeliveries, findDeliveryOfEndpoint, insertDeliveries, listDeliveriesByEndpoint, supersedeUndelivered } from '../store/webhook_deliveries.js';
import { findEnabledEndpointsByAccount, findEndpointByAccountAndId } from '../store/webhook_endpoints.js';
import type { Executor, WebhookDeliveryAttemptRow, WebhookDeliveryRow, WebhookDeliveryStatus } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';
import { eventView } from './event_views.js';
import { claimInTransaction, completeIdempotentRequest } from './idempotency.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import type { ApiObject } from './views.js';

/**
 * Delivery and attempt ids: time-ordered like every other id (the event generator's 19 digits),
 * under prefixes of their own because they are internal records, not API objects of api.md §1.
 */
export const newDeliveryId = (ids: IdGenerator): string => `whd_${ids.next('evt').slice('evt_'.length)}`;
export const newDeliveryAttemptId = (ids: IdGenerator): string => `wha_${ids.next('evt').slice('evt_'.length)}`;

/** Whether an endpoint's `enabled_events` (JSON text) covers `type`. */
export function subscribes(enabledEventsJson: string, type: string): boolean {
  const enabled = JSON.parse(enabledEventsJson) as string[];
  return enabled.includes('*') || enabled.includes(type);
}

export interface DeliverableEvent {
  id: string;
  type: string;
  scope: Scope;
  /** When the first attempt is due: the event's time, or now for a manual retry. */
  dueAtMs: number;
}

/** One pending delivery per endpoint, due at once; part of the caller's transaction. */
export async function createDeliveriesInTx(tx: Executor, deps: Pick<CoreDeps, 'ids'>, event: DeliverableEvent, endpointIds: string[]): Promise<void> {
  await insertDeliveries(tx, endpointIds.map((endpointId): WebhookDeliveryRow => ({
    id: newDeliveryId(deps.ids),
    account_id: event.scope.accountId,
    livemode: event.scope.livemode ? 1 : 0,
    created: event.dueAtMs,
    event_id: event.id,
    event_type: event.type,
    endpoint_id: endpointId,
    status: 'pending',
    attempt_count: 0,
    next_attempt_at: event.dueAtMs,
    lease_until: null,
    lease_token: null,
    last_attempt_at: null,
    last_status_code: null,
    last_latency_ms: null,
    last_error: null,
    delivered_at: null,
  })));
}

export interface RetryEventParams {
  /** One endpoint (`we_…`); without it, every enabled endpoint subscribed to the event's type now. */
  endpoint?: string | null;
}

/**
 * Re-delivers an event now (recovery after a receiver was fixed): a new delivery with a fresh
 * schedule per endpoint, superseding any undelivered one for the same pair so the receiver is not
 * sent the event by two schedules at once. Returns the event with its new pending_webhooks.
 */
export async function retryEvent(deps: CoreDeps, ctx: RequestContext, eventId: string, params: RetryEventParams): Promise<ApiObject> {
  return inTransaction(deps.database, async (tx) => {
    await claimInTransaction(tx, deps, ctx);
    const event = await findEventByAccountAndId(tx, ctx.scope, eventId);
    if (event === undefined) throw resourceMissing('event', eventId);
    const endpointIds = await retryTargets(tx, ctx.scope, event.type, params);
    let delta = 0;
    for (const endpointId of endpointIds) delta += 1 - (await supersedeUndelivered(tx, event.id, endpointId));
    await createDeliveriesInTx(tx, deps, { id: event.id, type: event.type, scope: ctx.scope, dueAtMs: deps.clock.now() }, endpointIds);
    if (delta !== 0) await adjustPendingWebhooks(tx, event.id, delta);
    const view = eventView({ ...event, pending_webhooks: event.pending_webhooks + delta });
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

async function retryTargets(tx: Executor, scope: Scope, type: string, params: RetryEventParams): Promise<string[]> {
  if (params.endpoint == null) {
    const endpoints = (await findEnabledEndpointsByAccount(tx, scope)).filter((endpoint) => subscribes(endpoint.enabled_events, type));
    if (endpoints.length === 0) throw invalidRequest('parameter_invalid', `No enabled webhook endpoint is subscribed to ${type}; nothing to retry.`);
    return endpoints.map((endpoint) => endpoint.id);
  }
  const endpoint = await findEndpointByAccountAndId(tx, scope, params.endpoint);
  if (endpoint === undefined) throw invalidRequest('resource_missing', `No such webhook_endpoint: '${params.endpoint}'`, 'endpoint');
  if (endpoint.status !== 'enabled') throw invalidRequest('parameter_invalid', `Webhook endpoint ${endpoint.id} is disabled; enable it before retrying.`, 'endpoint');
  return [endpoint.id];
}

export interface ListDeliveriesParams extends ListParams {
  status?: WebhookDeliveryStatus | null;
  event?: string | null;
}

/** An endpoint's deliveries, newest first, each with every attempt made (time, status, latency, error). */
export async function listEndpointDeliveries(deps: Pick<CoreDeps, 'database'>, scope: Scope, endpointId: string, params: ListDeliveriesParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  if ((await findEndpointByAccountAndId(db, scope, endpointId)) === undefined) throw resourceMissing('webhook_endpoint', endpointId);
  const window = await listWindow(params, 'webhook_delivery', (id) => findDeliveryOfEndpoint(db, endpointId, id));
  const page = await listDeliveriesByEndpoint(db, endpointId, window, {
    ...(params.status == null ? {} : { status: params.status }),
    ...(params.event == null ? {} : { eventId: params.event }),
  });
  const attempts = await findAttemptsOfDeliveries(db, page.rows.map((row) => row.id));
  return { data: page.rows.map((row) => deliveryView(row, attempts.filter((attempt) => attempt.delivery_id === row.id))), hasMore: page.hasMore };
}

function deliveryView(row: WebhookDeliveryRow, attempts: WebhookDeliveryAttemptRow[]): ApiObject {
  return {
    id: row.id,
    object: 'webhook_delivery',
    created: row.created,
    livemode: row.livemode === 1,
    event: row.event_id,
    event_type: row.event_type,
    webhook_endpoint: row.endpoint_id,
    status: row.status,
    attempt_count: row.attempt_count,
    next_retry_at: row.next_attempt_at,
    last_attempt_at: row.last_attempt_at,
    last_status_code: row.last_status_code,
    last_latency_ms: row.last_latency_ms,
    last_error: row.last_error,
    delivered_at: row.delivered_at,
    attempts: attempts.map((attempt) => ({
      attempted_at: attempt.attempted_at,
      status_code: attempt.status_code,
      latency_ms: attempt.latency_ms,
      error: attempt.error,
      next_retry_at: attempt.next_retry_at,
    })),
  };
}
