import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createPrice, listPrices, retrievePrice, updatePrice } from '../../core/prices.js';
import { boolean, currency, integer, metadata, notUnsettable, object, oneOf, parseParams, required, string } from '../schema.js';
import { AMOUNT_MAX_MINOR } from '../../domain/money.js';
import { contextOf, routeAuth } from '../context.js';
import { productDataShape } from './products.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

/** Recurring intervals are at most a year (Stripe). */
const INTERVAL_COUNT_MAX = 365;

/** Smallest currency unit; 0 is a valid price (a free item), the session total must still be ≥ 1. */
export const unitAmount = () => integer({ min: 0, max: AMOUNT_MAX_MINOR });
const recurring = object({ interval: required(oneOf(['day', 'week', 'month', 'year'])), interval_count: integer({ min: 1, max: INTERVAL_COUNT_MAX }) });

/** `price_data` of a line item (the seed's keys, including `billing_scheme`, `lookup_key`, `active`). */
export const priceDataShape = {
  currency: required(currency()),
  unit_amount: notUnsettable(unitAmount()),
  product: objectId('prod'),
  product_data: object(productDataShape),
  recurring,
  active: notUnsettable(boolean()),
  billing_scheme: string({ max: 64 }),
  lookup_key: string({ max: 200 }),
  tax_behavior: oneOf(['exclusive', 'inclusive', 'unspecified']),
};
export const createPriceShape = {
  ...priceDataShape,
  nickname: string({ max: 250 }),
  type: oneOf(['one_time', 'recurring']),
  metadata: metadata(),
};
export const updatePriceShape = { active: notUnsettable(boolean()), nickname: string({ max: 250 }), lookup_key: string({ max: 200 }), metadata: metadata() };
const listPricesShape = { ...listShape, active: notUnsettable(boolean()), product: objectId('prod'), type: oneOf(['one_time', 'recurring']), currency: currency() };

const idOf = (req: FastifyRequest) => parseParams({ id: required(objectId('price')) }, req.params).id;
/** GET parameters come in the query string; WooshPay also documents JSON bodies on list GETs. */
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

export function registerPriceRoutes(app: FastifyInstance): void {
  const core = app.core;
  app.post('/v1/prices', { ...routeAuth('secret'), ...operation('price', { operationId: 'CreatePrice', summary: 'Create a Price', body: createPriceShape }) }, async (req) => {
    const { tax_behavior: _taxBehavior, ...params } = parseParams(createPriceShape, req.body);
    return createPrice(core, contextOf(req), params);
  });
  app.get('/v1/prices', { ...routeAuth('secret'), ...operation('price_list', { operationId: 'ListPrices', summary: 'List Prices', query: listPricesShape }) }, async (req) => listEnvelope('/v1/prices', await listPrices(core, contextOf(req).scope, parseParams(listPricesShape, queryOf(req)))));
  app.get('/v1/prices/:id', { ...routeAuth('secret'), ...operation('price', { operationId: 'RetrievePrice', summary: 'Retrieve a Price' }) }, async (req) => {
    parseParams({}, queryOf(req));
    return retrievePrice(core, contextOf(req).scope, idOf(req));
  });
  app.post('/v1/prices/:id', { ...routeAuth('secret'), ...operation('price', { operationId: 'UpdatePrice', summary: 'Update a Price', body: updatePriceShape }) }, async (req) => updatePrice(core, contextOf(req), idOf(req), parseParams(updatePriceShape, req.body)));
}
