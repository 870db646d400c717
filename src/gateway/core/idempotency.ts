import { createHash } from 'node:crypto';
import { ApiError } from '../errors.js';
import {
  claimIdempotencyKey,
  deleteExpiredIdempotencyKey,
  findIdempotencyKey,
  recordIdempotentResponse,
  releaseIdempotencyKey,
} from '../store/idempotency.js';
import type { Executor, IdempotencyRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';

/** Replay window of api.md §1. */
export const IDEMPOTENCY_REPLAY_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;

import type { IdempotencyClaim } from './idempotency_claim.js';
export type { IdempotencyClaim };

export type IdempotencyDecision = { kind: 'execute' } | { kind: 'replay'; status: number; body: string };

/** Thrown inside a transaction when another request holds the key; the HTTP layer decides again. */
export class IdempotencyConflict extends Error {
  override name = 'IdempotencyConflict';
}

/** SHA-256 of the parameters with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
export function fingerprintParams(params: unknown): string {
  return createHash('sha256').update(canonicalJson(params)).digest('hex');
}

/**
 * What to do with a request carrying this key: execute it, replay the stored response, or
 * refuse (400 other parameters or path, 409 the first request is still running).
 */
export async function decideIdempotentRequest(deps: Pick<CoreDeps, 'database' | 'clock'>, scope: Scope, claim: IdempotencyClaim): Promise<IdempotencyDecision> {
  const now = deps.clock.now();
  const existing = await findIdempotencyKey(deps.database.db, scope, claim.key);
  if (existing === undefined) return { kind: 'execute' };
  if (existing.expires_at <= now) {
    await deleteExpiredIdempotencyKey(deps.database.db, scope, claim.key, now);
    return { kind: 'execute' };
  }
  if (existing.request_method !== claim.method || existing.request_path !== claim.path || existing.params_hash !== claim.paramsHash) {
    throw new ApiError({
      status: 400,
      type: 'idempotency_error',
      message: `Keys for idempotent requests can only be used with the same parameters they were first used with. This key was first used for ${existing.request_method} ${existing.request_path}; try a new key.`,
      shouldRetry: false,
    });
  }
  if (existing.response_status === null || existing.response_body === null) {
    throw new ApiError({
      status: 409,
      type: 'idempotency_error',
      code: 'idempotency_key_in_use',
      message: `There is currently another in-progress request using the Idempotency-Key "${claim.key}". Retry after it completes.`,
    });
  }
  return { kind: 'replay', status: existing.response_status, body: existing.response_body };
}

function claimRow(deps: Pick<CoreDeps, 'clock'>, scope: Scope, claim: IdempotencyClaim): IdempotencyRow {
  const now = deps.clock.now();
  return {
    account_id: scope.accountId,
    livemode: scope.livemode ? 1 : 0,
    idempotency_key: claim.key,
    request_method: claim.method,
    request_path: claim.path,
    params_hash: claim.paramsHash,
    request_id: claim.requestId,
    response_status: null,
    response_body: null,
    created: now,
    expires_at: now + IDEMPOTENCY_REPLAY_MS,
  };
}

/**
 * Claims the request's key inside its first state-changing transaction. Later transactions of
 * the same request find their own claim; any other holder raises IdempotencyConflict.
 */
export async function claimInTransaction(tx: Executor, deps: Pick<CoreDeps, 'clock'>, ctx: RequestContext): Promise<void> {
  const claim = ctx.idempotency;
  if (claim === null) return;
  if (await claimIdempotencyKey(tx, claimRow(deps, ctx.scope, claim))) return;
  const existing = await findIdempotencyKey(tx, ctx.scope, claim.key);
  if (existing?.request_id !== claim.requestId) throw new IdempotencyConflict();
}

/** Stores the response in the caller's transaction, so it commits with the state change it reports. */
export async function completeIdempotentRequest(tx: Executor, ctx: RequestContext, status: number, body: unknown): Promise<void> {
  const claim = ctx.idempotency;
  if (claim === null) return;
  await recordIdempotentResponse(tx, ctx.scope, claim.key, claim.requestId, status, typeof body === 'string' ? body : JSON.stringify(body));
  claim.storedInTransaction = true;
}

/**
 * Stores a response no transaction stored (a 5xx, or a route without a state change of its
 * own): claims the key if still free, then writes the response if it is still this request's.
 */
export async function storeIdempotentResponse(deps: Pick<CoreDeps, 'database' | 'clock'>, scope: Scope, claim: IdempotencyClaim, status: number, body: string): Promise<void> {
  await claimIdempotencyKey(deps.database.db, claimRow(deps, scope, claim));
  await recordIdempotentResponse(deps.database.db, scope, claim.key, claim.requestId, status, body);
}

/** Frees a key this request claimed but whose (4xx) response must not be replayed. */
export async function releaseIdempotentRequest(deps: Pick<CoreDeps, 'database'>, scope: Scope, claim: IdempotencyClaim): Promise<void> {
  await releaseIdempotencyKey(deps.database.db, scope, claim.key, claim.requestId);
}

/** JSON with object keys sorted, so `{a,b}` and `{b,a}` hash alike. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
