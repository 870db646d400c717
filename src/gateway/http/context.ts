import type { FastifyRequest } from 'fastify';
import type { AuthenticatedKey } from '../core/accounts.js';
import type { CoreDeps, RequestContext } from '../core/context.js';
import type { IdempotencyClaim } from '../core/idempotency.js';
import { ApiError } from '../errors.js';
import type { DeclaredRoute, RouteAuth } from './auth.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The core's dependencies, shared with routes through this decorator. */
    core: CoreDeps;
    /** Every route registered so far, with the authentication it declared (auth.ts). */
    declaredRoutes: readonly DeclaredRoute[];
  }
  interface FastifyRequest {
    /** Set by the auth hook for every /v1 request. */
    auth: AuthenticatedKey | null;
    /** This request's Idempotency-Key (null: none, or a replay). */
    idempotency: IdempotencyClaim | null;
  }
  interface FastifyContextConfig {
    /** Who may call this route (auth.ts); every route declares it, or the app refuses to start. */
    auth?: RouteAuth;
  }
}

/** Route options declaring who may call the route: `app.get(url, routeAuth('secret'), handler)`. */
export function routeAuth(auth: RouteAuth): { config: { auth: RouteAuth } } {
  return { config: { auth } };
}

export function authOf(req: FastifyRequest): AuthenticatedKey {
  if (req.auth === null) throw new Error(`route ${req.url} ran without authentication`);
  return req.auth;
}

/** The request as the core sees it: the caller's scope, request id and claimed idempotency key. */
export function contextOf(req: FastifyRequest): RequestContext {
  const auth = authOf(req);
  return { scope: { accountId: auth.accountId, livemode: auth.livemode }, requestId: req.id, idempotency: req.idempotency };
}

/** Publishable keys must prove which PaymentIntent they act on with its client_secret. */
export function clientSecretFor(req: FastifyRequest, given: string | null | undefined): string | undefined {
  if (authOf(req).kind === 'secret') return undefined;
  if (given == null) {
    throw new ApiError({
      status: 403,
      type: 'invalid_request_error',
      code: 'secret_key_required',
      message: 'A publishable key can only use this endpoint together with the PaymentIntent\'s client_secret.',
      param: 'client_secret',
    });
  }
  return given;
}
