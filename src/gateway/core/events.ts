import { insertEvent } from '../store/events.js';
import type { Executor } from '../store/schema.js';
import type { CoreDeps, RequestContext } from './context.js';
import type { ApiObject } from './views.js';

/** Writes an Event with a snapshot of the object; call it inside the state change's transaction. */
export async function recordEvent(
  tx: Executor,
  deps: Pick<CoreDeps, 'clock' | 'ids'>,
  ctx: Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>,
  type: string,
  object: ApiObject,
  previousAttributes: ApiObject | null = null,
): Promise<void> {
  await insertEvent(tx, {
    id: deps.ids.next('evt'),
    account_id: ctx.scope.accountId,
    livemode: ctx.scope.livemode ? 1 : 0,
    created: deps.clock.now(),
    type,
    data: JSON.stringify(previousAttributes === null ? { object } : { object, previous_attributes: previousAttributes }),
    request_id: ctx.requestId,
    idempotency_key: ctx.idempotency?.key ?? null,
  });
}
