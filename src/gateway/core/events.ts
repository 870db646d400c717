import { invalidRequest, resourceMissing } from '../errors.js';
import { TransactionMemo } from '../store/transaction_memo.js';
import { findEventByAccountAndId, insertEvent, listEventsByAccount } from '../store/events.js';
import type { EventFilters } from '../store/events.js';
import { findEnabledEndpointsByAccount } from '../store/webhook_endpoints.js';
import type { Executor } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import type { ApiObject } from './views.js';
import { eventJson, eventView } from './event_views.js';
import type { EventHead } from './event_views.js';
import { createDeliveriesInTx, subscribes } from './webhook_deliveries.js';

/** The Event types of api.md §5: the only values `enabled_events` accepts besides `*`. */
export const EVENT_TYPES = [
  'payment_intent.created', 'payment_intent.requires_action', 'payment_intent.processing', 'payment_intent.succeeded',
  'payment_intent.payment_failed', 'payment_intent.canceled',
  // Zhifu's own: the network answered what the gateway cannot settle alone (README "requires_attention").
  'payment_intent.requires_attention', 'refund.requires_attention',
  'charge.succeeded', 'charge.refunded', 'charge.refund.updated',
  'refund.created', 'refund.updated', 'refund.failed',
  'charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated',
  'checkout.session.completed', 'checkout.session.expired',
  'product.created', 'product.updated', 'product.deleted',
  'price.created', 'price.updated', 'price.deleted',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/**
 * Writes an Event with a snapshot of the object, and one webhook delivery per endpoint of the
 * account and mode that is enabled and subscribed at this moment (so an endpoint created later
 * never receives it). Call it inside the state change's transaction: event, deliveries and change
 * commit together. `previousAttributes` on updates: the changed fields' old values.
 */
export async function recordEvent(
  tx: Executor,
  deps: Pick<CoreDeps, 'clock' | 'ids'>,
  ctx: Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>,
  type: EventType,
  object: ApiObject,
  previousAttributes: ApiObject | null = null,
): Promise<void> {
  const endpoints = (await enabledEndpointsInTx(tx, ctx.scope)).filter((endpoint) => subscribes(endpoint.enabled_events, type));
  const head: EventHead = {
    id: deps.ids.next('evt'),
    created: deps.clock.now(),
    livemode: ctx.scope.livemode,
    pendingWebhooks: endpoints.length,
    requestId: ctx.requestId,
    idempotencyKey: ctx.idempotency?.key ?? null,
    type,
  };
  const data = JSON.stringify(previousAttributes === null ? { object } : { object, previous_attributes: previousAttributes });
  await insertEvent(tx, {
    id: head.id,
    account_id: ctx.scope.accountId,
    livemode: ctx.scope.livemode ? 1 : 0,
    created: head.created,
    type,
    data,
    request_id: head.requestId,
    idempotency_key: head.idempotencyKey,
    pending_webhooks: head.pendingWebhooks,
    body: eventJson(head, data),
  });
  await createDeliveriesInTx(tx, deps, { id: head.id, type, scope: ctx.scope, dueAtMs: head.created }, endpoints.map((endpoint) => endpoint.id));
}

type EnabledEndpoints = Awaited<ReturnType<typeof findEnabledEndpointsByAccount>>;

/** The endpoints a transaction read, by account and mode (see enabledEndpointsInTx). */
const endpointsReadInTx = new TransactionMemo<Map<string, Promise<EnabledEndpoints>>>();

/**
 * The account's enabled endpoints, read once per transaction: a state change records several
 * Events (payment_intent.succeeded and charge.succeeded), and no transaction that records Events
 * also changes webhook endpoints, so the first read holds for the rest of it (a SQLite batch ends
 * the memory with each of its works: store/transaction_memo.ts). Outside a transaction every call
 * reads.
 */
function enabledEndpointsInTx(tx: Executor, scope: Scope): Promise<EnabledEndpoints> {
  if (!tx.isTransaction) return findEnabledEndpointsByAccount(tx, scope);
  let byScope = endpointsReadInTx.get(tx);
  if (byScope === undefined) endpointsReadInTx.set(tx, (byScope = new Map()));
  const key = `${scope.accountId}\n${scope.livemode ? 1 : 0}`;
  let read = byScope.get(key);
  if (read === undefined) byScope.set(key, (read = findEnabledEndpointsByAccount(tx, scope)));
  return read;
}

export async function retrieveEvent(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<ApiObject> {
  const row = await findEventByAccountAndId(deps.database.db, scope, id);
  if (row === undefined) throw resourceMissing('event', id);
  return eventView(row);
}

export interface ListEventsParams extends ListParams {
  /** One type, or a group with a trailing `.*` (`payment_intent.*`). */
  type?: string | null;
  types?: string[] | null;
}

/** GET /v1/events: newest first, by type, group or list of types, keyset-paged. */
export async function listEvents(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: ListEventsParams): Promise<Page<ApiObject>> {
  if (params.type != null && params.types != null) {
    throw invalidRequest('parameter_invalid', 'You may only specify one of these parameters: type, types.', 'types');
  }
  const db = deps.database.db;
  const window = await listWindow(params, 'event', (id) => findEventByAccountAndId(db, scope, id));
  const page = await listEventsByAccount(db, scope, window, eventFilters(params));
  return { data: page.rows.map(eventView), hasMore: page.hasMore };
}

function eventFilters(params: ListEventsParams): EventFilters {
  if (params.types != null) return { types: params.types };
  if (params.type == null) return {};
  return params.type.endsWith('.*') ? { typePrefix: params.type.slice(0, -1) } : { types: [params.type] };
}
