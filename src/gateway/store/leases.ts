import type { Executor, Tables } from './schema.js';

/** Tables whose rows the worker claims with a lease (`next_check_at`, `lease_owner`, `lease_until`). */
export type LeasedTable = 'payment_attempts' | 'refunds' | 'disputes';

/**
 * Ids of rows due at `nowMs` and not leased, oldest due first: candidates only. Each is claimed
 * on its own (`claimRow`) when a check is about to start, so a row waiting behind a slow batch
 * never sits under a lease that runs out before its check begins. One query per status, each
 * reading its `(status, next_check_at)` index in order and stopping at `limit`: with `status IN
 * (…)` the database sorted every due row of every status first, so a pass cost as much as the
 * backlog of open attempts was long.
 */
export async function findDueIds<T extends LeasedTable>(ex: Executor, table: T, statuses: readonly Tables[T]['status'][], nowMs: number, limit: number): Promise<string[]> {
  const leased = table as LeasedTable as 'refunds';
  const perStatus = await Promise.all(statuses.map((status) => ex
    .selectFrom(leased)
    .select(['id', 'next_check_at'])
    .where('status', '=', status as Tables['refunds']['status'])
    .where('next_check_at', '<=', nowMs)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]))
    .orderBy('next_check_at')
    .limit(limit)
    .execute()));
  return perStatus
    .flat()
    .sort((a, b) => (a.next_check_at as number) - (b.next_check_at as number))
    .slice(0, limit)
    .map((row) => row.id);
}

/** The UPDATE that leases a row to `owner` if it is in one of `statuses` and not leased at `nowMs`. */
function leaseIfFree<T extends LeasedTable>(ex: Executor, table: T, id: string, statuses: readonly Tables[T]['status'][], owner: string, nowMs: number, leaseUntilMs: number) {
  const leased = table as LeasedTable as 'refunds';
  return ex
    .updateTable(leased)
    .set({ lease_owner: owner, lease_until: leaseUntilMs })
    .where('id', '=', id)
    .where('status', 'in', [...statuses] as Tables['refunds']['status'][])
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowMs)]));
}

/**
 * Claims one row for `owner` until `leaseUntilMs`, if it is still due, still in one of
 * `statuses` and not leased at `nowMs` (the caller's fresh now): one compare-and-set UPDATE, so
 * of any number of processes claiming the same row exactly one gets it. Returns the row as
 * claimed, or null.
 */
export async function claimRow<T extends LeasedTable>(ex: Executor, table: T, id: string, statuses: readonly Tables[T]['status'][], owner: string, nowMs: number, leaseUntilMs: number): Promise<Tables[T] | null> {
  const claimed = await leaseIfFree(ex, table, id, statuses, owner, nowMs, leaseUntilMs).where('next_check_at', '<=', nowMs).returningAll().executeTakeFirst();
  return (claimed ?? null) as unknown as Tables[T] | null;
}

/**
 * Takes the worker's lease on a row whether or not it is due (a client retry re-sending it keeps
 * the worker off it meanwhile); the same compare-and-set as `claimRow`. Returns whether it was taken.
 */
export async function takeLease<T extends LeasedTable>(ex: Executor, table: T, id: string, statuses: readonly Tables[T]['status'][], owner: string, nowMs: number, leaseUntilMs: number): Promise<boolean> {
  const result = await leaseIfFree(ex, table, id, statuses, owner, nowMs, leaseUntilMs).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Gives a lease back early, if `owner` still holds it. */
export async function releaseLease(ex: Executor, table: LeasedTable, id: string, owner: string): Promise<void> {
  const leased = table as LeasedTable as 'refunds';
  await ex.updateTable(leased).set({ lease_owner: null, lease_until: null }).where('id', '=', id).where('lease_owner', '=', owner).execute();
}

/**
 * The heartbeat of a check in progress: extends the lease while `owner` still holds it. False when
 * it was lost (it ran out and another process took the row): the holder should stop recording.
 */
export async function renewLease(ex: Executor, table: LeasedTable, id: string, owner: string, leaseUntilMs: number): Promise<boolean> {
  const leased = table as LeasedTable as 'refunds';
  const result = await ex.updateTable(leased).set({ lease_until: leaseUntilMs }).where('id', '=', id).where('lease_owner', '=', owner).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}
