import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { expandAnswer, expandTreeOf } from '../core/expansions.js';
import type { ExpandTree, Target } from '../core/expansions.js';
import { array, parseParams, string } from './schema.js';

/*
 * `expand[]` on every /v1 endpoint, as one mechanism (Stripe's "Expanding responses"): the
 * parameter is read and checked before the route runs, taken out of the parameters the route
 * parses, and the route's answer is expanded by the object types it holds (core/expansions.ts).
 * Requests without `expand` pay one property lookup.
 */

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's expansions (null: no `expand` parameter). */
    expand: { root: Target; tree: ExpandTree; given: { body: unknown; query: unknown } } | null;
  }
}

/** What each route answers, for the paths it can expand; routes not named here expand nothing. */
const ROOTS: ReadonlyArray<[Target, readonly string[]]> = [
  [{ object: 'payment_intent' }, ['POST /v1/payment_intents', 'GET /v1/payment_intents/:id', 'POST /v1/payment_intents/:id', 'POST /v1/payment_intents/:id/confirm', 'POST /v1/payment_intents/:id/cancel']],
  [{ list: 'payment_intent' }, ['GET /v1/payment_intents', 'GET /v1/payment_intents/search']],
  [{ object: 'charge' }, ['GET /v1/charges/:id']],
  [{ list: 'charge' }, ['GET /v1/charges']],
  [{ object: 'refund' }, ['POST /v1/refunds', 'GET /v1/refunds/:id', 'POST /v1/refunds/:id', 'POST /v1/refunds/:id/cancel']],
  [{ list: 'refund' }, ['GET /v1/refunds']],
  [{ object: 'checkout.session' }, ['POST /v1/checkout/sessions', 'GET /v1/checkout/sessions/:id', 'POST /v1/checkout/sessions/:id/expire']],
  [{ list: 'checkout.session' }, ['GET /v1/checkout/sessions', 'GET /v1/checkout/sessions/list']],
  [{ list: 'item' }, ['GET /v1/checkout/sessions/:id/line_items']],
  [{ object: 'dispute' }, ['GET /v1/disputes/:id', 'POST /v1/disputes/:id', 'POST /v1/disputes/:id/close']],
  [{ list: 'dispute' }, ['GET /v1/disputes', 'GET /v1/disputes/list']],
  [{ object: 'price' }, ['POST /v1/prices', 'GET /v1/prices/:id', 'POST /v1/prices/:id']],
  [{ list: 'price' }, ['GET /v1/prices']],
];
const ROOT_BY_ROUTE = new Map(ROOTS.flatMap(([target, routes]) => routes.map((route) => [route, target] as const)));
/** Answers with nothing to expand: every path is refused, naming it. */
const NOTHING: Target = { object: 'none' };
/** What a publishable key may expand (Stripe.js expands the PaymentIntent's payment method). */
const PUBLISHABLE_EXPANDABLE = ['payment_method'];

/** Stripe takes up to a few dozen paths; more is a mistake, not a use. */
const EXPAND_PATHS_MAX = 50;
const expandShape = { expand: array(string({ max: 200 }), { max: EXPAND_PATHS_MAX }) };

/** The `expand` parameter as JSON Schema, for the OpenAPI document of every route that takes it. */
export const EXPAND_JSON_SCHEMA = expandShape.expand.jsonSchema;

/** What a route answers, for its expansions (`{ object }` or `{ list }`); null: it expands nothing. */
export function expandRootOf(method: string, url: string): Target | null {
  return ROOT_BY_ROUTE.get(`${method} ${url}`) ?? null;
}

const hasExpand = (params: unknown): params is Record<string, unknown> => typeof params === 'object' && params !== null && Object.hasOwn(params, 'expand');

/** The paths of one `expand` value: an array (JSON, `expand[]=`, `expand[0]=`) or one path as text. */
function pathsOf(raw: unknown): string[] {
  const parsed = parseParams(expandShape, { expand: typeof raw === 'string' && raw !== '' ? [raw] : raw });
  return parsed.expand ?? [];
}

/**
 * Reads `expand` before the Idempotency-Key check (installed before it: a key's fingerprint
 * covers its expansions), and expands 2xx answers, replays included (onSend; installed before
 * the idempotency and request-log hooks, so both see the answer as sent).
 */
export function installExpandParameter(app: FastifyInstance): void {
  app.decorateRequest('expand', null);
  // Callback style: these run on every request and, without `expand`, await nothing.
  app.addHook('preHandler', (req: FastifyRequest, _reply, done) => {
    const route = req.routeOptions.url;
    if (req.auth === null || route === undefined || !route.startsWith('/v1/')) return done();
    // POST parameters are the body's (a query string on a POST is ignored, as before); GET and DELETE read both.
    const body = hasExpand(req.body) ? req.body : null;
    const query = req.method !== 'POST' && hasExpand(req.query) ? req.query : null;
    if (body === null && query === null) return done();
    const paths = [...(body === null ? [] : pathsOf(body.expand)), ...(query === null ? [] : pathsOf(query.expand))];
    const root = expandRootOf(req.method, route) ?? NOTHING;
    const tree = expandTreeOf(root, [...new Set(paths)], req.auth.kind === 'publishable' ? PUBLISHABLE_EXPANDABLE : null);
    req.expand = { root, tree, given: { body: req.body, query: req.query } };
    done();
  });
  app.addHook('onSend', (req: FastifyRequest, reply: FastifyReply, payload: unknown, done) => {
    const expand = req.expand;
    if (expand === null || expand.tree.size === 0 || req.auth === null || typeof payload !== 'string' || reply.statusCode < 200 || reply.statusCode >= 300) return done(null, payload);
    const answer = JSON.parse(payload) as unknown;
    expandAnswer(app.core, { accountId: req.auth.accountId, livemode: req.auth.livemode }, answer, expand.root, expand.tree).then(
      (expanded) => done(null, JSON.stringify(expanded)),
      done,
    );
  });
  // The request log records the parameters as the client sent them, `expand` included.
  app.addHook('onResponse', (req: FastifyRequest, _reply, done) => {
    if (req.expand !== null) {
      req.body = req.expand.given.body;
      req.query = req.expand.given.query;
    }
    done();
  });
}

/**
 * Takes `expand` out of the parameters the route parses (installed after the Idempotency-Key
 * check, which fingerprints the parameters with it), so no route's schema needs to know it.
 */
export function installExpandRemoval(app: FastifyInstance): void {
  app.addHook('preHandler', (req: FastifyRequest, _reply, done) => {
    if (req.expand !== null) {
      if (hasExpand(req.body)) req.body = withoutExpand(req.body);
      if (hasExpand(req.query)) req.query = withoutExpand(req.query);
    }
    done();
  });
}

function withoutExpand(params: Record<string, unknown>): Record<string, unknown> {
  const { expand: _expand, ...rest } = params;
  return rest;
}
