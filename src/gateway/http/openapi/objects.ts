import type { JsonSchema } from '../schema.js';

/**
 * The JSON Schema of every object the API returns (api.md §2–7), one entry per object: the
 * response schemas of the routes (Fastify serializes with them) and `components.schemas` of the
 * OpenAPI document. Built from the core's views (core/views.ts, refunds.ts, …).
 *
 * Serialization must never drop or change a field, so every object stays open
 * (`additionalProperties: true`: metadata is the merchant's, and fields added later still go
 * out), every field that can be null says so, and an expandable field is its id or the object
 * (`expand[]`). Routes refer to these by `$ref: '<name>#'` (registered with `app.addSchema`);
 * the document rewrites that to `#/components/schemas/<name>`.
 */

type Type = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array';

const t = (type: Type, description?: string): JsonSchema => ({ type, ...(description === undefined ? {} : { description }) });
const nullable = (type: Type, description?: string): JsonSchema => ({ type: [type, 'null'], ...(description === undefined ? {} : { description }) });
const constant = (value: string): JsonSchema => ({ type: 'string', enum: [value] });
const ref = (name: ObjectName): JsonSchema => ({ $ref: `${name}#` });
/** An open JSON object (options, next_action, shipping, …): passed through as the core returns it. */
const open = (description?: string): JsonSchema => ({ type: 'object', additionalProperties: true, ...(description === undefined ? {} : { description }) });
const openOrNull = (description?: string): JsonSchema => ({ type: ['object', 'null'], additionalProperties: true, ...(description === undefined ? {} : { description }) });
const arrayOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
/** An id, or with `expand[]` the whole object (null when there is none). */
const expandable = (name: ObjectName, description: string): JsonSchema => ({ anyOf: [{ type: ['string', 'null'] }, ref(name)], description });

const id = (prefix: string): JsonSchema => ({ type: 'string', description: `Unique identifier (\`${prefix}_…\`).` });
const created = t('integer', 'Time of creation, in milliseconds since the Unix epoch (a WooshPay convention).');
const livemode = t('boolean', 'true for live mode, false for test mode.');
const currency = t('string', 'ISO 4217, upper-case (a WooshPay convention).');
const metadata: JsonSchema = { type: 'object', additionalProperties: { type: 'string' }, description: 'The merchant\'s key-value pairs.' };
const minor = (description: string): JsonSchema => t('integer', `${description} In the smallest currency unit.`);

/**
 * An object's schema, its properties in the order the core's view writes them (`id`, `object`,
 * …): Fastify's serializer writes declared properties in schema order, and an Idempotency-Key
 * replay (the core's JSON.stringify) must be byte-for-byte the first answer. No `required`: the
 * serializer would write required properties first.
 */
function object(objectName: string, properties: Record<string, JsonSchema>, description: string): JsonSchema {
  const { id: idSchema, ...rest } = properties;
  const ordered = idSchema === undefined ? { object: constant(objectName), ...rest } : { id: idSchema, object: constant(objectName), ...rest };
  return { type: 'object', description, properties: ordered, additionalProperties: true };
}

const paymentIntent = object('payment_intent', {
  id: id('pi'),
  created,
  livemode,
  status: { type: 'string', enum: ['requires_payment_method', 'requires_confirmation', 'requires_action', 'processing', 'requires_capture', 'canceled', 'succeeded'] },
  amount: minor('Amount to collect.'),
  amount_capturable: minor('Always 0: Alipay captures at once.'),
  amount_received: minor('Amount received.'),
  currency,
  client_secret: nullable('string', 'For the client side with a publishable key.'),
  capture_method: t('string'),
  confirmation_method: t('string'),
  payment_method_types: arrayOf(t('string')),
  payment_method_options: openOrNull(),
  payment_method: expandable('payment_method', 'The PaymentMethod (`pm_…`).'),
  next_action: openOrNull('What the shopper must do next: `alipay_handle_redirect` / `redirect_to_url` with the wallet URL.'),
  return_url: nullable('string'),
  description: nullable('string'),
  metadata,
  merchant_order_id: nullable('string'),
  merchant_user_id: nullable('string'),
  last_payment_error: openOrNull(),
  latest_charge: expandable('charge', 'The latest Charge (`ch_…`).'),
  canceled_at: nullable('integer'),
  cancellation_reason: nullable('string'),
  shipping: openOrNull(),
  receipt_email: nullable('string'),
  statement_descriptor: nullable('string'),
  customer: nullable('string'),
}, 'A PaymentIntent: one payment from creation to its outcome (api.md §2).');

