import type { Executor, WebhookDeliveryRow } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/** Deliveries shown under one event, at most this many (one per endpoint and retry). */
export const EVENT_DELIVERIES_MAX = 100;

/**
 * One event's deliveries within the caller's account and mode, oldest first, with their
 * endpoint's URL (null once the endpoint was deleted). One seek on webhook_deliveries_event.
 */
export function findDeliveriesOfEvent(ex: Executor, scope: Scope, eventId: string): Promise<(WebhookDeliveryRow & { endpoint_url: string | null })[]> {
  return ex
    .selectFrom('webhook_deliveries as d')
    .leftJoin('webhook_endpoints as w', 'w.id', 'd.endpoint_id')
    .selectAll('d')
    .select('w.url as endpoint_url')
    .where('d.event_id', '=', eventId)
    .where('d.account_id', '=', scope.accountId)
    .where('d.livemode', '=', bool(scope.livemode))
    .orderBy('d.created')
    .orderBy('d.id')
    .limit(EVENT_DELIVERIES_MAX)
    .execute();
}
