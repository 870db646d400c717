import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listEndpointDeliveries } from '../../core/webhook_deliveries.js';
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  listWebhookEndpoints,
  retrieveWebhookEndpoint,
  updateWebhookEndpoint,
} from '../../core/webhook_endpoints.js';
import { array, boolean, metadata, notUnsettable, oneOf, parseParams, required, string } from '../schema.js';
import { contextOf, routeAuth } from '../context.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

/** Event types and `*`; which ones exist is the core's rule (it names every unknown one). */
const eventType = () => string({ max: 100 });
/** Every type of api.md §5 fits, with room for `*`. */
const ENABLED_EVENTS_MAX = 64;
const url = () => string({ max: 2048 });

export const createEndpointShape = {
  url: required(url()),
  enabled_events: required(array(eventType(), { min: 1, max: ENABLED_EVENTS_MAX })),
  description: string({ max: 5000 }),
  metadata: metadata(),
  api_version: string({ max: 64 }),
};
export const updateEndpointShape = {
  url: notUnsettable(url()),
  enabled_events: notUnsettable(array(eventType(), { min: 1, max: ENABLED_EVENTS_MAX })),
  disabled: notUnsettable(boolean()),
  description: string({ max: 5000 }),
  metadata: metadata(),
};
const listDeliveriesShape = {
  ...listShape,
  status: oneOf(['pending', 'delivered', 'failed', 'canceled']),
  event: objectId('evt'),
};

const idOf = (req: FastifyRequest) => parseParams({ id: required(objectId('we')) }, req.params).id;
/** GET parameters come in the query string; WooshPay also documents JSON bodies on list GETs. */
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

export function registerWebhookEndpointRoutes(app: FastifyInstance): void {
  const core = app.core;
  app.post('/v1/webhook_endpoints', { ...routeAuth('secret'), ...operation('webhook_endpoint', { operationId: 'CreateWebhookEndpoint', summary: 'Create a webhook endpoint', body: createEndpointShape }) }, async (req) => createWebhookEndpoint(core, contextOf(req), parseParams(createEndpointShape, req.body)));
  app.get('/v1/webhook_endpoints', { ...routeAuth('secret'), ...operation('webhook_endpoint_list', { operationId: 'ListWebhookEndpoints', summary: 'List webhook endpoints', query: listShape }) }, async (req) => listEnvelope('/v1/webhook_endpoints', await listWebhookEndpoints(core, contextOf(req).scope, parseParams(listShape, queryOf(req)))));
  app.get('/v1/webhook_endpoints/:id', { ...routeAuth('secret'), ...operation('webhook_endpoint', { operationId: 'RetrieveWebhookEndpoint', summary: 'Retrieve a webhook endpoint' }) }, async (req) => {
    parseParams({}, queryOf(req));
    return retrieveWebhookEndpoint(core, contextOf(req).scope, idOf(req));
  });
  app.post('/v1/webhook_endpoints/:id', { ...routeAuth('secret'), ...operation('webhook_endpoint', { operationId: 'UpdateWebhookEndpoint', summary: 'Update a webhook endpoint', body: updateEndpointShape }) }, async (req) => updateWebhookEndpoint(core, contextOf(req), idOf(req), parseParams(updateEndpointShape, req.body)));
  app.delete('/v1/webhook_endpoints/:id', { ...routeAuth('secret'), ...operation('deleted_webhook_endpoint', { operationId: 'DeleteWebhookEndpoint', summary: 'Delete a webhook endpoint' }) }, async (req) => {
    parseParams({}, queryOf(req));
    return deleteWebhookEndpoint(core, contextOf(req).scope, idOf(req));
  });
  app.get('/v1/webhook_endpoints/:id/deliveries', { ...routeAuth('secret'), ...operation('webhook_delivery_list', { operationId: 'ListWebhookDeliveries', summary: 'List the deliveries to a webhook endpoint', query: listDeliveriesShape }) }, async (req) => {
    const id = idOf(req);
    const page = await listEndpointDeliveries(core, contextOf(req).scope, id, parseParams(listDeliveriesShape, queryOf(req)));
    return listEnvelope(`/v1/webhook_endpoints/${id}/deliveries`, page);
  });
}
