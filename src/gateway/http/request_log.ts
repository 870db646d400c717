import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { REQUEST_LOG_BODY_MAX, capBody } from '../core/request_logs.js';
import type { RequestLogSink } from '../core/request_logs.js';
import { apiKeyOf } from './auth.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The response payload as sent, kept by onSend for the request log (null: none yet). */
    loggedResponse: string | null;
  }
}

/**
 * Captures every answered /v1 request that authenticated (so it belongs to an account and mode)
 * into the request log sink. Requests refused before authentication (401, a publishable key on a
 * secret-only route's 403) and URLs no route matched are not logged: they belong to no account,
 * and logging them would let anyone without a key fill the table.
 *
 * Cost on the request's path: onSend keeps a reference to the payload; onResponse (after the
 * response is written) builds one small object. Serialization, redaction and capping happen in
 * the writer's batch, except for bodies over the cap, which are cut here so the buffer's memory
 * stays bounded.
 */
export function installRequestLog(app: FastifyInstance, sink: RequestLogSink, clock: Clock): void {
  app.decorateRequest('loggedResponse', null);
  app.addHook('onSend', (req: FastifyRequest, _reply: FastifyReply, payload: unknown, done) => {
    if (req.auth !== null && typeof payload === 'string') req.loggedResponse = payload;
    done(null, payload);
  });
  app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done) => {
    logRequest(req, reply);
    done();
  });

  function logRequest(req: FastifyRequest, reply: FastifyReply): void {
    const auth = req.auth;
    if (auth === null) return;
    const route = req.routeOptions.url ?? null;
    if (route === null || !route.startsWith('/v1/')) return;
    const key = apiKeyOf(req.headers.authorization);
    const idempotencyHeader = req.headers['idempotency-key'];
    const idempotencyKey = Array.isArray(idempotencyHeader) ? (idempotencyHeader[0] ?? null) : (idempotencyHeader ?? null);
    const contentLength = Number(req.headers['content-length'] ?? 0);
    // A large body is serialized and cut now, so the buffer never holds megabytes per entry.
    const requestBody = contentLength > REQUEST_LOG_BODY_MAX && req.body != null ? detached(capBody(JSON.stringify(req.body), REQUEST_LOG_BODY_MAX + 1024)) : req.body;
    const response = req.loggedResponse;
    req.loggedResponse = null;
    sink.enqueue({
      id: req.id,
      accountId: auth.accountId,
      livemode: auth.livemode,
      created: clock.now(),
      method: req.method,
      path: req.url,
      route,
      status: reply.statusCode,
      durationMs: reply.elapsedTime,
      idempotencyKey: idempotencyKey === null ? null : idempotencyKey.slice(0, 255),
      idempotentReplayed: reply.getHeader('idempotent-replayed') === 'true',
      apiKeyLast4: key === null ? null : key.slice(-4),
      requestBody,
      responseBody: response === null || response.length <= REQUEST_LOG_BODY_MAX ? response : detached(response.slice(0, REQUEST_LOG_BODY_MAX + 1024)),
    });
  }
}

/** A copy of a slice that does not keep its (possibly megabyte-sized) parent string alive. */
function detached(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}
