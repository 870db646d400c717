import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listEvents, retrieveEvent } from '../../core/events.js';
import { retryEvent } from '../../core/webhook_deliveries.js';
import { array, parseParams, required, string } from '../schema.js';
import { contextOf, routeAuth } from '../context.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

/** An event type, or a group of them with a trailing `.*`; letters, digits, `_` and `.` only. */
const eventType = () => string({ max: 100, pattern: /^[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?$/, patternHint: 'an event type such as payment_intent.succeeded, or a group such as payment_intent.*' });
const exactEventType = () => string({ max: 100, pattern: /^[a-z0-9_]+(\.[a-z0-9_]+)*$/, patternHint: 'an event type such as payment_intent.succeeded' });
/** Stripe's bound on `types[]`. */
const TYPES_MAX = 20;

export const listEventsShape = { ...listShape, type: eventType(), types: array(exactEventType(), { min: 1, max: TYPES_MAX }) };
export const retryEventShape = { endpoint: objectId('we') };

const idOf = (req: FastifyRequest) => parseParams({ id: required(objectId('evt')) }, req.params).id;
/** GET parameters come in the query string; WooshPay also documents JSON bodies on list GETs. */
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

export function registerEventRoutes(app: FastifyInstance): void {
  const core = app.core;
  app.get('/v1/events', { ...routeAuth('secret'), ...operation('event_list', { operationId: 'ListEvents', summary: 'List Events', query: listEventsShape }) }, async (req) => listEnvelope('/v1/events', await listEvents(core, contextOf(req).scope, parseParams(listEventsShape, queryOf(req)))));
  app.get('/v1/events/:id', { ...routeAuth('secret'), ...operation('event', { operationId: 'RetrieveEvent', summary: 'Retrieve an Event' }) }, async (req) => {
    parseParams({}, queryOf(req));
    return retrieveEvent(core, contextOf(req).scope, idOf(req));
  });
  // Beyond WooshPay and Stripe (who leave it to a dashboard): re-deliver an event now.
  app.post('/v1/events/:id/retry', { ...routeAuth('secret'), ...operation('event', { operationId: 'RetryEvent', summary: 'Deliver an Event again', body: retryEventShape }) }, async (req) => retryEvent(core, contextOf(req), idOf(req), parseParams(retryEventShape, req.body)));
}
