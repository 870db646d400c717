import type { Updateable } from 'kysely';
import type { Executor, WebhookEndpointRow, WebhookEndpointsTable } from './schema.js';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import { Precompiled } from './precompiled.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

export function insertWebhookEndpoint(ex: Executor, row: WebhookEndpointRow): Promise<unknown> {
  return ex.insertInto('webhook_endpoints').values(row).execute();
}

export function findEndpointByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<WebhookEndpointRow | undefined> {
  return ex
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

/**
 * The enabled endpoints of one account and mode with their subscriptions. Runs inside every
 * state change's transaction, so it is one seek on the (account_id, livemode, …) index.
 */
export async function findEnabledEndpointsByAccount(ex: Executor, scope: Scope): Promise<Pick<WebhookEndpointRow, 'id' | 'enabled_events'>[]> {
  return (await enabledEndpointsStatement.execute<Pick<WebhookEndpointRow, 'id' | 'enabled_events'>>(ex, scope)).rows;
}

const enabledEndpointsStatement = new Precompiled(
  (ex: Executor, scope: Scope) => ex
    .selectFrom('webhook_endpoints')
    .select(['id', 'enabled_events'])
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('status', '=', 'enabled')
    .compile(),
  (scope) => [scope.accountId, bool(scope.livemode), 'enabled'],
);

export type EndpointChanges = Pick<Updateable<WebhookEndpointsTable>, 'url' | 'enabled_events' | 'status' | 'description' | 'metadata'>;

export async function recordEndpointUpdate(ex: Executor, scope: Scope, id: string, changes: EndpointChanges): Promise<void> {
  if (Object.keys(changes).length === 0) return;
  await ex
    .updateTable('webhook_endpoints')
    .set(changes)
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .execute();
}

export async function deleteEndpointByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<boolean> {
  const result = await ex
    .deleteFrom('webhook_endpoints')
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

export async function listEndpointsByAccount(ex: Executor, scope: Scope, window: ListWindow) {
  let query = ex
    .selectFrom('webhook_endpoints')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}
