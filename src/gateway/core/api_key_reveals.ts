import { createCipheriv, createDecipheriv, hash, hkdfSync, randomBytes } from 'node:crypto';
import { inTransaction } from '../store/database.js';
import { deleteApiKeyRevealsExpired, insertApiKeyReveal, takeApiKeyReveal } from '../store/api_key_reveals.js';
import type { CoreDeps } from './context.js';
import type { IssuedApiKey } from './dashboard_api_keys.js';

/** How long a new key's secret waits for its one showing (the redirect's GET comes at once). */
export const REVEAL_TTL_MS = 5 * 60 * 1000;

const TOKEN_BYTES = 24;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const SEAL_INFO = 'zhifu api key reveal';

/**
 * A new API key's plaintext between the dashboard action (POST) and its one showing (the GET it
 * redirects to). Any gateway process may serve that GET (`--processes`, several gateways behind a
 * load balancer), so the plaintext waits in the database, but sealed: AES-256-GCM under a key
 * derived from a random token that exists only in the redirect's URL; the row is found by the
 * token's hash. The database, its backups and the logs never hold a usable secret; the URL alone
 * holds nothing once the row is taken. Only the session that made the key can take it, taking
 * deletes it (a reload shows "already shown"), and untaken rows expire after REVEAL_TTL_MS.
 * Returns the token for the URL.
 */
export async function stashForReveal(deps: Pick<CoreDeps, 'database' | 'clock'>, sessionId: string, issued: IssuedApiKey): Promise<string> {
  const nowMs = deps.clock.now();
  const token = randomBytes(TOKEN_BYTES);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(token), iv);
  const sealed = Buffer.concat([cipher.update(issued.plaintext, 'utf8'), cipher.final()]);
  const row = {
    token_hash: tokenHash(token),
    session_id: sessionId,
    key_id: issued.listing.id,
    sealed: Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url'),
    expires_at: nowMs + REVEAL_TTL_MS,
  };
  // One commit: the reveals nobody came for go as this one is stored.
  await inTransaction(deps.database, async (tx) => {
    await deleteApiKeyRevealsExpired(tx, nowMs);
    await insertApiKeyReveal(tx, row);
  });
  return token.toString('base64url');
}

/** The key under this token for this session, removed as it is taken; null if gone, expired, someone else's or not a token. */
export async function takeRevealed(deps: Pick<CoreDeps, 'database' | 'clock'>, tokenText: string, sessionId: string): Promise<{ id: string; plaintext: string } | null> {
  const token = Buffer.from(tokenText, 'base64url');
  if (token.length !== TOKEN_BYTES || token.toString('base64url') !== tokenText) return null;
  const row = await takeApiKeyReveal(deps.database.db, tokenHash(token), sessionId);
  if (row === undefined || row.expires_at <= deps.clock.now()) return null;
  const sealed = Buffer.from(row.sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(token), sealed.subarray(0, IV_BYTES));
  decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const plaintext = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  return { id: row.key_id, plaintext };
}

function sealingKey(token: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', token, Buffer.alloc(0), SEAL_INFO, 32));
}

function tokenHash(token: Buffer): string {
  return hash('sha256', token, 'hex');
}
