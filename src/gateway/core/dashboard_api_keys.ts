import { ApiError, resourceMissing } from '../errors.js';
import { inTransaction } from '../store/database.js';
import { insertApiKey } from '../store/accounts.js';
import { activeSecretKeyIds, findApiKeyByScopeAndId, listApiKeysByScope, revokeActiveApiKey } from '../store/dashboard_api_keys.js';
import type { ApiKeyRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import { generateApiKey, hashApiKey } from './accounts.js';
import type { ApiKeyAuthenticator } from './accounts.js';
import type { CoreDeps } from './context.js';

/**
 * The dashboard's API key management (Developers → API keys): list, create, roll, revoke, for one
 * account in one mode. A key's plaintext exists only in the value these functions return (it is
 * stored as its SHA-256), so whoever shows it must show it once and keep it nowhere.
 *
 * Rolling revokes the old key at once, in the same transaction that creates its replacement: a
 * leaked key must stop working now. A merchant who needs both keys to work during a switch creates
 * a second key, deploys it, then revokes the first.
 */

/** Keys shown per page: an account has a handful, and revoked keys stay listed. */
export const API_KEYS_LISTED_MAX = 200;

export type ApiKeyKind = ApiKeyRow['kind'];

export interface ApiKeyListing {
  id: string;
  kind: ApiKeyKind;
  livemode: boolean;
  /** The key's prefix and last four characters, e.g. `sk_test_…abcd`. */
  redacted: string;
  created: number;
  revokedAt: number | null;
}

/** A key just made: its plaintext is here and nowhere else. */
export interface IssuedApiKey {
  listing: ApiKeyListing;
  plaintext: string;
}

export interface ApiKeyDeps {
  database: CoreDeps['database'];
  clock: CoreDeps['clock'];
  ids: CoreDeps['ids'];
  /** This process's key cache: revoked keys are dropped from it after the revocation commits. */
  authenticator: ApiKeyAuthenticator;
}

function listingOf(row: ApiKeyRow): ApiKeyListing {
  const livemode = row.livemode === 1;
  return {
    id: row.id, kind: row.kind, livemode, created: row.created, revokedAt: row.revoked_at,
    redacted: `${row.kind === 'secret' ? 'sk' : 'pk'}_${livemode ? 'live' : 'test'}_…${row.last4}`,
  };
}

export async function listApiKeys(deps: Pick<ApiKeyDeps, 'database'>, scope: Scope): Promise<ApiKeyListing[]> {
  return (await listApiKeysByScope(deps.database.db, scope, API_KEYS_LISTED_MAX)).map(listingOf);
}

function keyRow(deps: Pick<ApiKeyDeps, 'clock' | 'ids'>, scope: Scope, kind: ApiKeyKind): { row: ApiKeyRow; plaintext: string } {
  const plaintext = generateApiKey(kind, scope.livemode);
  return {
    plaintext,
    row: {
      key_hash: hashApiKey(plaintext), id: deps.ids.next('key'), account_id: scope.accountId, livemode: scope.livemode ? 1 : 0,
      kind, last4: plaintext.slice(-4), created: deps.clock.now(), revoked_at: null,
    },
  };
}

export function parseApiKeyKind(value: string): ApiKeyKind {
  if (value === 'secret' || value === 'publishable') return value;
  throw new ApiError({ status: 400, type: 'invalid_request_error', code: 'parameter_invalid', message: `kind must be secret or publishable, got '${value.slice(0, 40)}'`, param: 'kind' });
}

/** A new key of this kind for the scope's account and mode. */
export async function createApiKey(deps: ApiKeyDeps, scope: Scope, kind: ApiKeyKind): Promise<IssuedApiKey> {
  const { row, plaintext } = keyRow(deps, scope, kind);
  await insertApiKey(deps.database.db, row);
  return { listing: listingOf(row), plaintext };
}

async function activeKey(deps: Pick<ApiKeyDeps, 'database'>, scope: Scope, id: string): Promise<ApiKeyRow> {
  const row = await findApiKeyByScopeAndId(deps.database.db, scope, id);
  if (row === undefined) throw resourceMissing('api_key', id);
  if (row.revoked_at !== null) throw keyRevoked(id);
  return row;
}

function keyRevoked(id: string): ApiError {
  return new ApiError({ status: 400, type: 'invalid_request_error', code: 'api_key_revoked', message: `The API key ${id} is already revoked.`, param: 'id' });
}

/** Replaces a key: a new one of the same kind is created and the old one revoked, in one transaction. */
export async function rollApiKey(deps: ApiKeyDeps, scope: Scope, id: string): Promise<IssuedApiKey & { rolled: ApiKeyListing }> {
  const old = await activeKey(deps, scope, id);
  const { row, plaintext } = keyRow(deps, scope, old.kind);
  await inTransaction(deps.database, async (tx) => {
    if (!(await revokeActiveApiKey(tx, scope, id, deps.clock.now()))) throw keyRevoked(id);
    await insertApiKey(tx, row);
  });
  deps.authenticator.forget(old.key_hash);
  return { listing: listingOf(row), plaintext, rolled: listingOf({ ...old, revoked_at: deps.clock.now() }) };
}

/**
 * Revokes a key at once. The last active secret key of a mode is refused (400
 * `last_secret_key`): without one, nothing can call the API in that mode, and a roll or a new
 * key is what the operator almost certainly meant.
 */
export async function revokeApiKey(deps: ApiKeyDeps, scope: Scope, id: string): Promise<ApiKeyListing> {
  const key = await activeKey(deps, scope, id);
  const revokedAt = deps.clock.now();
  await inTransaction(deps.database, async (tx) => {
    if (key.kind === 'secret' && (await activeSecretKeyIds(tx, scope)).every((other) => other === id)) {
      throw new ApiError({
        status: 400, type: 'invalid_request_error', code: 'last_secret_key', param: 'id',
        message: `The API key ${id} is the last active secret key in ${scope.livemode ? 'live' : 'test'} mode: create or roll a key instead of leaving the mode without one.`,
      });
    }
    if (!(await revokeActiveApiKey(tx, scope, id, revokedAt))) throw keyRevoked(id);
  });
  deps.authenticator.forget(key.key_hash);
  return listingOf({ ...key, revoked_at: revokedAt });
}
