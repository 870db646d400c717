import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  IDEMPOTENCY_KEY_LENGTH_MAX,
  beginIdempotentRequest,
  decideIdempotentRequest,
  endIdempotentRequest,
  fingerprintParams,
  responseAlreadyStored,
} from '../core/idempotency.js';
import type { IdempotencyClaim } from '../core/idempotency.js';
import { recoverIdempotentRequest } from '../core/recovery.js';
import { ApiError, invalidRequest } from '../errors.js';
import { authOf, contextOf } from './context.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Stops the heartbeat of this request's idempotency claim (null: none running). */
    stopIdempotencyHeartbeat: (() => void) | null;
  }
}

/** Sends the stored response of the key's first request. */
export function sendReplay(reply: FastifyReply, status: number, body: string): FastifyReply {
  return reply.code(status).header('Idempotent-Replayed', 'true').type('application/json; charset=utf-8').send(body);
}

/**
 * Decides again for a request that lost its key to a concurrent one inside its transaction
 * (IdempotencyConflict): by now the winner has committed, so this usually replays its response.
 */
export async function replayAfterConflict(app: FastifyInstance, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const claim = req.idempotency;
  if (claim === null) throw new Error('IdempotencyConflict without an Idempotency-Key');
  req.idempotency = null;
  // Only a replay: this request already failed its own transaction, so it finishes nobody else's.
  const decision = await decideIdempotentRequest(app.core, { accountId: authOf(req).accountId, livemode: authOf(req).livemode }, claim, { takeOver: false });
  if (decision.kind === 'replay') return sendReplay(reply, decision.status, decision.body);
  // The winner rolled back and freed the key: the client may simply retry.
  throw new ApiError({
    status: 409,
    type: 'idempotency_error',
    code: 'idempotency_key_in_use',
    message: `Another request with the Idempotency-Key "${claim.key}" was running at the same time; retry the request.`,
  });
}

/**
 * Idempotency-Key on POSTs (api.md §1). Before the handler: replay a stored response, refuse a
 * mismatch (400) or a key held by a live request (409), or — when the key's first request died
 * (its lease ran out) — take its claim over and finish what it started (core/recovery.ts) instead
 * of running the handler. The key itself is claimed by the core in the request's first
 * transaction with this process as owner, its lease renewed by a heartbeat while the request runs,
 * and its response stored by the transaction that produces it; this hook only stores what no
 * transaction did (5xx) and, for a 4xx, frees the key if nothing of the request committed.
 */
export function installIdempotency(app: FastifyInstance): void {
  const owner = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  app.decorateRequest('idempotency', null);
  app.decorateRequest('stopIdempotencyHeartbeat', null);
  // Callback style where there is nothing to await (no key, no claim): no promise per request.
  app.addHook('preHandler', (req: FastifyRequest, reply: FastifyReply, done) => {
    if (req.method !== 'POST' || req.auth === null || req.headers['idempotency-key'] === undefined) return done();
    // Resolving (replay sent or not) moves on exactly as the async hook this was.
    return begin(req, reply);
  });
  const begin = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const header = req.headers['idempotency-key']!;
    const key = Array.isArray(header) ? header[0]! : header;
    if (key.length === 0 || key.length > IDEMPOTENCY_KEY_LENGTH_MAX) {
      throw invalidRequest('parameter_invalid', `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_LENGTH_MAX} characters long; got ${key.length}.`, 'Idempotency-Key');
    }
    const claim: IdempotencyClaim = {
      key,
      method: req.method,
      path: req.url.split('?')[0]!,
      paramsHash: fingerprintParams(req.body ?? {}),
      requestId: req.id,
      owner,
      storedInTransaction: false,
    };
    const scope = { accountId: authOf(req).accountId, livemode: authOf(req).livemode };
    const { decision, stopHeartbeat } = await beginIdempotentRequest(app.core, scope, claim);
    if (decision.kind === 'replay') return sendReplay(reply, decision.status, decision.body);
    req.idempotency = claim;
    req.stopIdempotencyHeartbeat = stopHeartbeat;
    if (decision.kind === 'recover') {
      req.log.info({ idempotency_key: key, recovery_point: decision.point }, 'finishing the request a dead process started with this Idempotency-Key');
      const body = await recoverIdempotentRequest(app.core, contextOf(req), decision.point);
      return reply.code(200).send(body);
    }
    return undefined;
  };
  app.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done) => {
    const claim = req.idempotency;
    if (claim === null || req.auth === null) return done(null, payload);
    req.stopIdempotencyHeartbeat?.();
    req.stopIdempotencyHeartbeat = null;
    // The common case answers without a promise: the create's transaction stored its response.
    if (responseAlreadyStored(claim, reply.statusCode)) return done(null, payload);
    const scope = { accountId: req.auth.accountId, livemode: req.auth.livemode };
    const body = typeof payload === 'string' ? payload : JSON.stringify(payload ?? null);
    endIdempotentRequest(app.core, scope, claim, reply.statusCode, body).then(() => done(null, payload), done);
  });
  // A request whose response never reached onSend (its socket closed) stops its heartbeat here.
  app.addHook('onResponse', (req: FastifyRequest, _reply, done) => {
    req.stopIdempotencyHeartbeat?.();
    req.stopIdempotencyHeartbeat = null;
    done();
  });
}
