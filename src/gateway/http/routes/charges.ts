import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listCharges, retrieveCharge } from '../../core/charges.js';
import { contextOf, routeAuth } from '../context.js';
import { parseParams, required, string } from '../schema.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

const listChargesShape = { ...listShape, payment_intent: string({ max: 64 }), customer: string({ max: 64 }) };
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

export function registerChargeRoutes(app: FastifyInstance): void {
  app.get('/v1/charges', { ...routeAuth('secret'), ...operation('charge_list', { operationId: 'ListCharges', summary: 'List Charges', query: listChargesShape }) }, async (req) => listEnvelope('/v1/charges', await listCharges(app.core, contextOf(req).scope, parseParams(listChargesShape, queryOf(req)))));
  app.get('/v1/charges/:id', { ...routeAuth('secret'), ...operation('charge', { operationId: 'RetrieveCharge', summary: 'Retrieve a Charge' }) }, async (req) => {
    parseParams({}, req.query);
    return retrieveCharge(app.core, contextOf(req).scope, parseParams({ id: required(objectId('ch')) }, req.params).id);
  });
}
