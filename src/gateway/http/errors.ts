import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { IdempotencyConflict } from '../core/idempotency.js';
import { ApiError } from '../errors.js';
import { replayAfterConflict } from './idempotency.js';

/** Fastify's own client-side errors, mapped to the envelope (never a 500 for a client mistake). */
function fromFastifyError(error: FastifyError): ApiError | null {
  const status = error.statusCode ?? 500;
  if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ApiError({ status: 413, type: 'invalid_request_error', message: 'The request body is larger than the 1 MiB limit.', shouldRetry: false });
  }
  if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new ApiError({
      status: 415,
      type: 'invalid_request_error',
      message: `Unsupported Content-Type; send application/json or application/x-www-form-urlencoded.`,
      shouldRetry: false,
    });
  }
  if (status >= 400 && status < 500) {
    return new ApiError({ status, type: 'invalid_request_error', message: error.message, shouldRetry: false });
  }
  return null;
}

/**
 * Where an error's request log entry is shown (`request_log_url`, api.md §8), or null when none
 * will be written: the request log is off, or the request is not one it captures (request_log.ts:
 * authenticated /v1 routes only).
 */
export type RequestLogUrlOf = (req: FastifyRequest) => string | null;

/** The dashboard page of a captured request's log: `<public URL>/dashboard/logs/<req_…>`, live keys with `?mode=live`. */
export function requestLogUrlResolver(publicUrl: () => string): RequestLogUrlOf {
  return (req) => {
    const auth = req.auth;
    const route = req.routeOptions.url;
    if (auth === null || auth === undefined || route === undefined || !route.startsWith('/v1/')) return null;
    return `${publicUrl()}/dashboard/logs/${encodeURIComponent(req.id)}${auth.livemode ? '?mode=live' : ''}`;
  };
}

function sendApiError(req: FastifyRequest, reply: FastifyReply, apiError: ApiError | null, cause: unknown, requestLogUrlOf: RequestLogUrlOf | null): FastifyReply {
  // A response its transaction already stored for Idempotency-Key replays (a 402) is sent as
  // stored: a replay must be byte-for-byte the first answer, and the core cannot know the URL.
  const logUrl = req.idempotency?.storedInTransaction === true ? null : (requestLogUrlOf?.(req) ?? null);
  const withLogUrl = (body: { error: Record<string, unknown> }) => (logUrl === null ? body : { error: { ...body.error, request_log_url: logUrl } });
  if (apiError === null) {
    req.log.error({ err: cause }, 'unhandled error');
    return reply.code(500).send(withLogUrl({ error: { type: 'api_error', message: 'An unexpected error occurred while processing the request.' } }));
  }
  if (apiError.status >= 500) req.log.error({ err: cause }, 'server error');
  if (apiError.fields.shouldRetry === false) void reply.header('Stripe-Should-Retry', 'false');
  return reply.code(apiError.status).send(withLogUrl(apiError.toBody()));
}

/**
 * The one place errors become HTTP responses (api.md §1 envelope). With `requestLogUrlOf` (the
 * request log is on), errors of requests it captures carry `request_log_url`.
 */
export function installErrorHandling(app: FastifyInstance, requestLogUrlOf: RequestLogUrlOf | null = null): void {
  app.setErrorHandler(async (error: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof IdempotencyConflict) {
      try {
        return await replayAfterConflict(app, req, reply);
      } catch (decided) {
        return sendApiError(req, reply, decided instanceof ApiError ? decided : null, decided, requestLogUrlOf);
      }
    }
    return sendApiError(req, reply, error instanceof ApiError ? error : fromFastifyError(error as FastifyError), error, requestLogUrlOf);
  });
  app.setNotFoundHandler((req, reply) => {
    return reply.code(404).send({
      error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${req.url.split('?')[0]}).` },
    });
  });
}

/**
 * URLs the router refuses before any route or hook runs (a malformed percent-encoding such as
 * `%zz` or an overlong UTF-8 `%C0%AF`, a path segment longer than the router allows): the
 * error envelope, not Fastify's own body (which also echoed the raw URL back).
 */
export function frameworkErrorHandler(error: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
  const message = tooLong ? 'A segment of the request URL is longer than the server accepts.' : 'The request URL is not valid (malformed percent-encoding).';
  return reply
    .code(tooLong ? 414 : 400)
    .header('Request-Id', req.id)
    .header('Stripe-Should-Retry', 'false')
    .send({ error: { type: 'invalid_request_error', message } });
}

/**
 * Requests Node's HTTP parser rejects before Fastify sees them (oversized headers or URL,
 * malformed request lines) still get the error envelope; there is no request id yet.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const message = status === 431 ? 'The request line or headers are larger than the server accepts.' : status === 408 ? 'The request took too long to arrive.' : 'Malformed HTTP request.';
  const body = JSON.stringify({ error: { type: 'invalid_request_error', message } });
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
