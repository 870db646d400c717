import type { EventRow } from '../store/schema.js';
import type { ApiObject } from './views.js';

/** The API version every Event carries: the Stripe version whose Event shape Zhifu follows. */
export const EVENT_API_VERSION = '2023-10-16';

export interface EventHead {
  id: string;
  created: number;
  livemode: boolean;
  pendingWebhooks: number;
  requestId: string | null;
  idempotencyKey: string | null;
  type: string;
}

/**
 * The Event's JSON in Stripe's field order, spliced around `data` already serialized, so the hot
 * path stringifies the object once. `request` is `{id: null, idempotency_key: null}` for changes
 * no API call caused (notifications, workers), as Stripe sends it.
 */
export function eventJson(head: EventHead, dataJson: string): string {
  const request = JSON.stringify({ id: head.requestId, idempotency_key: head.idempotencyKey });
  return `{"id":${JSON.stringify(head.id)},"object":"event","api_version":"${EVENT_API_VERSION}","created":${head.created},"data":${dataJson},`
    + `"livemode":${head.livemode},"pending_webhooks":${head.pendingWebhooks},"request":${request},"type":${JSON.stringify(head.type)}}`;
}

/** An Event as GET /v1/events shows it: the delivered JSON, with the current pending_webhooks. */
export function eventView(row: EventRow): ApiObject {
  const head: EventHead = {
    id: row.id,
    created: row.created,
    livemode: row.livemode === 1,
    pendingWebhooks: row.pending_webhooks,
    requestId: row.request_id,
    idempotencyKey: row.idempotency_key,
    type: row.type,
  };
  return JSON.parse(eventJson(head, row.data)) as ApiObject;
}
