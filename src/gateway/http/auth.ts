import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { ApiKeyAuthenticator } from '../core/accounts.js';
import type { AuthenticatedKey } from '../core/accounts.js';
import { ApiError } from '../errors.js';

/**
 * Who may call a route, declared on the route itself (`config: { auth }`) rather than derived
 * from its URL: the router decodes paths (`/%761/…` is `/v1/…`), so a prefix test on the raw URL
 * and the route that actually runs can disagree.
 * - `secret`: a secret key.
 * - `publishable`: a secret key, or a publishable key (api.md §1, with the intent's client_secret).
 * - `none`: no API key (health checks, inbound Alipay+ traffic, hosted pages with their own check).
 */
export type RouteAuth = 'secret' | 'publishable' | 'none';
const ROUTE_AUTH: readonly RouteAuth[] = ['secret', 'publishable', 'none'];

const unauthorized = (message: string) => new ApiError({ status: 401, type: 'invalid_request_error', message });

/** The API key of `Authorization: Basic base64("<key>:")` (WooshPay) or `Bearer <key>` (stripe-node). */
export function apiKeyOf(header: string | undefined): string | null {
  if (header === undefined) return null;
  const [scheme, value] = header.trim().split(/\s+/, 2);
  if (value === undefined) return null;
  if (scheme?.toLowerCase() === 'bearer') return value;
  if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon === -1 ? decoded : decoded.slice(0, colon);
  }
  return null;
}

/** One route of the app as registered, with the authentication it declared. */
export interface DeclaredRoute {
  method: string;
  url: string;
  auth: RouteAuth;
}

function methodsOf(route: RouteOptions): string[] {
  return Array.isArray(route.method) ? route.method : [route.method];
}

/**
 * Refuses to register a route that does not declare its authentication, so a route added
 * without thought fails the process at startup instead of answering unauthenticated. Returns
 * the list of routes it saw (the fuzz test enumerates it).
 */
export function requireDeclaredAuth(app: FastifyInstance): readonly DeclaredRoute[] {
  const routes: DeclaredRoute[] = [];
  app.addHook('onRoute', function declared(this: FastifyInstance, route) {
    // A scope may declare one authentication for all its routes (`withRouteAuth`).
    const auth = (route.config as { auth?: unknown } | undefined)?.auth ?? this[SCOPE_AUTH];
    if (!ROUTE_AUTH.includes(auth as RouteAuth)) {
      throw new Error(`route ${methodsOf(route).join(',')} ${route.url} declares no authentication: set config.auth to one of ${ROUTE_AUTH.join(', ')}`);
    }
    route.config = { ...route.config, auth: auth as RouteAuth };
    for (const method of methodsOf(route)) routes.push({ method, url: route.url, auth: auth as RouteAuth });
  });
  return routes;
}

const SCOPE_AUTH = 'zhifuScopeRouteAuth';
declare module 'fastify' {
  interface FastifyInstance {
    /** The authentication every route registered in this scope declares (see withRouteAuth). */
    [SCOPE_AUTH]?: RouteAuth;
  }
}

/**
 * Registers routes of code that does not take route options (the inbound Alipay+ routes) in a
 * scope that declares `auth` for all of them.
 */
export function withRouteAuth(app: FastifyInstance, auth: RouteAuth, register: (scope: FastifyInstance) => void): void {
  void app.register(async (scope) => {
    scope.decorate(SCOPE_AUTH, auth);
    register(scope);
  });
}

/**
 * Authenticates every request whose route asks for a key, before its body is read: 401 for a
 * missing or unknown key, 403 for a publishable key on a secret-only route. A request that
 * matched no route needs no key (it gets the 404); one whose route somehow has no declaration
 * is refused (fail closed).
 */
export function installAuth(app: FastifyInstance, authenticator: ApiKeyAuthenticator): void {
  app.decorateRequest('auth', null);
  // Callback style: a cached key (nearly every request) is checked without a promise.
  app.addHook('onRequest', (req: FastifyRequest, _reply, done) => {
    if (req.is404) return done();
    const required = req.routeOptions.config.auth;
    if (required === 'none') return done();
    const key = apiKeyOf(req.headers.authorization);
    if (key === null || key === '') {
      throw unauthorized('You did not provide an API key. Provide it as "Authorization: Bearer <secret key>" or with HTTP Basic auth (the key as the user name).');
    }
    const cached = authenticator.cached(key);
    if (cached !== undefined) {
      admit(req, required, key, cached);
      return done();
    }
    authenticator.authenticate(key).then((auth) => {
      admit(req, required, key, auth);
      done();
    }).catch(done);
  });
}

/** Sets the request's key, or throws 401 (unknown key) or 403 (a publishable key on a secret-only route). */
function admit(req: FastifyRequest, required: RouteAuth | undefined, key: string, auth: AuthenticatedKey | null): void {
  if (auth === null) throw unauthorized(`Invalid API key provided: ${key.slice(0, 8)}****${key.slice(-4)}`);
  if (auth.kind === 'publishable' && required !== 'publishable') {
    throw new ApiError({
      status: 403,
      type: 'invalid_request_error',
      code: 'secret_key_required',
      message: 'This API call cannot be made with a publishable API key. Use a secret API key.',
    });
  }
  req.auth = auth;
}
