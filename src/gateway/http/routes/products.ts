import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createProduct, deleteProduct, listProducts, retrieveProduct, updateProduct } from '../../core/products.js';
import { array, boolean, metadata, notUnsettable, parseParams, required, string } from '../schema.js';
import { contextOf, routeAuth } from '../context.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

/** Stripe's bound on product images. */
const IMAGES_MAX = 8;
const imageUrl = () => string({ max: 2048, pattern: /^https?:\/\/\S+$/, patternHint: 'an http(s) URL' });

/** `product_data` of prices and line items, and POST /v1/products. */
export const productDataShape = {
  name: required(string({ max: 250 })),
  description: string({ max: 40_000 }),
  images: array(imageUrl(), { max: IMAGES_MAX }),
  active: notUnsettable(boolean()),
  metadata: metadata(),
};
export const createProductShape = productDataShape;
export const updateProductShape = {
  name: notUnsettable(string({ max: 250 })),
  description: string({ max: 40_000 }),
  images: array(imageUrl(), { max: IMAGES_MAX }),
  active: notUnsettable(boolean()),
  metadata: metadata(),
};
const listProductsShape = { ...listShape, active: notUnsettable(boolean()) };

const idOf = (req: FastifyRequest) => parseParams({ id: required(objectId('prod')) }, req.params).id;
/** GET parameters come in the query string; WooshPay also documents JSON bodies on list GETs. */
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

export function registerProductRoutes(app: FastifyInstance): void {
  const core = app.core;
  app.post('/v1/products', { ...routeAuth('secret'), ...operation('product', { operationId: 'CreateProduct', summary: 'Create a Product', body: createProductShape }) }, async (req) => createProduct(core, contextOf(req), parseParams(createProductShape, req.body)));
  app.get('/v1/products', { ...routeAuth('secret'), ...operation('product_list', { operationId: 'ListProducts', summary: 'List Products', query: listProductsShape }) }, async (req) => listEnvelope('/v1/products', await listProducts(core, contextOf(req).scope, parseParams(listProductsShape, queryOf(req)))));
  app.get('/v1/products/:id', { ...routeAuth('secret'), ...operation('product', { operationId: 'RetrieveProduct', summary: 'Retrieve a Product' }) }, async (req) => {
    parseParams({}, queryOf(req));
    return retrieveProduct(core, contextOf(req).scope, idOf(req));
  });
  app.post('/v1/products/:id', { ...routeAuth('secret'), ...operation('product', { operationId: 'UpdateProduct', summary: 'Update a Product', body: updateProductShape }) }, async (req) => updateProduct(core, contextOf(req), idOf(req), parseParams(updateProductShape, req.body)));
  app.delete('/v1/products/:id', { ...routeAuth('secret'), ...operation('deleted_product', { operationId: 'DeleteProduct', summary: 'Delete a Product' }) }, async (req) => {
    parseParams({}, queryOf(req));
    return deleteProduct(core, contextOf(req), idOf(req));
  });
}
