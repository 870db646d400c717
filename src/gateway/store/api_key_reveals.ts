import type { ApiKeyRevealsTable, Executor } from './schema.js';

export async function insertApiKeyReveal(ex: Executor, row: ApiKeyRevealsTable): Promise<void> {
  await ex.insertInto('api_key_reveals').values(row).execute();
}

/**
 * Removes and returns the reveal under this token hash if it belongs to this session: a session
 * that does not own it neither gets it nor uses it up. One statement, so of two takes at once
 * exactly one gets the row.
 */
export async function takeApiKeyReveal(ex: Executor, tokenHash: string, sessionId: string): Promise<Pick<ApiKeyRevealsTable, 'key_id' | 'sealed' | 'expires_at'> | undefined> {
  return await ex
    .deleteFrom('api_key_reveals')
    .where('token_hash', '=', tokenHash)
    .where('session_id', '=', sessionId)
    .returning(['key_id', 'sealed', 'expires_at'])
    .executeTakeFirst();
}

/** Drops the reveals that expired before `nowMs`, never shown. */
export async function deleteApiKeyRevealsExpired(ex: Executor, nowMs: number): Promise<void> {
  await ex.deleteFrom('api_key_reveals').where('expires_at', '<=', nowMs).execute();
}
