import { hash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { GatewayConfig } from '../config.js';
import { randomAlphanumeric } from '../ids.js';
import type { IdGenerator } from '../ids.js';
import { SETTLEMENT_CURRENCIES } from '../domain/money.js';
import { prohibitedCategoryOf } from '../domain/prohibited_categories.js';
import { ApiError } from '../errors.js';
import { inTransaction, isUniqueViolation } from '../store/database.js';
import type { Database } from '../store/database.js';
import { findActiveApiKeyByHash, findApiKeysByAccount, findDefaultAccount, insertAccount, insertApiKey } from '../store/accounts.js';
import { findApiKeyByHash } from '../store/dashboard_api_keys.js';
import type { AccountRow, Executor } from '../store/schema.js';

/** Random characters after the `sk_test_` style prefix: 32 × log2(62) ≈ 190 bits. */
const KEY_RANDOM_LENGTH = 32;
/**
 * Bounds of the in-memory key cache; a revoked key stops working within the TTL everywhere. The
 * revoking process forgets the key at once; the other gateway processes (`--processes N`) only see
 * the revocation when their entry expires, so the TTL is short: one key lookup per key every few
 * seconds per process costs nothing next to the requests it serves.
 */
const KEY_CACHE_ENTRIES_MAX = 10_000;
const KEY_CACHE_TTL_MS = 5_000;
export const DEFAULT_SETTLEMENT_CURRENCY = 'HKD';
export const BUSINESS_CATEGORY_LENGTH_MAX = 100;

export interface AccountInput {
  name?: string | null;
  businessCategory?: string | null;
  /** GBP, HKD or EUR (the seed's settlement currencies); HKD when omitted. */
  settlementCurrency?: string;
}

/** A secret and a publishable key in plaintext: shown once, at creation, and never stored. */
export interface ApiKeyPair {
  secretKey: string;
  publishableKey: string;
  livemode: boolean;
}

export interface AuthenticatedKey {
  accountId: string;
  livemode: boolean;
  kind: 'secret' | 'publishable';
}

/** SHA-256 suffices: keys carry ~190 random bits, so there is nothing to brute-force. */
export function hashApiKey(key: string): string {
  // One-shot: every authenticated request hashes its key (the cache is keyed by the hash), and a Hash object costs more than the digest.
  return hash('sha256', key, 'hex');
}

/** Creates an account (no keys; see createApiKeys). */
export async function createAccount(db: Executor, clock: Clock, ids: IdGenerator, input: AccountInput = {}): Promise<AccountRow> {
  const settlementCurrency = (input.settlementCurrency ?? DEFAULT_SETTLEMENT_CURRENCY).toUpperCase();
  if (!SETTLEMENT_CURRENCIES.includes(settlementCurrency)) {
    throw new RangeError(`settlement currency must be one of ${SETTLEMENT_CURRENCIES.join(', ')}, got ${settlementCurrency}`);
  }
  const category = input.businessCategory?.trim() ?? null;
  if (category !== null && (category === '' || category.length > BUSINESS_CATEGORY_LENGTH_MAX)) {
    throw new RangeError(`business category must be 1–${BUSINESS_CATEGORY_LENGTH_MAX} characters, got ${JSON.stringify(input.businessCategory)}`);
  }
  const row: AccountRow = {
    id: ids.next('acct'),
    created: clock.now(),
    name: input.name ?? null,
    business_category: category,
    settlement_currency: settlementCurrency,
    is_default: null,
  };
  await insertAccount(db, row);
  return row;
}

/**
 * Refuses Alipay payments for an account whose business_category is on the prohibited list
 * (domain/prohibited_categories.ts): 400 `payment_method_unavailable`, saying why. Accounts can
 * exist with such a category (created before a policy change, or reclassified); they just
 * cannot take payments.
 */
export function assertCanTakeAlipayPayments(account: Pick<AccountRow, 'id' | 'business_category'>): void {
  const prohibited = prohibitedCategoryOf(account.business_category);
  if (prohibited === null) return;
  throw new ApiError({
    status: 400,
    type: 'invalid_request_error',
    code: 'payment_method_unavailable',
    message: `Alipay is unavailable for this account: its business category '${account.business_category}' falls under ${prohibited.reason}, which Alipay+ prohibits. Contact the gateway operator if the category is wrong.`,
    param: 'payment_method_types',
    shouldRetry: false,
  });
}

/**
 * Creates a secret and a publishable key for one mode of an account and returns them in
 * plaintext — the only time they exist outside the client. Pass `pinned` to register given keys.
 */
export async function createApiKeys(
  db: Executor,
  clock: Clock,
  ids: IdGenerator,
  accountId: string,
  livemode: boolean,
  pinned: { secretKey?: string | null; publishableKey?: string | null } = {},
): Promise<ApiKeyPair> {
  const mode = livemode ? 'live' : 'test';
  const secretKey = pinned.secretKey ?? `sk_${mode}_${randomAlphanumeric(KEY_RANDOM_LENGTH)}`;
  const publishableKey = pinned.publishableKey ?? `pk_${mode}_${randomAlphanumeric(KEY_RANDOM_LENGTH)}`;
  for (const [key, kind] of [[secretKey, 'secret'], [publishableKey, 'publishable']] as const) {
    if (!key.startsWith(`${kind === 'secret' ? 'sk' : 'pk'}_${mode}_`)) throw new RangeError(`a ${mode} ${kind} key must start with ${kind === 'secret' ? 'sk' : 'pk'}_${mode}_`);
    await insertApiKey(db, {
      key_hash: hashApiKey(key),
      id: ids.next('key'),
      account_id: accountId,
      livemode: livemode ? 1 : 0,
      kind,
      last4: key.slice(-4),
      created: clock.now(),
      revoked_at: null,
    });
  }
  return { secretKey, publishableKey, livemode };
}

/** A new key's plaintext (`sk_test_…`, `pk_live_…`): shown once to whoever asked for it, never stored. */
export function generateApiKey(kind: 'secret' | 'publishable', livemode: boolean): string {
  return `${kind === 'secret' ? 'sk' : 'pk'}_${livemode ? 'live' : 'test'}_${randomAlphanumeric(KEY_RANDOM_LENGTH)}`;
}

export interface DefaultAccount {
  account: AccountRow;
  /** Keys generated by this call (first start without pinned keys): print them once. Null otherwise. */
  generatedKeys: ApiKeyPair | null;
}

/**
 * The operator's default test account, created on first start. Keys pinned by
 * ZHIFU_TEST_SECRET_KEY / ZHIFU_TEST_PUBLISHABLE_KEY are registered if not yet known.
 */
export async function ensureDefaultAccount(database: Database, clock: Clock, ids: IdGenerator, config: GatewayConfig): Promise<DefaultAccount> {
  try {
    return await inTransaction(database, (tx) => ensureDefaultAccountInTx(tx, clock, ids, config));
  } catch (error) {
    // Another process created it first (the partial unique index on is_default); use theirs.
    if (!isUniqueViolation(error)) throw error;
    return inTransaction(database, (tx) => ensureDefaultAccountInTx(tx, clock, ids, config));
  }
}

async function ensureDefaultAccountInTx(tx: Executor, clock: Clock, ids: IdGenerator, config: GatewayConfig): Promise<DefaultAccount> {
  let account = await findDefaultAccount(tx);
  let isNew = false;
  if (account === undefined) {
    account = { ...(await createAccount(tx, clock, ids, { name: 'Default account' })), is_default: 1 };
    await tx.updateTable('accounts').set({ is_default: 1 }).where('id', '=', account.id).execute();
    isNew = true;
  }
  const pinnedSecret = config.testSecretKey;
  const pinnedPublishable = config.testPublishableKey;
  if (pinnedSecret !== null || pinnedPublishable !== null) {
    await registerPinnedKeys(tx, clock, ids, account.id, pinnedSecret, pinnedPublishable);
    return { account, generatedKeys: null };
  }
  const existing = await findApiKeysByAccount(tx, account.id);
  if (!isNew && existing.some((k) => k.livemode === 0)) return { account, generatedKeys: null };
  return { account, generatedKeys: await createApiKeys(tx, clock, ids, account.id, false) };
}

async function registerPinnedKeys(tx: Executor, clock: Clock, ids: IdGenerator, accountId: string, secretKey: string | null, publishableKey: string | null): Promise<void> {
  for (const [key, kind] of [[secretKey, 'secret'], [publishableKey, 'publishable']] as const) {
    // A pinned key an operator revoked (dashboard) stays revoked: registering it again would collide on its hash.
    if (key === null || (await findApiKeyByHash(tx, hashApiKey(key))) !== undefined) continue;
    await insertApiKey(tx, {
      key_hash: hashApiKey(key),
      id: ids.next('key'),
      account_id: accountId,
      livemode: 0,
      kind,
      last4: key.slice(-4),
      created: clock.now(),
      revoked_at: null,
    });
  }
}

const API_KEY_PREFIX = /^(sk|pk)_(test|live)_/;

/** Resolves API keys to accounts, hitting the database only on a cache miss. */
export class ApiKeyAuthenticator {
  readonly #cache = new Map<string, { key: AuthenticatedKey; expiresAtMs: number }>();
  readonly #database: Database;
  readonly #clock: Clock;
  /** Moves on every forget(): a lookup that began before a revocation must not cache what it read. */
  #generation = 0;

  constructor(database: Database, clock: Clock) {
    this.#database = database;
    this.#clock = clock;
  }

  /**
   * The key from the cache alone, without a promise (the common case on every request): null when
   * its prefix names no key, undefined when it is not cached (then `authenticate` asks the database).
   */
  cached(plaintext: string): AuthenticatedKey | null | undefined {
    if (!API_KEY_PREFIX.test(plaintext)) return null;
    const cached = this.#cache.get(hashApiKey(plaintext));
    return cached !== undefined && cached.expiresAtMs > this.#clock.now() ? cached.key : undefined;
  }

  /** The key's account and mode, or null if the key is unknown or revoked. */
  async authenticate(plaintext: string): Promise<AuthenticatedKey | null> {
    const prefix = API_KEY_PREFIX.exec(plaintext);
    if (prefix === null) return null;
    const kind = prefix[1] === 'sk' ? 'secret' : 'publishable';
    const livemode = prefix[2] === 'live';
    const hash = hashApiKey(plaintext);
    const now = this.#clock.now();
    const cached = this.#cache.get(hash);
    if (cached !== undefined && cached.expiresAtMs > now) return cached.key;
    const generation = this.#generation;
    const row = await findActiveApiKeyByHash(this.#database.db, hash);
    // The prefix must agree with the stored row: a key is never reinterpreted as another kind or mode.
    if (row === undefined || row.kind !== kind || (row.livemode === 1) !== livemode) return null;
    const key: AuthenticatedKey = { accountId: row.account_id, livemode, kind };
    if (generation !== this.#generation) return key;
    if (this.#cache.size >= KEY_CACHE_ENTRIES_MAX) this.#cache.delete(this.#cache.keys().next().value as string);
    this.#cache.set(hash, { key, expiresAtMs: now + KEY_CACHE_TTL_MS });
    return key;
  }

  /**
   * Drops a key from this process's cache after it was revoked (the revocation committed first),
   * so it stops working here at once; other gateway processes notice within the cache's TTL.
   */
  forget(keyHash: string): void {
    this.#generation += 1;
    this.#cache.delete(keyHash);
  }
}