const paymentMethod = object('payment_method', {
  id: id('pm'),
  created,
  livemode,
  type: constant('alipay'),
  alipay: open(),
  billing_details: openOrNull(),
  customer: nullable('string'),
  metadata,
}, 'A PaymentMethod (type alipay).');

const charge = object('charge', {
  id: id('ch'),
  created,
  livemode,
  amount: minor('Amount charged.'),
  amount_captured: minor('Amount captured.'),
  amount_refunded: minor('Amount refunded so far.'),
  refunded: t('boolean'),
  captured: t('boolean'),
  paid: t('boolean'),
  status: t('string'),
  currency,
  payment_intent: expandable('payment_intent', 'The PaymentIntent (`pi_…`).'),
  payment_method: nullable('string'),
  payment_method_details: open('`type: alipay` with the wallet\'s buyer id, transaction id and wallet.'),
  balance_transaction: expandable('balance_transaction', 'The BalanceTransaction (`txn_…`), null until settled.'),
  disputed: t('boolean'),
  description: nullable('string'),
  customer: nullable('string'),
  metadata,
  billing_details: {
    type: 'object',
    description: 'Billing details of the payment method when the charge was paid (null fields when nothing is known).',
    properties: { address: openOrNull(), email: nullable('string'), name: nullable('string'), phone: nullable('string') },
    additionalProperties: true,
  },
  refunds: { anyOf: [{ type: 'null' }, ref('list')], description: 'The refunds (a list), with `expand[]`.' },
}, 'A Charge: the money the wallet moved for a PaymentIntent.');

const refund = object('refund', {
  id: id('re'),
  created,
  livemode,
  amount: minor('Amount refunded.'),
  currency,
  charge: expandable('charge', 'The Charge (`ch_…`).'),
  payment_intent: expandable('payment_intent', 'The PaymentIntent (`pi_…`).'),
  status: { type: 'string', enum: ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] },
  reason: nullable('string'),
  failure_reason: t('string', 'Why the refund failed; present only on a failed refund.'),
  balance_transaction: expandable('balance_transaction', 'The BalanceTransaction (`txn_…`), null until it succeeded.'),
  receipt_number: nullable('string'),
  metadata,
}, 'A Refund of all or part of a Charge (api.md §4).');

const balanceTransaction = object('balance_transaction', {
  id: id('txn'),
  created,
  livemode,
  amount: minor('Gross amount.'),
  currency,
  fee: minor('Fees.'),
  fee_details: arrayOf({ type: 'object', additionalProperties: true, properties: { amount: t('integer'), currency, type: t('string'), description: nullable('string') } }),
  net: minor('Net amount (amount − fee).'),
  exchange_rate: nullable('number'),
  type: t('string'),
  reporting_category: t('string'),
  source: nullable('string'),
  status: { type: 'string', enum: ['available', 'pending'] },
  available_on: t('integer', 'When the funds become available, in milliseconds.'),
  description: nullable('string'),
}, 'A BalanceTransaction: one movement of the balance (api.md §7).');

const amountInCurrency: JsonSchema = { type: 'object', additionalProperties: true, properties: { amount: t('integer'), currency } };
const balance = object('balance', {
  livemode,
  available: arrayOf(amountInCurrency),
  pending: arrayOf(amountInCurrency),
}, 'The balance per settlement currency.');

const dispute = object('dispute', {
  id: id('dp'),
  amount: minor('Disputed amount.'),
  balance_transactions: arrayOf(ref('balance_transaction')),
  charge: expandable('charge', 'The disputed Charge (`ch_…`).'),
  created,
  currency,
  evidence: open(),
  evidence_details: { type: 'object', additionalProperties: true, properties: { due_by: nullable('integer'), has_evidence: t('boolean'), past_due: t('boolean'), submission_count: t('integer') } },
  is_charge_refundable: t('boolean'),
  livemode,
  metadata,
  network_reason_code: nullable('string'),
  payment_intent: expandable('payment_intent', 'The PaymentIntent (`pi_…`).'),
  payment_method_details: open(),
  reason: t('string'),
  status: t('string'),
}, 'A Dispute opened by the wallet (api.md §7a).');

