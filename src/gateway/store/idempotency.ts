import type { Executor, IdempotencyRow } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/**
 * Inserts the key's row in the request's first transaction. The primary key (account, mode, key)
 * lets exactly one of any number of concurrent first uses win: on PostgreSQL a competing insert
 * waits for the winner's commit and then conflicts; on SQLite writers are serialized anyway.
 * @returns whether this call inserted it.
 */
export async function claimIdempotencyKey(ex: Executor, row: IdempotencyRow): Promise<boolean> {
  const result = await ex
    .insertInto('idempotency_keys')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'idempotency_key']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export function findIdempotencyKey(ex: Executor, scope: Scope, key: string): Promise<IdempotencyRow | undefined> {
  return ex
    .selectFrom('idempotency_keys')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('idempotency_key', '=', key)
    .executeTakeFirst();
}

/** Stores the first response for replay; a key's response is written once, by its own request. */
export async function recordIdempotentResponse(ex: Executor, scope: Scope, key: string, requestId: string, status: number, body: string): Promise<void> {
  await ex
    .updateTable('idempotency_keys')
    .set({ response_status: status, response_body: body })
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('idempotency_key', '=', key)
    .where('request_id', '=', requestId)
    .where('response_status', 'is', null)
    .execute();
}

/** Frees a key claimed by this request whose response is not to be replayed. */
export async function releaseIdempotencyKey(ex: Executor, scope: Scope, key: string, requestId: string): Promise<void> {
  await ex
    .deleteFrom('idempotency_keys')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('idempotency_key', '=', key)
    .where('request_id', '=', requestId)
    .where('response_status', 'is', null)
    .execute();
}

/** Removes the key's row if its replay window has passed, so the key can be used afresh. */
export async function deleteExpiredIdempotencyKey(ex: Executor, scope: Scope, key: string, nowMs: number): Promise<void> {
  await ex
    .deleteFrom('idempotency_keys')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('idempotency_key', '=', key)
    .where('expires_at', '<=', nowMs)
    .execute();
}
