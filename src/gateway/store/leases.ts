import type { DatabaseKind } from './database.js';
import type { Executor, Tables } from './schema.js';

/** Tables whose rows the worker claims with a lease (`next_check_at`, `lease_owner`, `lease_until`). */
export type LeasedTable = 'payment_attempts' | 'refunds';

export interface LeaseClaim {
  owner: string;
  nowMs: number;
  leaseUntilMs: number;
  limit: number;
}

/**
 * Claims up to `limit` rows in one of `statuses` that are due at `nowMs`, for `owner` until
 * `leaseUntilMs`. The UPDATE re-checks the lease, so it is a compare-and-set on both databases:
 * of two processes that read the same due row, one wins. PostgreSQL also skips rows another
 * claim has locked, so concurrent claims take different rows instead of queueing behind each other.
 */
export async function claimDueRows<T extends LeasedTable>(ex: Executor, kind: DatabaseKind, table: T, statuses: readonly Tables[T]['status'][], claim: LeaseClaim): Promise<Tables[T][]> {
  // Both tables have the same lease columns; Kysely cannot see that through a generic table name.
  const leased = table as LeasedTable as 'refunds';
  let due = ex
    .selectFrom(leased)
    .select('id')
    .where('status', 'in', [...statuses] as Tables['refunds']['status'][])
    .where('next_check_at', '<=', claim.nowMs)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', claim.nowMs)]))
    .orderBy('next_check_at')
    .limit(claim.limit);
  if (kind === 'postgres') due = due.forUpdate().skipLocked();
  const ids = (await due.execute()).map((row) => row.id);
  if (ids.length === 0) return [];
  const claimed = await ex
    .updateTable(leased)
    .set({ lease_owner: claim.owner, lease_until: claim.leaseUntilMs })
    .where('id', 'in', ids)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', claim.nowMs)]))
    .returningAll()
    .execute();
  return claimed as unknown as Tables[T][];
}
