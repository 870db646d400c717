import { hash } from 'node:crypto';
import { ApiError } from '../errors.js';
import {
  claimIdempotencyKey,
  deleteExpiredIdempotencyKey,
  findIdempotencyKey,
  recordIdempotentResponse,
  recordRecoveryPoint,
  releaseIdempotencyKey,
  renewIdempotencyLease,
  takeOverIdempotencyKey,
} from '../store/idempotency.js';
import { readOnce } from '../store/database.js';
import type { Executor, IdempotencyRow, NewIdempotencyRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';
import type { IdempotencyClaim } from './idempotency_claim.js';

export type { IdempotencyClaim };

/** Replay window of api.md §1. */
export const IDEMPOTENCY_REPLAY_MS = 24 * 60 * 60 * 1000;
export const IDEMPOTENCY_KEY_LENGTH_MAX = 255;
/**
 * How long an in-progress claim stays its request's without a heartbeat. A retry within it gets
 * 409 (the request is alive); after it, the request is taken for dead and the retry finishes it.
 */
export const IDEMPOTENCY_LEASE_MS = 15_000;
/** The running request renews its lease this often: three renewals fit in one lease. */
export const IDEMPOTENCY_HEARTBEAT_MS = IDEMPOTENCY_LEASE_MS / 3;
/** No request runs this long; a heartbeat still going then is a leak, and stops. */
export const IDEMPOTENCY_HEARTBEAT_MAX_MS = 10 * 60_000;

/**
 * What a request with an Idempotency-Key durably started before its response, so that a retry
 * after a crash finishes it instead of starting it again (core/recovery.ts). Written in the
 * transaction that starts it; a request that writes its response in the same transaction as its
 * change needs none.
 * - `confirm`: the PaymentIntent to confirm (created by this request with `confirm: true`, or
 *   confirmed by it), and the attempt once the request started it.
 * - `refund`: the refund this request created.
 * - `dispute_response`: the dispute whose response (submit, or an escalation's close) this
 *   request stored to send.
 */
export type RecoveryPoint =
  | { step: 'confirm'; paymentIntent: string; attempt: string | null }
  | { step: 'refund'; refund: string }
  | { step: 'dispute_response'; dispute: string };

export function parseRecoveryPoint(text: string): RecoveryPoint {
  const value = JSON.parse(text) as Partial<Record<string, unknown>>;
  if (value.step === 'confirm' && typeof value.paymentIntent === 'string' && (value.attempt === null || typeof value.attempt === 'string')) {
    return { step: 'confirm', paymentIntent: value.paymentIntent, attempt: value.attempt };
  }
  if (value.step === 'refund' && typeof value.refund === 'string') return { step: 'refund', refund: value.refund };
  if (value.step === 'dispute_response' && typeof value.dispute === 'string') return { step: 'dispute_response', dispute: value.dispute };
  throw new Error(`unreadable recovery point ${text}`);
}


export type IdempotencyDecision =
  | { kind: 'execute' }
  | { kind: 'replay'; status: number; body: string }
  /** The first request died after starting `point`; the claim is now this request's, to finish it. */
  | { kind: 'recover'; point: RecoveryPoint };

/** Thrown inside a transaction when another request holds the key; the HTTP layer decides again. */
export class IdempotencyConflict extends Error {
  override name = 'IdempotencyConflict';
}

/** SHA-256 of the parameters with object keys sorted, so `{a,b}` and `{b,a}` are the same request. */
export function fingerprintParams(params: unknown): string {
  return hash('sha256', canonicalJson(params), 'hex');
}

function keyInUse(key: string): ApiError {
  return new ApiError({
    status: 409,
    type: 'idempotency_error',
    code: 'idempotency_key_in_use',
    message: `There is currently another in-progress request using the Idempotency-Key "${key}". Retry after it completes.`,
  });
}

/** Whether a claim without a response belongs to a request still running. */
export function claimIsLive(row: Pick<IdempotencyRow, 'owner' | 'locked_until'>, nowMs: number): boolean {
  // A claim written before leases existed cannot be told apart from a running request.
  if (row.owner === null) return true;
  return row.locked_until !== null && row.locked_until >= nowMs;
}

/**
 * What to do with a request carrying this key: execute it, replay the stored response, finish
 * what a dead first request started (`recover`), or refuse (400 other parameters or path, 409 the
 * first request is still running). Taking over a dead claim is a compare-and-set, so of several
 * retries at once one recovers and the others get 409.
 */
export async function decideIdempotentRequest(
  deps: Pick<CoreDeps, 'database' | 'clock'>,
  scope: Scope,
  claim: IdempotencyClaim,
  options: { takeOver?: boolean } = {},
): Promise<IdempotencyDecision> {
  const now = deps.clock.now();
  const existing = await readOnce(deps.database, (ex) => findIdempotencyKey(ex, scope, claim.key));
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
  if (existing.response_status !== null && existing.response_body !== null) return { kind: 'replay', status: existing.response_status, body: existing.response_body };
  if (claimIsLive(existing, now) || options.takeOver === false) throw keyInUse(claim.key);
  const taken = await takeOverIdempotencyKey(deps.database.db, scope, claim.key, existing, { requestId: claim.requestId, owner: claim.owner, lockedUntilMs: now + IDEMPOTENCY_LEASE_MS });
  if (!taken) throw keyInUse(claim.key);
  // Nothing of a claim without a recovery point committed (a request that changes state in one
  // transaction stores its response in it): the retry simply executes, under the claim it took.
  return existing.recovery_point === null ? { kind: 'execute' } : { kind: 'recover', point: parseRecoveryPoint(existing.recovery_point) };
}

/**
 * Takes over the claim of a dead request for the worker, which finishes what it started
 * (core/recovery.ts): 'taken' with the claim now held, or why not.
 */
export async function takeOverForWorker(
  deps: Pick<CoreDeps, 'database' | 'clock'>,
  scope: Scope,
  key: string,
  claim: Pick<IdempotencyClaim, 'requestId' | 'owner'>,
): Promise<{ kind: 'taken'; claim: IdempotencyClaim; point: RecoveryPoint | null } | { kind: 'absent' | 'live' | 'answered' | 'lost'; row?: IdempotencyRow }> {
  const now = deps.clock.now();
  const existing = await findIdempotencyKey(deps.database.db, scope, key);
  if (existing === undefined || existing.expires_at <= now) return { kind: 'absent' };
  if (existing.response_status !== null) return { kind: 'answered', row: existing };
  if (claimIsLive(existing, now)) return { kind: 'live' };
  if (!(await takeOverIdempotencyKey(deps.database.db, scope, key, existing, { requestId: claim.requestId, owner: claim.owner, lockedUntilMs: now + IDEMPOTENCY_LEASE_MS }))) return { kind: 'lost' };
  return {
    kind: 'taken',
    claim: { key, method: existing.request_method, path: existing.request_path, paramsHash: existing.params_hash, requestId: claim.requestId, owner: claim.owner, storedInTransaction: false },
    point: existing.recovery_point === null ? null : parseRecoveryPoint(existing.recovery_point),
  };
}

function claimRow(deps: Pick<CoreDeps, 'clock'>, scope: Scope, claim: IdempotencyClaim, point: RecoveryPoint | undefined): NewIdempotencyRow {
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
    owner: claim.owner,
    locked_until: now + IDEMPOTENCY_LEASE_MS,
    recovery_point: point === undefined ? null : JSON.stringify(point),
  };
}

