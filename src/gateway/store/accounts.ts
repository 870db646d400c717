import type { AccountRow, ApiKeyRow, Executor } from './schema.js';
import { Precompiled } from './precompiled.js';

export function insertAccount(ex: Executor, row: AccountRow): Promise<unknown> {
  return ex.insertInto('accounts').values(row).execute();
}

export async function findAccountById(ex: Executor, id: string): Promise<AccountRow | undefined> {
  return (await byIdStatement.execute<AccountRow>(ex, id)).rows[0];
}

/** Read by every confirm (the merchant's name and settlement currency go to Alipay+). */
const byIdStatement = new Precompiled(
  (ex: Executor, id: string) => ex.selectFrom('accounts').selectAll().where('id', '=', id).compile(),
  (id) => [id],
);

export function findDefaultAccount(ex: Executor): Promise<AccountRow | undefined> {
  return ex.selectFrom('accounts').selectAll().where('is_default', '=', 1).executeTakeFirst();
}

export function insertApiKey(ex: Executor, row: ApiKeyRow): Promise<unknown> {
  return ex.insertInto('api_keys').values(row).execute();
}

/** The key with this hash if it exists and is not revoked. */
export function findActiveApiKeyByHash(ex: Executor, keyHash: string): Promise<ApiKeyRow | undefined> {
  return ex.selectFrom('api_keys').selectAll().where('key_hash', '=', keyHash).where('revoked_at', 'is', null).executeTakeFirst();
}

export function findApiKeysByAccount(ex: Executor, accountId: string): Promise<ApiKeyRow[]> {
  return ex.selectFrom('api_keys').selectAll().where('account_id', '=', accountId).orderBy('created').execute();
}
