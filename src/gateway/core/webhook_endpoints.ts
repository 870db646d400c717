import { BlockList, isIP } from 'node:net';
import { invalidRequest, resourceMissing } from '../errors.js';
import { randomAlphanumeric } from '../ids.js';
import { METADATA_KEYS_MAX, mergeMetadata } from '../domain/metadata.js';
import type { Metadata } from '../domain/metadata.js';
import { inTransaction } from '../store/database.js';
import { adjustPendingWebhooks } from '../store/events.js';
import { cancelPendingDeliveriesOfEndpoint } from '../store/webhook_deliveries.js';
import {
  deleteEndpointByAccountAndId,
  findEndpointByAccountAndId,
  insertWebhookEndpoint,
  listEndpointsByAccount,
  recordEndpointUpdate,
} from '../store/webhook_endpoints.js';
import type { EndpointChanges } from '../store/webhook_endpoints.js';
import type { Executor, WebhookEndpointRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';
import { EVENT_TYPES } from './events.js';
import { claimInTransaction, completeIdempotentRequest } from './idempotency.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import type { ApiObject } from './views.js';

/** Random characters after `whsec_`: 32 alphanumerics, about 190 bits. */
const SECRET_RANDOM_LENGTH = 32;

export interface CreateWebhookEndpointParams {
  url: string;
  enabled_events: string[];
  description?: string | null;
  metadata?: Record<string, string | null> | null;
  api_version?: string | null;
}

export interface UpdateWebhookEndpointParams {
  url?: string;
  enabled_events?: string[];
  disabled?: boolean;
  description?: string | null;
  metadata?: Record<string, string | null> | null;
}

/** Creates an endpoint; the response is the only one that ever shows its `secret`. */
export async function createWebhookEndpoint(deps: CoreDeps, ctx: RequestContext, params: CreateWebhookEndpointParams): Promise<ApiObject> {
  checkEndpointUrl(params.url, ctx.scope.livemode);
  const row: WebhookEndpointRow = {
    id: deps.ids.next('we'),
    account_id: ctx.scope.accountId,
    livemode: ctx.scope.livemode ? 1 : 0,
    created: deps.clock.now(),
    url: params.url,
    enabled_events: JSON.stringify(checkEnabledEvents(params.enabled_events)),
    status: 'enabled',
    secret: `whsec_${randomAlphanumeric(SECRET_RANDOM_LENGTH)}`,
    description: params.description ?? null,
    api_version: params.api_version ?? null,
    metadata: JSON.stringify(applyMetadata({}, params.metadata)),
  };
  return inTransaction(deps.database, async (tx) => {
    await claimInTransaction(tx, deps, ctx);
    await insertWebhookEndpoint(tx, row);
    const view = { ...webhookEndpointView(row), secret: row.secret };
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

export async function retrieveWebhookEndpoint(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<ApiObject> {
  return webhookEndpointView(await findOwnedEndpoint(deps.database.db, scope, id));
}

/**
 * Updates an endpoint. Disabling it cancels its pending deliveries (they would otherwise resume
 * when it is enabled again, possibly days later); events already delivered are unaffected.
 */
export async function updateWebhookEndpoint(deps: CoreDeps, ctx: RequestContext, id: string, params: UpdateWebhookEndpointParams): Promise<ApiObject> {
  if (params.url !== undefined) checkEndpointUrl(params.url, ctx.scope.livemode);
  const enabledEvents = params.enabled_events === undefined ? undefined : checkEnabledEvents(params.enabled_events);
  return inTransaction(deps.database, async (tx) => {
    await claimInTransaction(tx, deps, ctx);
    const current = await findOwnedEndpoint(tx, ctx.scope, id);
    const changes: EndpointChanges = {
      ...(params.url === undefined ? {} : { url: params.url }),
      ...(enabledEvents === undefined ? {} : { enabled_events: JSON.stringify(enabledEvents) }),
      ...(params.disabled === undefined ? {} : { status: params.disabled ? 'disabled' : 'enabled' }),
      ...(params.description === undefined ? {} : { description: params.description }),
      ...(params.metadata === undefined ? {} : { metadata: JSON.stringify(applyMetadata(JSON.parse(current.metadata) as Metadata, params.metadata)) }),
    };
    await recordEndpointUpdate(tx, ctx.scope, id, changes);
    if (changes.status === 'disabled' && current.status === 'enabled') await cancelPendingDeliveries(tx, id, 'endpoint disabled');
    const view = webhookEndpointView({ ...current, ...changes } as WebhookEndpointRow);
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

/** Deletes an endpoint and cancels its pending deliveries in the same transaction. */
export async function deleteWebhookEndpoint(deps: CoreDeps, scope: Scope, id: string): Promise<ApiObject> {
  return inTransaction(deps.database, async (tx) => {
    if (!(await deleteEndpointByAccountAndId(tx, scope, id))) throw resourceMissing('webhook_endpoint', id);
    await cancelPendingDeliveries(tx, id, 'endpoint deleted');
    return { id, object: 'webhook_endpoint', deleted: true };
  });
}

export async function listWebhookEndpoints(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: ListParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'webhook_endpoint', (id) => findEndpointByAccountAndId(db, scope, id));
  const page = await listEndpointsByAccount(db, scope, window);
  return { data: page.rows.map(webhookEndpointView), hasMore: page.hasMore };
}

async function cancelPendingDeliveries(tx: Executor, endpointId: string, reason: string): Promise<void> {
  for (const eventId of await cancelPendingDeliveriesOfEndpoint(tx, endpointId, reason)) await adjustPendingWebhooks(tx, eventId, -1);
}

async function findOwnedEndpoint(ex: Executor, scope: Scope, id: string): Promise<WebhookEndpointRow> {
  const row = await findEndpointByAccountAndId(ex, scope, id);
  if (row === undefined) throw resourceMissing('webhook_endpoint', id);
  return row;
}

/** The endpoint as clients see it; the secret is added by create alone. */
function webhookEndpointView(row: WebhookEndpointRow): ApiObject {
  return {
    id: row.id,
    object: 'webhook_endpoint',
    api_version: row.api_version,
    application: null,
    created: row.created,
    description: row.description,
    enabled_events: JSON.parse(row.enabled_events) as string[],
    livemode: row.livemode === 1,
    metadata: JSON.parse(row.metadata) as Metadata,
    status: row.status,
    url: row.url,
  };
}

function applyMetadata(current: Metadata, update: Record<string, string | null> | null | undefined): Metadata {
  const next = update === undefined ? current : mergeMetadata(current, update);
  if (Object.keys(next).length > METADATA_KEYS_MAX) {
    throw invalidRequest('parameter_invalid', `metadata can have at most ${METADATA_KEYS_MAX} keys; this request would leave ${Object.keys(next).length}.`, 'metadata');
  }
  return next;
}

/** `*` or known types of api.md §5, without duplicates; every unknown one is named in the 400. */
export function checkEnabledEvents(given: string[]): string[] {
  const known = new Set<string>(EVENT_TYPES);
  const unknown = given.filter((type) => type !== '*' && !known.has(type));
  if (unknown.length > 0) {
    throw invalidRequest('parameter_invalid', `Invalid enabled_events: unknown event type(s) ${unknown.map((t) => `"${t}"`).join(', ')}. Use "*" or types such as payment_intent.succeeded.`, 'enabled_events');
  }
  return [...new Set(given)];
}

/**
 * Addresses a live endpoint may not use: private, loopback, link-local, shared, multicast and
 * reserved ranges, so a merchant key cannot make the gateway probe its own network. Only
 * literals are checked (the host name is not resolved); test mode allows them for development.
 */
const PRIVATE_ADDRESSES = (() => {
  const list = new BlockList();
  const v4: Array<[string, number]> = [
    ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
    ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 4], ['240.0.0.0', 4],
  ];
  for (const [address, prefix] of v4) list.addSubnet(address, prefix, 'ipv4');
  const v6: Array<[string, number]> = [['::', 127], ['::ffff:0:0', 96], ['64:ff9b::', 96], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]];
  for (const [address, prefix] of v6) list.addSubnet(address, prefix, 'ipv6');
  return list;
})();

/** http(s) only; live mode: https to a public host. Throws 400 `url_invalid` naming `url`. */
export function checkEndpointUrl(url: string, livemode: boolean): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw urlInvalid(`Invalid URL: "${url}". Use an absolute http(s) URL such as https://example.com/webhooks.`);
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw urlInvalid(`Invalid URL: "${url}". Webhook endpoints must use http or https.`);
  if (!livemode) return;
  if (parsed.protocol !== 'https:') throw urlInvalid(`Invalid URL: "${url}". Live mode webhook endpoints must use https.`);
  const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const family = isIP(host);
  const isPrivate = family === 0 ? host === 'localhost' || host.endsWith('.localhost') : PRIVATE_ADDRESSES.check(host, family === 4 ? 'ipv4' : 'ipv6');
  if (isPrivate) throw urlInvalid(`Invalid URL: "${url}". Live mode webhook endpoints cannot use private, loopback or link-local addresses.`);
}

const urlInvalid = (message: string) => invalidRequest('url_invalid', message, 'url');
