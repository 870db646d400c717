import type { FastifyInstance } from 'fastify';
import { retrievePaymentMethod } from '../../core/payment_methods.js';
import { contextOf, routeAuth } from '../context.js';
import { parseParams, required } from '../schema.js';
import { objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

export function registerPaymentMethodRoutes(app: FastifyInstance): void {
  app.get('/v1/payment_methods/:id', { ...routeAuth('secret'), ...operation('payment_method', { operationId: 'RetrievePaymentMethod', summary: 'Retrieve a PaymentMethod' }) }, async (req) => {
    parseParams({}, req.query);
    return retrievePaymentMethod(app.core, contextOf(req).scope, parseParams({ id: required(objectId('pm')) }, req.params).id);
  });
}