const event = object('event', {
  id: id('evt'),
  api_version: t('string'),
  created,
  data: { type: 'object', additionalProperties: true, properties: { object: open('The object as of the event.'), previous_attributes: open() } },
  livemode,
  pending_webhooks: t('integer'),
  request: { type: 'object', additionalProperties: true, properties: { id: nullable('string'), idempotency_key: nullable('string') } },
  type: t('string'),
}, 'An Event, as delivered to webhook endpoints.');

const webhookEndpoint = object('webhook_endpoint', {
  id: id('we'),
  api_version: nullable('string'),
  application: nullable('string'),
  created,
  description: nullable('string'),
  enabled_events: arrayOf(t('string')),
  livemode,
  metadata,
  status: t('string'),
  url: t('string'),
  secret: t('string', 'The signing secret (`whsec_…`); in the create response only.'),
}, 'A webhook endpoint.');

const webhookDelivery = object('webhook_delivery', {
  id: t('string'),
  created,
  livemode,
  event: t('string'),
  event_type: t('string'),
  webhook_endpoint: t('string'),
  status: t('string'),
  attempt_count: t('integer'),
  next_retry_at: nullable('integer'),
  last_attempt_at: nullable('integer'),
  last_status_code: nullable('integer'),
  last_latency_ms: nullable('integer'),
  last_error: nullable('string'),
  delivered_at: nullable('integer'),
  attempts: arrayOf({
    type: 'object',
    additionalProperties: true,
    properties: { attempted_at: t('integer'), status_code: nullable('integer'), latency_ms: nullable('integer'), error: nullable('string'), next_retry_at: nullable('integer') },
  }),
}, 'One delivery of an event to an endpoint, with its attempts.');

const product = object('product', {
  id: id('prod'),
  created,
  updated: t('integer'),
  livemode,
  active: t('boolean'),
  name: t('string'),
  description: nullable('string'),
  images: arrayOf(t('string')),
  metadata,
  type: t('string'),
  features: { ...arrayOf({ type: 'object', properties: { name: t('string') }, additionalProperties: true }), description: 'Always empty: Zhifu has no marketing feature list.' },
}, 'A Product.');

const price = object('price', {
  id: id('price'),
  created,
  livemode,
  active: t('boolean'),
  currency,
  unit_amount: minor('Unit price.'),
  unit_amount_decimal: t('string'),
  product: { anyOf: [{ type: 'string' }, ref('product')], description: 'The Product (`prod_…`), or the Product in line items.' },
  type: t('string'),
  recurring: {
    type: ['object', 'null'],
    properties: { aggregate_usage: nullable('string'), interval: t('string'), interval_count: t('integer'), trial_period_days: nullable('integer'), usage_type: t('string') },
    additionalProperties: true,
  },
  billing_scheme: t('string'),
  lookup_key: nullable('string'),
  nickname: nullable('string'),
  metadata,
}, 'A Price of a Product.');

const deleted = (objectName: string, prefix: string): JsonSchema =>
  object(objectName, { id: id(prefix), deleted: { type: 'boolean', enum: [true] } }, `A deleted ${objectName}.`);

const lineItem = object('item', {
  id: t('string'),
  currency,
  description: nullable('string'),
  price: { anyOf: [{ type: 'null' }, ref('price')] },
  quantity: t('integer'),
  amount_subtotal: t('integer'),
  amount_total: t('integer'),
  amount_discount: t('integer'),
  amount_tax: t('integer'),
}, 'A line item of a Checkout Session.');

