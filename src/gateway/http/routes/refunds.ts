import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cancelRefund, createRefund, listRefunds, retrieveRefund, updateRefund } from '../../core/refunds.js';
import { contextOf, routeAuth } from '../context.js';
import { amount, metadata, oneOf, parseParams, required } from '../schema.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

/** api.md §4. `amount` omitted: the whole unrefunded remainder. */
const createShape = {
  payment_intent: objectId('pi'),
  charge: objectId('ch'),
  amount: amount(),
  reason: oneOf(['duplicate', 'fraudulent', 'requested_by_customer']),
  metadata: metadata(),
};
const updateShape = { metadata: metadata() };
const listRefundsShape = { ...listShape, payment_intent: objectId('pi'), charge: objectId('ch') };

const idOf = (req: FastifyRequest) => parseParams({ id: required(objectId('re')) }, req.params).id;
/** GET parameters come in the query string; WooshPay also documents JSON bodies on list GETs. */
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

export function registerRefundRoutes(app: FastifyInstance): void {
  const core = app.core;
  app.post('/v1/refunds', { ...routeAuth('secret'), ...operation('refund', { operationId: 'CreateRefund', summary: 'Create a Refund', description: 'Refunds all or part of the Charge of a PaymentIntent; without `amount`, the whole unrefunded remainder.', body: createShape }) }, async (req) => createRefund(core, contextOf(req), parseParams(createShape, req.body)));
  app.get('/v1/refunds', { ...routeAuth('secret'), ...operation('refund_list', { operationId: 'ListRefunds', summary: 'List Refunds', query: listRefundsShape }) }, async (req) => listEnvelope('/v1/refunds', await listRefunds(core, contextOf(req).scope, parseParams(listRefundsShape, queryOf(req)))));
  app.get('/v1/refunds/:id', { ...routeAuth('secret'), ...operation('refund', { operationId: 'RetrieveRefund', summary: 'Retrieve a Refund' }) }, async (req) => {
    parseParams({}, req.query);
    return retrieveRefund(core, contextOf(req).scope, idOf(req));
  });
  app.post('/v1/refunds/:id', { ...routeAuth('secret'), ...operation('refund', { operationId: 'UpdateRefund', summary: 'Update a Refund', body: updateShape }) }, async (req) => updateRefund(core, contextOf(req), idOf(req), parseParams(updateShape, req.body)));
  app.post('/v1/refunds/:id/cancel', { ...routeAuth('secret'), ...operation('refund', { operationId: 'CancelRefund', summary: 'Cancel a Refund' }) }, async (req) => {
    const id = idOf(req);
    parseParams({}, req.body ?? {});
    return cancelRefund(core, contextOf(req), id);
  });
}
