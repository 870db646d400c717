import type { ApiKeyRow, Executor } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/** The API keys of one account in one mode, newest first (revoked ones too: the page shows them). */
export function listApiKeysByScope(ex: Executor, scope: Scope, limit: number): Promise<ApiKeyRow[]> {
  return ex
    .selectFrom('api_keys')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .orderBy('created', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}

export function findApiKeyByScopeAndId(ex: Executor, scope: Scope, id: string): Promise<ApiKeyRow | undefined> {
  return ex
    .selectFrom('api_keys')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

/** Revokes a key that is still active; returns whether this call revoked it (false: already revoked). */
export async function revokeActiveApiKey(ex: Executor, scope: Scope, id: string, nowMs: number): Promise<boolean> {
  const result = await ex
    .updateTable('api_keys')
    .set({ revoked_at: nowMs })
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The ids of the active secret keys of one account and mode (a handful: keys are few). */
export async function activeSecretKeyIds(ex: Executor, scope: Scope): Promise<string[]> {
  const rows = await ex
    .selectFrom('api_keys')
    .select('id')
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .where('kind', '=', 'secret')
    .where('revoked_at', 'is', null)
    .execute();
  return rows.map((row) => row.id);
}

/** The key with this hash, revoked or not. */
export function findApiKeyByHash(ex: Executor, keyHash: string): Promise<ApiKeyRow | undefined> {
  return ex.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
}
