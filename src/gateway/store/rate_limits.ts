import { sql } from 'kysely';
import type { Executor } from './schema.js';

/**
 * Grants up to `block` more requests of the key's window, never past `limit` across all
 * processes: one upsert that adds the block only while the window's total is below the limit,
 * so concurrent processes can never together be granted more than `limit`. Returns how many of
 * the block were granted (0 once the window is used up).
 */
export async function grantRateLimitBlock(ex: Executor, keyHash: string, windowStart: number, block: number, limit: number): Promise<number> {
  const row = await ex
    .insertInto('rate_limit_windows')
    .values({ key_hash: keyHash, window_start: windowStart, granted: Math.min(block, limit) })
    .onConflict((oc) =>
      oc
        .columns(['key_hash', 'window_start'])
        .doUpdateSet({ granted: sql<number>`rate_limit_windows.granted + ${block}` })
        .where('rate_limit_windows.granted', '<', limit),
    )
    .returning('granted')
    .executeTakeFirst();
  if (row === undefined) return 0;
  const total = Number(row.granted);
  // The last block of a window may overshoot the total; only the part below the limit is granted.
  return Math.max(0, Math.min(block, limit - (total - block)));
}

/** Drops the windows that started before `beforeMs`: nothing reads a window once it is over. */
export async function deleteRateLimitWindowsBefore(ex: Executor, beforeMs: number): Promise<void> {
  await ex.deleteFrom('rate_limit_windows').where('window_start', '<', beforeMs).execute();
}
