import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cancelPaymentIntent, confirmPaymentIntent } from '../../core/payment_attempts.js';
import { createPaymentIntent, listPaymentIntents, retrievePaymentIntent, searchPaymentIntents, updatePaymentIntent } from '../../core/payment_intents.js';
import { amount, array, httpUrl, boolean, currency, metadata, notUnsettable, object, oneOf, parseParams, required, string, integer } from '../schema.js';
import { clientSecretFor, contextOf, routeAuth } from '../context.js';
import { LIST_LIMIT_MAX } from '../../store/pagination.js';
import { clientSafeForPublishableKey } from '../publishable.js';
import { CANCELLATION_REASONS } from '../../core/params.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

const text = (max: number) => string({ max });
/** Where the wallet sends the shopper back: http(s) only (never `javascript:`). */
const url = () => httpUrl({ max: 2048 });
const email = () => string({ max: 800, pattern: /^[^\s@]+@[^\s@]+$/, patternHint: 'an email address' });

const address = object({ line1: text(200), line2: text(200), city: text(200), state: text(200), postal_code: text(20), country: text(2) });
const shipping = object({ name: required(text(200)), phone: text(50), address: required(address), carrier: text(200), tracking_number: text(200) });
const billingDetails = object({ name: text(200), email: email(), phone: text(50), address });
const paymentMethodData = object({ type: required(oneOf(['alipay'])), billing_details: billingDetails, metadata: metadata() });
const alipayOptions = object({
  client_ip: text(64),
  terminal_type: oneOf(['WEB', 'WAP', 'APP'], { upperCase: true }),
  os_type: oneOf(['IOS', 'ANDROID'], { upperCase: true }),
});

/** Fields create, update and confirm share (api.md §2). */
const paymentShape = {
  payment_method: notUnsettable(objectId('pm')),
  payment_method_data: paymentMethodData,
  payment_method_options: object({ alipay: alipayOptions }),
  return_url: url(),
  shipping,
  receipt_email: email(),
};
const merchantShape = {
  ...paymentShape,
  description: text(1000),
  metadata: metadata(),
  merchant_order_id: text(64),
  merchant_user_id: text(64),
  statement_descriptor: text(22),
  customer: text(64),
  payment_method_types: array(oneOf(['alipay']), { min: 1, max: 1 }),
};

export const createShape = {
  ...merchantShape,
  amount: required(amount()),
  currency: required(currency()),
  confirm: boolean(),
  capture_method: oneOf(['automatic']),
  confirmation_method: oneOf(['automatic']),
};
export const updateShape = { ...merchantShape, amount: notUnsettable(amount()), currency: notUnsettable(currency()) };
export const confirmShape = { ...paymentShape, client_secret: text(200) };
/** WooshPay's free-text reasons (`"customer cancelled"`) are bounded like a metadata value. */
export const CANCELLATION_REASON_LENGTH_MAX = 500;
/**
 * Stripe's enum (duplicate, fraudulent, requested_by_customer, abandoned) or WooshPay's free text:
 * stored and returned exactly as given, so each client reads back what it sent.
 */
const cancellationReason = () => {
  const text = string({ max: CANCELLATION_REASON_LENGTH_MAX });
  return { ...text, jsonSchema: { anyOf: [oneOf(CANCELLATION_REASONS).jsonSchema, text.jsonSchema] } };
};
export const cancelShape = { cancellation_reason: cancellationReason() };
const retrieveShape = { client_secret: text(200) };
const listIntentsShape = { ...listShape, customer: text(64) };
const searchShape = { query: required(text(2000)), limit: notUnsettable(integer({ min: 1, max: LIST_LIMIT_MAX })), page: text(64) };

const idOf = (req: FastifyRequest) => parseParams({ id: required(objectId('pi')) }, req.params).id;
/** GET parameters come in the query string; WooshPay also documents JSON bodies on list GETs. */
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

export function registerPaymentIntentRoutes(app: FastifyInstance): void {
  const core = app.core;
  app.post('/v1/payment_intents', { ...routeAuth('secret'), ...operation('payment_intent', { operationId: 'CreatePaymentIntent', summary: 'Create a PaymentIntent', body: createShape }) }, async (req) => createPaymentIntent(core, contextOf(req), parseParams(createShape, req.body)));
  app.get('/v1/payment_intents', { ...routeAuth('secret'), ...operation('payment_intent_list', { operationId: 'ListPaymentIntents', summary: 'List PaymentIntents', query: listIntentsShape }) }, async (req) => listEnvelope('/v1/payment_intents', await listPaymentIntents(core, contextOf(req).scope, parseParams(listIntentsShape, queryOf(req)))));
  app.get('/v1/payment_intents/search', { ...routeAuth('secret'), ...operation('search_result', { operationId: 'SearchPaymentIntents', summary: 'Search PaymentIntents', description: "WooshPay's search: `merchant_order_id:'x'`, `status:'succeeded'`, `metadata['k']:'v'`, joined with `AND`.", query: searchShape }) }, async (req) => {
    const result = await searchPaymentIntents(core, contextOf(req).scope, parseParams(searchShape, queryOf(req)));
    return { object: 'search_result', url: '/v1/payment_intents/search', has_more: result.hasMore, next_page: result.nextPage, data: result.data };
  });
  app.get('/v1/payment_intents/:id', { ...routeAuth('publishable'), onSend: clientSafeForPublishableKey, ...operation('payment_intent', { operationId: 'RetrievePaymentIntent', summary: 'Retrieve a PaymentIntent', query: retrieveShape }) }, async (req) => {
    const params = parseParams(retrieveShape, queryOf(req));
    return retrievePaymentIntent(core, contextOf(req).scope, idOf(req), clientSecretFor(req, params.client_secret));
  });
  app.post('/v1/payment_intents/:id', { ...routeAuth('secret'), ...operation('payment_intent', { operationId: 'UpdatePaymentIntent', summary: 'Update a PaymentIntent', body: updateShape }) }, async (req) => updatePaymentIntent(core, contextOf(req), idOf(req), parseParams(updateShape, req.body)));
  app.post('/v1/payment_intents/:id/confirm', { ...routeAuth('publishable'), onSend: clientSafeForPublishableKey, ...operation('payment_intent', { operationId: 'ConfirmPaymentIntent', summary: 'Confirm a PaymentIntent', body: confirmShape }) }, async (req) => {
    const id = idOf(req);
    const params = parseParams(confirmShape, req.body);
    return confirmPaymentIntent(core, contextOf(req), id, params, clientSecretFor(req, params.client_secret));
  });
  app.post('/v1/payment_intents/:id/cancel', { ...routeAuth('secret'), ...operation('payment_intent', { operationId: 'CancelPaymentIntent', summary: 'Cancel a PaymentIntent', body: cancelShape }) }, async (req) => cancelPaymentIntent(core, contextOf(req), idOf(req), parseParams(cancelShape, req.body)));
}