/**
 * Claims the request's key inside its first state-changing transaction. Later transactions of
 * the same request find their own claim; any other holder raises IdempotencyConflict.
 * `point`: what this transaction starts that a later one finishes (see RecoveryPoint); it
 * commits with the change itself, so a retry after a crash finds exactly what committed.
 */
export async function claimInTransaction(tx: Executor, deps: Pick<CoreDeps, 'clock'>, ctx: RequestContext, point?: RecoveryPoint): Promise<void> {
  const claim = ctx.idempotency;
  if (claim === null) return;
  if (await claimIdempotencyKey(tx, claimRow(deps, ctx.scope, claim, point))) return;
  const existing = await findIdempotencyKey(tx, ctx.scope, claim.key);
  if (existing?.request_id !== claim.requestId) throw new IdempotencyConflict();
  if (point !== undefined) await recordRecoveryPoint(tx, ctx.scope, claim.key, claim.requestId, JSON.stringify(point), deps.clock.now() + IDEMPOTENCY_LEASE_MS);
}

/**
 * For a later transaction of a request whose earlier transaction committed its claim: notes the
 * new recovery point (and renews the lease) in one statement, where claimInTransaction would try
 * the insert, read the row and then update it. The update's condition is the claim being this
 * request's with no response yet, exactly what claimInTransaction checks; when it matches no row
 * (the claim was taken over meanwhile) the full claim runs and decides.
 */
export async function claimHeldInTransaction(tx: Executor, deps: Pick<CoreDeps, 'clock'>, ctx: RequestContext, point: RecoveryPoint): Promise<void> {
  const claim = ctx.idempotency;
  if (claim === null) return;
  if (await recordRecoveryPoint(tx, ctx.scope, claim.key, claim.requestId, JSON.stringify(point), deps.clock.now() + IDEMPOTENCY_LEASE_MS)) return;
  await claimInTransaction(tx, deps, ctx, point);
}

/**
 * Claims the key and stores the response in one statement, as the LAST write of a request's only
 * transaction (a create without confirm): instead of claiming first and updating the response
 * at the end. Equivalent because the claim and the change commit together either way: a
 * concurrent first use of the key conflicts at this insert (on PostgreSQL it waits for the
 * winner's commit) and the whole transaction rolls back, as it would have at a first claim.
 * A claim already this request's (taken over from a dead request) gets its response written.
 */
