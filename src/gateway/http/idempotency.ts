import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  IDEMPOTENCY_KEY_LENGTH_MAX,
  decideIdempotentRequest,
  fingerprintParams,
  releaseIdempotentRequest,
  storeIdempotentResponse,
} from '../core/idempotency.js';
import type { IdempotencyClaim } from '../core/idempotency.js';
import { ApiError, invalidRequest } from '../errors.js';
import { authOf } from './context.js';

/** Statuses whose request began executing and whose response is therefore replayed (5xx included). */
function executed(status: number): boolean {
  return status < 400 || status === 402 || status >= 500;
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
  const decision = await decideIdempotentRequest(app.core, { accountId: authOf(req).accountId, livemode: authOf(req).livemode }, claim);
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
 * Idempotency-Key on POSTs (api.md §1). Before the handler: replay a stored response, or refuse a
 * mismatch (400) or a key still in use (409). The key itself is claimed by the core in the
 * request's first transaction and its response stored by the transaction that produces it; this
 * hook only stores what no transaction did (5xx) and frees a claim whose answer was a 4xx.
 */
export function installIdempotency(app: FastifyInstance): void {
  app.decorateRequest('idempotency', null);
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers['idempotency-key'];
    if (req.method !== 'POST' || req.auth === null || header === undefined) return;
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
      storedInTransaction: false,
    };
    const decision = await decideIdempotentRequest(app.core, { accountId: authOf(req).accountId, livemode: authOf(req).livemode }, claim);
    if (decision.kind === 'replay') return sendReplay(reply, decision.status, decision.body);
    req.idempotency = claim;
  });
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    const claim = req.idempotency;
    if (claim === null || req.auth === null) return payload;
    const status = reply.statusCode;
    // 2xx and 402 are sent only after their transaction committed, so its stored copy is real.
    if (status < 500 && claim.storedInTransaction) return payload;
    const scope = { accountId: req.auth.accountId, livemode: req.auth.livemode };
    if (executed(status)) await storeIdempotentResponse(app.core, scope, claim, status, typeof payload === 'string' ? payload : JSON.stringify(payload ?? null));
    else await releaseIdempotentRequest(app.core, scope, claim);
    return payload;
  });
}
