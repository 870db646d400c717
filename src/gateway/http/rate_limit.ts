import { createHash } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../errors.js';

/**
 * Requests per second per API key on /v1 (api.md §1: 429 when exceeded). Counted per process in
 * memory: it protects the process and the database from one runaway client, it is not a quota.
 */
export function installRateLimit(app: FastifyInstance, perSecond: number): void {
  void app.register(rateLimit, {
    // Not `global`: that attaches to routes as they are declared, and ours are declared in the same
    // tick as this registration. One onRequest hook below applies it to every keyed request instead.
    global: false,
    max: perSecond,
    timeWindow: 1000,
    // Keyed by a hash of the credential, so the limiter's memory never holds a secret key.
    keyGenerator: (req: FastifyRequest) => createHash('sha256').update(req.headers.authorization ?? `ip:${req.ip}`).digest('base64url').slice(0, 22),
    errorResponseBuilder: (_req, context) =>
      new ApiError({
        status: 429,
        type: 'invalid_request_error',
        code: 'rate_limit',
        message: `Too many requests: at most ${context.max} per second per API key. Retry after ${Math.ceil(context.ttl / 1000)} s.`,
      }),
  });
  let check: ((req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) | undefined;
  app.addHook('onRequest', async (req, reply) => {
    // By the route's declaration, not the raw URL (which the router decodes): `/%761/…` is limited too.
    if (req.routeOptions.config.auth === 'none') return;
    check ??= app.rateLimit() as (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
    await check(req, reply);
  });
}