export async function claimAndCompleteInTransaction(tx: Executor, deps: Pick<CoreDeps, 'clock'>, ctx: RequestContext, status: number, body: unknown): Promise<void> {
  const claim = ctx.idempotency;
  if (claim === null) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const answered: NewIdempotencyRow = { ...claimRow(deps, ctx.scope, claim, undefined), response_status: status, response_body: text, locked_until: null };
  if (await claimIdempotencyKey(tx, answered)) {
    claim.storedInTransaction = true;
    return;
  }
  const existing = await findIdempotencyKey(tx, ctx.scope, claim.key);
  if (existing?.request_id !== claim.requestId) throw new IdempotencyConflict();
  await completeIdempotentRequest(tx, ctx, status, text);
}

/** Stores the response in the caller's transaction, so it commits with the state change it reports. */
export async function completeIdempotentRequest(tx: Executor, ctx: Pick<RequestContext, 'scope' | 'idempotency'>, status: number, body: unknown): Promise<void> {
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
  await claimIdempotencyKey(deps.database.db, claimRow(deps, scope, claim, undefined));
  await recordIdempotentResponse(deps.database.db, scope, claim.key, claim.requestId, status, body);
}

/**
 * A request answered with a 4xx that is not replayed: its key is freed only if nothing of it
 * committed. Once an earlier transaction of the request committed (a create+confirm's create),
 * the 4xx is stored instead, so a retry replays it rather than creating a second object.
 */
export async function finishRefusedRequest(deps: Pick<CoreDeps, 'database'>, scope: Scope, claim: IdempotencyClaim, status: number, body: string): Promise<void> {
  if (await releaseIdempotencyKey(deps.database.db, scope, claim.key, claim.requestId)) return;
  await recordIdempotentResponse(deps.database.db, scope, claim.key, claim.requestId, status, body);
}

/**
 * The running request's heartbeat: renews its claim's lease every IDEMPOTENCY_HEARTBEAT_MS
 * (before the claim exists it renews nothing), so a retry can tell it from a dead one. Returns
 * the function that stops it; the timer never keeps the process alive.
 */
export function keepClaimAlive(deps: Pick<CoreDeps, 'database' | 'clock' | 'logger'>, scope: Scope, claim: IdempotencyClaim): () => void {
  const startedAt = Date.now();
  const timer = setInterval(() => {
    if (Date.now() - startedAt > IDEMPOTENCY_HEARTBEAT_MAX_MS) {
      clearInterval(timer);
      return;
    }
    renewIdempotencyLease(deps.database.db, scope, claim.key, claim.requestId, deps.clock.now() + IDEMPOTENCY_LEASE_MS).catch((error: unknown) => {
      deps.logger.warn({ err: error, idempotency_request_id: claim.requestId }, 'could not renew an idempotency lease');
    });
  }, IDEMPOTENCY_HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/** Statuses whose request began executing and whose response is therefore replayed (5xx included). */
export function executedStatus(status: number): boolean {
  return status < 400 || status === 402 || status >= 500;
}

/**
 * The start of a request carrying an Idempotency-Key, for every front end that takes one (the
 * API's hook, the dashboard's refund form): decides (replay, refuse, execute, recover) and, when
 * the request is to run, starts its claim's heartbeat — stop it with `stopHeartbeat` when done.
 */
export async function beginIdempotentRequest(
  deps: Pick<CoreDeps, 'database' | 'clock' | 'logger'>,
  scope: Scope,
  claim: IdempotencyClaim,
): Promise<{ decision: IdempotencyDecision; stopHeartbeat: (() => void) | null }> {
  const decision = await decideIdempotentRequest(deps, scope, claim);
  return { decision, stopHeartbeat: decision.kind === 'replay' ? null : keepClaimAlive(deps, scope, claim) };
}

/** Whether the request's own transaction stored this response, leaving `endIdempotentRequest` nothing to do. */
export function responseAlreadyStored(claim: IdempotencyClaim, status: number): boolean {
  // 2xx and 402 are sent only after their transaction committed, so its stored copy is real.
  return status < 500 && claim.storedInTransaction;
}

/**
 * The end of such a request, once its response is known: stores the response no transaction
 * stored (a 5xx, a route without a state change of its own), or frees the key of a refused one.
 */
export async function endIdempotentRequest(deps: Pick<CoreDeps, 'database' | 'clock'>, scope: Scope, claim: IdempotencyClaim, status: number, body: string): Promise<void> {
  if (responseAlreadyStored(claim, status)) return;
  if (executedStatus(status)) await storeIdempotentResponse(deps, scope, claim, status, body);
  else await finishRefusedRequest(deps, scope, claim, status, body);
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
