import type { ExpressionBuilder } from 'kysely';
import type { Executor, IdempotencyRow, NewIdempotencyRow, Tables } from './schema.js';
import { Precompiled, insertParameters, insertShape } from './precompiled.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/** The key's row in this scope. */
const keyRow = (scope: Scope, key: string) => (eb: ExpressionBuilder<Tables, 'idempotency_keys'>) =>
  eb.and([eb('account_id', '=', scope.accountId), eb('livemode', '=', bool(scope.livemode)), eb('idempotency_key', '=', key)]);

/** The key's row while `requestId` holds its claim and no response is stored: only its own request writes it. */
const openClaimOf = (scope: Scope, key: string, requestId: string) => (eb: ExpressionBuilder<Tables, 'idempotency_keys'>) =>
  eb.and([keyRow(scope, key)(eb), eb('request_id', '=', requestId), eb('response_status', 'is', null)]);

/**
 * Inserts the key's row in the request's first transaction. The primary key (account, mode, key)
 * lets exactly one of any number of concurrent first uses win: on PostgreSQL a competing insert
 * waits for the winner's commit and then conflicts; on SQLite writers are serialized anyway.
 * @returns whether this call inserted it.
 */
export async function claimIdempotencyKey(ex: Executor, row: NewIdempotencyRow): Promise<boolean> {
  const result = await claimStatement.execute(ex, row);
  return Number(result.numAffectedRows ?? 0n) === 1;
}

const claimStatement = new Precompiled(
  (ex: Executor, row: NewIdempotencyRow) => ex
    .insertInto('idempotency_keys')
    .values(row)
    .onConflict((oc) => oc.columns(['account_id', 'livemode', 'idempotency_key']).doNothing())
    .compile(),
  (row) => insertParameters(row),
  (row) => insertShape(row),
);

export async function findIdempotencyKey(ex: Executor, scope: Scope, key: string): Promise<IdempotencyRow | undefined> {
  const result = await findStatement.execute<IdempotencyRow>(ex, scope, key);
  return result.rows[0];
}

const findStatement = new Precompiled(
  (ex: Executor, scope: Scope, key: string) => ex.selectFrom('idempotency_keys').selectAll().where(keyRow(scope, key)).compile(),
  (scope, key) => [scope.accountId, bool(scope.livemode), key],
);

/** Stores the first response for replay; a key's response is written once, by its own request. */
export async function recordIdempotentResponse(ex: Executor, scope: Scope, key: string, requestId: string, status: number, body: string): Promise<void> {
  await responseStatement.execute(ex, scope, key, requestId, status, body);
}

const responseStatement = new Precompiled(
  (ex: Executor, scope: Scope, key: string, requestId: string, status: number, body: string) => ex
    .updateTable('idempotency_keys')
    .set({ response_status: status, response_body: body, locked_until: null })
    .where(openClaimOf(scope, key, requestId))
    .compile(),
  (scope, key, requestId, status, body) => [status, body, null, scope.accountId, bool(scope.livemode), key, requestId],
);

/**
 * Frees a key claimed by this request whose response is not to be replayed — only while nothing
 * of the request committed (no recovery point): a key whose request created something stays.
 * @returns whether the key was freed.
 */
export async function releaseIdempotencyKey(ex: Executor, scope: Scope, key: string, requestId: string): Promise<boolean> {
  const result = await ex
    .deleteFrom('idempotency_keys')
    .where(openClaimOf(scope, key, requestId))
    .where('recovery_point', 'is', null)
    .executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Removes the key's row if its replay window has passed, so the key can be used afresh. */
export async function deleteExpiredIdempotencyKey(ex: Executor, scope: Scope, key: string, nowMs: number): Promise<void> {
  await ex
    .deleteFrom('idempotency_keys')
    .where(keyRow(scope, key))
    .where('expires_at', '<=', nowMs)
    .execute();
}

/** Notes what the request durably started, in the transaction that starts it; renews its lease. */
export async function recordRecoveryPoint(ex: Executor, scope: Scope, key: string, requestId: string, recoveryPoint: string, lockedUntilMs: number): Promise<boolean> {
  const result = await recoveryPointStatement.execute(ex, scope, key, requestId, recoveryPoint, lockedUntilMs);
  return Number(result.numAffectedRows ?? 0n) === 1;
}

const recoveryPointStatement = new Precompiled(
  (ex: Executor, scope: Scope, key: string, requestId: string, recoveryPoint: string, lockedUntilMs: number) => ex
    .updateTable('idempotency_keys')
    .set({ recovery_point: recoveryPoint, locked_until: lockedUntilMs })
    .where(openClaimOf(scope, key, requestId))
    .compile(),
  (scope, key, requestId, recoveryPoint, lockedUntilMs) => [recoveryPoint, lockedUntilMs, scope.accountId, bool(scope.livemode), key, requestId],
);

/** The running request's heartbeat: pushes its lease on while it still holds the claim. */
export async function renewIdempotencyLease(ex: Executor, scope: Scope, key: string, requestId: string, lockedUntilMs: number): Promise<boolean> {
  const result = await ex
    .updateTable('idempotency_keys')
    .set({ locked_until: lockedUntilMs })
    .where(openClaimOf(scope, key, requestId))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * A retry (or the worker) takes over the claim of a request that died: a compare-and-set on the
 * dead request's id and lease as read, so of several retries at once exactly one wins.
 */
export async function takeOverIdempotencyKey(
  ex: Executor,
  scope: Scope,
  key: string,
  dead: Pick<IdempotencyRow, 'request_id' | 'locked_until'>,
  next: { requestId: string; owner: string; lockedUntilMs: number },
): Promise<boolean> {
  let update = ex
    .updateTable('idempotency_keys')
    .set({ request_id: next.requestId, owner: next.owner, locked_until: next.lockedUntilMs })
    .where(openClaimOf(scope, key, dead.request_id));
  update = dead.locked_until === null ? update.where('locked_until', 'is', null) : update.where('locked_until', '=', dead.locked_until);
  const result = await update.executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