const checkoutSession = object('checkout.session', {
  id: id('cs'),
  created,
  livemode,
  mode: t('string'),
  status: { type: 'string', enum: ['open', 'complete', 'expired'] },
  payment_status: t('string'),
  currency,
  amount_subtotal: t('integer'),
  amount_total: t('integer'),
  url: nullable('string', 'The hosted checkout page while the session is open.'),
  success_url: t('string'),
  cancel_url: nullable('string'),
  expires_at: t('integer'),
  payment_intent: expandable('payment_intent', 'The PaymentIntent (`pi_…`).'),
  client_secret: nullable('string'),
  payment_method_types: arrayOf(t('string')),
  client_reference_id: nullable('string'),
  customer_email: nullable('string'),
  customer: nullable('string'),
  payment_link: nullable('string'),
  billing_address_collection: nullable('string'),
  locale: nullable('string'),
  metadata,
  automatic_tax: { type: 'object', properties: { enabled: t('boolean'), status: nullable('string') }, additionalProperties: true, description: 'Always off: Zhifu computes no tax.' },
  custom_fields: { ...arrayOf(open()), description: 'Always empty.' },
  custom_text: openOrNull('Always `{shipping_address: null, submit: null}`.'),
  shipping_options: { ...arrayOf(open()), description: 'Always empty.' },
  line_items: { ...ref('line_item_list'), description: 'The line items, with `expand[]`.' },
}, 'A Checkout Session: a hosted checkout page for line items (api.md §6).');

/** A list of any objects (`refunds` of a Charge, …). */
const list: JsonSchema = {
  type: 'object',
  description: 'A page of a list (api.md §1).',
  properties: { object: constant('list'), url: t('string'), has_more: t('boolean'), data: arrayOf(open()) },
  additionalProperties: true,
};
const listOf = (name: ObjectName): JsonSchema => ({ ...list, description: `A page of ${name} objects.`, properties: { ...(list.properties as object), data: arrayOf(ref(name)) } });

const searchResult: JsonSchema = {
  type: 'object',
  description: 'A page of search results.',
  properties: { object: constant('search_result'), url: t('string'), has_more: t('boolean'), next_page: nullable('string'), data: arrayOf(ref('payment_intent')) },
  additionalProperties: true,
};

/** The error envelope (api.md §1). */
const error: JsonSchema = {
  type: 'object',
  description: 'The error envelope: `error.type`, and `code` / `param` / `decline_code` where they apply.',
  properties: {
    error: {
      type: 'object',
      additionalProperties: true,
      properties: {
        type: t('string', '`invalid_request_error`, `api_error`, `card_error`, `idempotency_error`, …'),
        message: t('string'),
        code: t('string'),
        param: t('string', 'The offending parameter, in bracket notation.'),
        decline_code: t('string'),
        payment_intent: open('The PaymentIntent, when a confirm failed.'),
        request_log_url: t('string', 'The dashboard page of this request\'s log entry.'),
      },
      required: ['type', 'message'],
    },
  },
  required: ['error'],
  additionalProperties: true,
};

export const OBJECT_SCHEMAS = {
  payment_intent: paymentIntent,
  payment_method: paymentMethod,
  charge,
  refund,
  balance_transaction: balanceTransaction,
  balance,
  dispute,
  event,
  webhook_endpoint: webhookEndpoint,
  webhook_delivery: webhookDelivery,
  product,
  price,
  deleted_product: deleted('product', 'prod'),
  deleted_webhook_endpoint: deleted('webhook_endpoint', 'we'),
  line_item: lineItem,
  'checkout.session': checkoutSession,
  list,
  line_item_list: { ...list, description: 'The line items of a Checkout Session.', properties: { ...(list.properties as object), data: arrayOf({ $ref: 'line_item#' }) } },
  search_result: searchResult,
  error,
} satisfies Record<string, JsonSchema>;

export type ObjectName = keyof typeof OBJECT_SCHEMAS;

/** The objects whose lists a route returns, added as `<name>_list` schemas. */
const LISTED = ['payment_intent', 'charge', 'refund', 'balance_transaction', 'dispute', 'event', 'webhook_endpoint', 'webhook_delivery', 'product', 'price', 'checkout.session'] as const;
export type ListedName = (typeof LISTED)[number];

/** Every shared schema with its `$id`, for `app.addSchema` and `components.schemas`. */
export function sharedSchemas(): JsonSchema[] {
  const lists = LISTED.map((name) => ({ $id: `${name}_list`, ...listOf(name) }));
  return [...Object.entries(OBJECT_SCHEMAS).map(([name, schema]) => ({ $id: name, ...schema })), ...lists];
}

/** The response schemas of a route: `200` the object (or its list), every 4xx/5xx the error envelope. */
export function responses(ok: ObjectName | `${ListedName}_list`): { response: Record<string, JsonSchema> } {
  return { response: { 200: { $ref: `${ok}#` }, '4xx': { $ref: 'error#' }, '5xx': { $ref: 'error#' } } };
}
