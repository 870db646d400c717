import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  createCheckoutSession,
  expireCheckoutSession,
  listCheckoutSessionLineItems,
  listCheckoutSessions,
  retrieveCheckoutSession,
} from '../../core/checkout_sessions.js';
import { LINE_ITEMS_MAX, LINE_ITEM_QUANTITY_MAX } from '../../domain/checkout_sessions.js';
import { array, httpUrl, integer, metadata, notUnsettable, object, oneOf, parseParams, required, string } from '../schema.js';
import { contextOf, routeAuth } from '../context.js';
import { priceDataShape } from './prices.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

/**
 * A merchant page the shopper is sent to: an http(s) URL, or a bare host and path as in the
 * seed's `"cancel_url": "www.baidu.com"` (shown to the browser with https://). Never another
 * scheme, so a `javascript:` URL can never become a link on the hosted page.
 */
const merchantUrl = () => httpUrl({ max: 2048, bareHost: true });
const email = () => string({ max: 800, pattern: /^[^\s@]+@[^\s@]+$/, patternHint: 'an email address' });

const lineItem = object({
  price: objectId('price'),
  price_data: object(priceDataShape),
  quantity: required(integer({ min: 1, max: LINE_ITEM_QUANTITY_MAX })),
});

export const createSessionShape = {
  mode: required(string({ max: 32 })),
  success_url: required(merchantUrl()),
  cancel_url: merchantUrl(),
  line_items: required(array(lineItem, { min: 1, max: LINE_ITEMS_MAX })),
  payment_method_types: array(oneOf(['alipay']), { min: 1, max: 1 }),
  client_reference_id: string({ max: 200 }),
  customer_email: email(),
  customer: string({ max: 64 }),
  metadata: metadata(),
  expires_at: notUnsettable(integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
  locale: oneOf(['auto', 'zh', 'zh-HK', 'zh-TW', 'en']),
  billing_address_collection: oneOf(['auto', 'required']),
};
const lineItemsShape = { limit: listShape.limit, starting_after: listShape.starting_after, ending_before: listShape.ending_before };
const listSessionsShape = { ...listShape, status: oneOf(['open', 'complete', 'expired']), payment_intent: objectId('pi') };

const idOf = (req: FastifyRequest) => parseParams({ id: required(objectId('cs')) }, req.params).id;
/** GET parameters come in the query string; WooshPay also documents JSON bodies on list GETs. */
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

/**
 * Checkout Sessions (api.md §6). `publicUrl` is the gateway's base URL as shoppers reach it,
 * for each session's `url`; a function because with port 0 it is only known once listening.
 */
export function registerCheckoutSessionRoutes(app: FastifyInstance, publicUrl: () => string): void {
  const core = app.core;
  app.post('/v1/checkout/sessions', { ...routeAuth('secret'), ...operation('checkout.session', { operationId: 'CreateCheckoutSession', summary: 'Create a Checkout Session', body: createSessionShape }) }, async (req) => createCheckoutSession(core, contextOf(req), parseParams(createSessionShape, req.body), publicUrl()));
  const list = async (req: FastifyRequest) =>
    listEnvelope('/v1/checkout/sessions', await listCheckoutSessions(core, contextOf(req).scope, parseParams(listSessionsShape, queryOf(req))));
  app.get('/v1/checkout/sessions', { ...routeAuth('secret'), ...operation('checkout.session_list', { operationId: 'ListCheckoutSessions', summary: 'List Checkout Sessions', query: listSessionsShape }) }, list);
  // WooshPay's spelling of the list.
  app.get('/v1/checkout/sessions/list', { ...routeAuth('secret'), ...operation('checkout.session_list', { operationId: 'ListCheckoutSessionsWooshPay', summary: 'List Checkout Sessions (WooshPay spelling)', query: listSessionsShape }) }, list);
  app.get('/v1/checkout/sessions/:id', { ...routeAuth('secret'), ...operation('checkout.session', { operationId: 'RetrieveCheckoutSession', summary: 'Retrieve a Checkout Session' }) }, async (req) => {
    parseParams({}, queryOf(req));
    return retrieveCheckoutSession(core, contextOf(req).scope, idOf(req));
  });
  app.get('/v1/checkout/sessions/:id/line_items', { ...routeAuth('secret'), ...operation('line_item_list', { operationId: 'ListCheckoutSessionLineItems', summary: 'List the line items of a Checkout Session', query: lineItemsShape }) }, async (req) => {
    const page = parseParams(lineItemsShape, queryOf(req));
    return listCheckoutSessionLineItems(core, contextOf(req).scope, idOf(req), page);
  });
  app.post('/v1/checkout/sessions/:id/expire', { ...routeAuth('secret'), ...operation('checkout.session', { operationId: 'ExpireCheckoutSession', summary: 'Expire a Checkout Session' }) }, async (req) => {
    parseParams({}, req.body);
    return expireCheckoutSession(core, contextOf(req), idOf(req));
  });
}
