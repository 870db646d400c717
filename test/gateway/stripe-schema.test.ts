import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, seedWebRequest, type ApiResponse } from '../support/gateway-server.js';
import { codeValueOf, payInWallet, startPaymentStack, waitUntil, type PaymentStack } from '../support/e2e-harness.js';
import { openPage, pagePathOf, seedSessionRequest } from '../support/checkout-support.js';
import { EVIDENCE, gatewayDispute, openDispute, paidCharge } from '../support/dispute-support.js';
import { StripeSpec, type SchemaProblem } from '../support/stripe-schema.js';
import { startReceiver, type Receiver } from '../support/webhook-harness.js';

/**
 * Every object Zhifu returns, checked against Stripe's own schema for it (Stripe's OpenAPI
 * description, API version 2023-08-16, trimmed into test/fixtures/stripe-spec3.json by
 * scripts/trim-stripe-spec.mjs): the response schema Stripe documents for each operation (objects,
 * list envelopes, search results, deleted objects, the error envelope), and each Event's
 * `data.object` against the schema of its `object`. The money moves for real: payments, refunds and
 * disputes go through the Alipay+ sandbox over signed HTTP.
 *
 * The deliberate WooshPay conventions pass Stripe's schema as they are, so the validator needs no
 * exception for them (they are listed here so that a change to the schema that rejected them is
 * noticed, not silently allowed):
 * - timestamps (`created`, `expires_at`, `available_on`, `due_by`, …) are milliseconds, not
 *   seconds: Stripe's schema says integer (`format: unix-time`), and milliseconds are integers;
 * - currencies are upper-case (`"CNY"`): Stripe's schema says string, with no pattern.
 * Enums Zhifu extends, fields it adds (`merchant_order_id`, `network_reason_code`,
 * `payment_method_details.alipay`, …): Stripe's objects are open (no additionalProperties: false),
 * so added fields pass; no enum is extended.
 */
describe('every object Zhifu returns has the shape of Stripe\'s schema for it', () => {
  let stack: PaymentStack;
  let receiver: Receiver;
  let key = '';
  const spec = new StripeSpec();
  /** Operations (`GET /v1/charges/{charge}`) whose responses were checked, and the problems found. */
  const covered = new Set<string>();
  const objectsSeen = new Set<string>();
  let problems: string[] = [];

  before(async () => {
    stack = await startPaymentStack();
    key = stack.gateway.secretKey;
    // Every event is also delivered: the bodies a merchant's endpoint receives are checked too.
    receiver = await startReceiver();
    const subscribed = await api(stack.gateway, 'POST', '/v1/webhook_endpoints', { key, json: { url: receiver.url, enabled_events: ['*'] } });
    assert.equal(subscribed.status, 200, subscribed.text);
  });
  after(async () => {
    await stack.stop();
    await receiver.close();
  });

  const record = (what: string, found: SchemaProblem[]) => {
    for (const problem of found) problems.push(`${what}: ${problem.at} ${problem.message}`);
  };

  /** Schema names of the objects an Event can carry, by their `object`. */
  const SCHEMA_OF_OBJECT: Record<string, string> = {
    payment_intent: 'payment_intent',
    charge: 'charge',
    refund: 'refund',
    dispute: 'dispute',
    'checkout.session': 'checkout.session',
    product: 'product',
    price: 'price',
    webhook_endpoint: 'webhook_endpoint',
    balance_transaction: 'balance_transaction',
    payment_method: 'payment_method',
  };

  /** Records every `object` in a body (nested ones too), and checks each Event's data.object by its own schema. */
  function inspect(what: string, value: unknown): void {
    if (Array.isArray(value)) return value.forEach((item) => inspect(what, item));
    if (value === null || typeof value !== 'object') return;
    const node = value as Record<string, unknown>;
    if (typeof node.object === 'string') objectsSeen.add(node.deleted === true ? `deleted ${node.object}` : node.object);
    if (node.object === 'event') {
      const data = node.data as { object: { object: string; deleted?: boolean } };
      const inner = data.object;
      const name = inner.deleted === true ? `deleted_${inner.object}` : SCHEMA_OF_OBJECT[inner.object];
      if (name === undefined) problems.push(`${what}: event ${String(node.type)} carries an object "${inner.object}" this test has no schema for`);
      else record(`${what} event ${String(node.type)} data.object (${name})`, spec.validateSchema(name, inner));
    }
    for (const child of Object.values(node)) inspect(what, child);
  }

  /** One API call whose answer must have `status`; its body is checked against Stripe's response schema. */
  async function call(method: string, path: string, status: number, body?: Record<string, unknown>, options: { template?: string; key?: string | null } = {}): Promise<ApiResponse> {
    const response = await api(stack.gateway, method, path, { key: options.key === undefined ? key : options.key, ...(body === undefined ? {} : { json: body }) });
    assert.equal(response.status, status, `${method} ${path}: ${response.text}`);
    const template = options.template ?? spec.templateOf(method, path);
    assert.ok(template, `${method} ${path} is an operation of Stripe's spec`);
    covered.add(`${method} ${template}`);
    record(`${method} ${path} → ${status}`, spec.validateResponse(method, template, status, response.body));
    inspect(`${method} ${path}`, response.body);
    return response;
  }

  const assertConforms = () => {
    const found = problems;
    problems = [];
    assert.deepEqual(found, [], `objects that differ from Stripe's schema:\n${found.join('\n')}`);
  };

  it('the validator rejects what Stripe\'s schema rejects (so a passing check means something)', () => {
    const charge = { id: 'ch_1', object: 'charge', amount: 100, amount_captured: 100, amount_refunded: 0, captured: true, created: 1, currency: 'HKD', disputed: false, livemode: false, metadata: {}, paid: true, refunded: false, status: 'succeeded', billing_details: { address: null, email: null, name: null, phone: null } };
    assert.deepEqual(spec.validateSchema('charge', charge), []);
    const { billing_details: _omitted, ...withoutBilling } = charge;
    assert.ok(spec.validateSchema('charge', withoutBilling).some((p) => p.message.includes('billing_details')), 'a missing required field');
    assert.ok(spec.validateSchema('charge', { ...charge, amount: '100' }).some((p) => p.at === '/amount'), 'a string where an integer belongs');
    assert.ok(spec.validateSchema('charge', { ...charge, status: 'paid' }).some((p) => p.at === '/status'), 'a value outside the enum');
    assert.ok(spec.validateSchema('charge', { ...charge, created: 1.5 }).some((p) => p.at === '/created'), 'a unix-time that is no integer');
    assert.deepEqual(spec.validateSchema('charge', { ...charge, description: null }), [], 'nullable accepts null');
    assert.ok(spec.validateSchema('charge', { ...charge, paid: null }).some((p) => p.at === '/paid'), 'a non-nullable field refuses null');
    assert.ok(spec.validateSchema('charge', { ...charge, payment_intent: { id: 'pi_1' } }).some((p) => p.at.startsWith('/payment_intent')), 'an expandable field: its id or the whole object');
    assert.ok(spec.validateResponse('GET', '/v1/charges', 200, { object: 'list', data: [withoutBilling], has_more: false, url: '/v1/charges' }).some((p) => p.at === '/data/0'), 'list items are checked');
    assert.deepEqual(spec.validateResponse('GET', '/v1/charges', 400, { error: { type: 'invalid_request_error', message: 'x' } }), []);
    assert.ok(spec.validateResponse('GET', '/v1/charges', 400, { error: { type: 'nope' } }).length > 0, 'error types are Stripe\'s');
  });

  it('Direct API: PaymentIntents, PaymentMethod, Charge, Refunds, Balance and its transactions, errors', async () => {
    const created = await call('POST', '/v1/payment_intents', 200, { ...seedWebRequest(), amount: 1000, currency: 'HKD', description: 'shape test', metadata: { order: '42' }, receipt_email: 'buyer@example.com' });
    assert.equal(created.body.status, 'requires_action');
    await call('GET', `/v1/payment_intents/${created.body.id}`, 200);
    assert.equal((await payInWallet(stack, { codeValue: codeValueOf(created.body) })).status, 200);
    const intent = await waitUntil(async () => {
      const got = await api(stack.gateway, 'GET', `/v1/payment_intents/${created.body.id}`, { key });
      return got.body.status === 'succeeded' ? got.body : null;
    }, 'the payment to succeed', 10_000);
    await call('GET', `/v1/payment_intents/${intent.id}`, 200);

    // Unconfirmed, updated, confirmed later; and one canceled.
    const draft = await call('POST', '/v1/payment_intents', 200, { amount: 500, currency: 'CNY' });
    assert.equal(draft.body.status, 'requires_payment_method');
    await call('POST', `/v1/payment_intents/${draft.body.id}`, 200, { metadata: { step: 'updated' }, description: 'updated' });
    const confirmed = await call('POST', `/v1/payment_intents/${draft.body.id}/confirm`, 200, { payment_method_data: { type: 'alipay' }, return_url: 'https://shop.example/return', payment_method_options: { alipay: { terminal_type: 'WAP', os_type: 'ANDROID' } } });
    assert.equal(confirmed.body.status, 'requires_action');
    const canceled = await call('POST', `/v1/payment_intents/${draft.body.id}/cancel`, 200, { cancellation_reason: 'requested_by_customer' });
    assert.equal(canceled.body.status, 'canceled');

    await call('GET', '/v1/payment_intents?limit=100', 200);
    const search = await call('GET', `/v1/payment_intents/search?query=${encodeURIComponent("status:'succeeded'")}`, 200);
    assert.ok(search.body.data.some((pi: { id: string }) => pi.id === intent.id));

    await call('GET', `/v1/payment_methods/${intent.payment_method}`, 200);
    const charge = await call('GET', `/v1/charges/${intent.latest_charge}`, 200);
    assert.equal(charge.body.amount, 1000);
    assert.deepEqual(charge.body.billing_details, { address: null, email: null, name: null, phone: null }, 'nothing known about the payer: every field null');
    // Billing details given with the payment method are the charge's.
    const withBilling = await call('POST', '/v1/payment_intents', 200, { ...seedWebRequest(), amount: 700, currency: 'HKD', payment_method_data: { type: 'alipay', billing_details: { name: 'Li Lei', email: 'lilei@example.com' } } });
    assert.equal((await payInWallet(stack, { codeValue: codeValueOf(withBilling.body) })).status, 200);
    const billedIntent = await waitUntil(async () => {
      const got = await api(stack.gateway, 'GET', `/v1/payment_intents/${withBilling.body.id}`, { key });
      return got.body.status === 'succeeded' ? got.body : null;
    }, 'the billed payment to succeed', 10_000);
    const billed = await call('GET', `/v1/charges/${billedIntent.latest_charge}`, 200);
    assert.deepEqual(billed.body.billing_details, { address: null, email: 'lilei@example.com', name: 'Li Lei', phone: null });
    await call('GET', '/v1/charges?limit=100', 200);

    const refund = await call('POST', '/v1/refunds', 200, { payment_intent: intent.id, amount: 300, reason: 'requested_by_customer', metadata: { why: 'partial' } });
    assert.equal(refund.body.amount, 300);
    await call('GET', `/v1/refunds/${refund.body.id}`, 200);
    await call('POST', `/v1/refunds/${refund.body.id}`, 200, { metadata: { note: 'updated' } });
    await call('GET', '/v1/refunds?limit=100', 200);
    await waitUntil(async () => (await api(stack.gateway, 'GET', `/v1/refunds/${refund.body.id}`, { key })).body.status === 'succeeded' || null, 'the refund to succeed', 10_000);
    const settled = await call('GET', `/v1/refunds/${refund.body.id}`, 200);
    assert.equal(settled.body.status, 'succeeded');
    // A sent refund cannot be canceled: the error envelope.
    await call('POST', `/v1/refunds/${refund.body.id}/cancel`, 400);
    await call('GET', `/v1/charges/${intent.latest_charge}`, 200);
    // Expanded answers (expand[]): the whole objects in place of their ids still match Stripe's schemas.
    const expandedIntent = await call('GET', `/v1/payment_intents/${intent.id}?expand[]=latest_charge.balance_transaction&expand[]=payment_method`, 200);
    assert.equal(expandedIntent.body.latest_charge.object, 'charge');
    const expandedCharge = await call('GET', `/v1/charges/${intent.latest_charge}?expand[]=refunds&expand[]=payment_intent&expand[]=balance_transaction`, 200);
    assert.deepEqual(expandedCharge.body.refunds.data.map((r: { id: string }) => r.id), [refund.body.id]);
    await call('GET', `/v1/refunds/${refund.body.id}?expand[]=charge&expand[]=payment_intent&expand[]=balance_transaction`, 200);

    await call('GET', '/v1/balance', 200);
    const transactions = await call('GET', '/v1/balance_transactions?limit=100', 200);
    assert.ok(transactions.body.data.length >= 2, 'a charge and a refund');
    await call('GET', `/v1/balance_transactions/${transactions.body.data[0].id}`, 200);

    // Error envelopes: unknown object, invalid parameter, no key.
    await call('GET', '/v1/payment_intents/pi_1000000000000000000', 404);
    await call('POST', '/v1/payment_intents', 400, { amount: 'many', currency: 'HKD' });
    await call('GET', '/v1/charges', 401, undefined, { key: null });
    assertConforms();
  });

  it('Checkout: Sessions (open, paid, expired), their line items, Products and Prices', async () => {
    const created = await call('POST', '/v1/checkout/sessions', 200, { ...seedSessionRequest(), customer_email: 'shopper@example.com', client_reference_id: 'order-7', metadata: { cart: '7' } });
    const cs = created.body;
    await call('GET', `/v1/checkout/sessions/${cs.id}`, 200);
    await call('GET', `/v1/checkout/sessions/${cs.id}/line_items`, 200);
    await call('GET', `/v1/checkout/sessions/${cs.id}?expand[]=payment_intent&expand[]=line_items`, 200);
    // The hosted page starts the payment; the wallet pays it.
    assert.equal((await openPage(stack.gateway, pagePathOf(cs.url))).status, 200);
    const intent = (await api(stack.gateway, 'GET', `/v1/payment_intents/${cs.payment_intent}`, { key })).body;
    assert.equal((await payInWallet(stack, { codeValue: codeValueOf(intent) })).status, 200);
    await waitUntil(async () => (await api(stack.gateway, 'GET', `/v1/checkout/sessions/${cs.id}`, { key })).body.status === 'complete' || null, 'the session to complete', 10_000);
    const complete = await call('GET', `/v1/checkout/sessions/${cs.id}`, 200);
    assert.equal(complete.body.payment_status, 'paid');
    const paidIntent = (await api(stack.gateway, 'GET', `/v1/payment_intents/${cs.payment_intent}`, { key })).body;
    const sessionCharge = await call('GET', `/v1/charges/${paidIntent.latest_charge}`, 200);
    assert.deepEqual(sessionCharge.body.billing_details, { address: null, email: 'shopper@example.com', name: null, phone: null }, 'the session\'s customer_email is the charge\'s billing e-mail');
    assert.deepEqual([complete.body.automatic_tax, complete.body.custom_fields, complete.body.custom_text, complete.body.shipping_options], [{ enabled: false, status: null }, [], { shipping_address: null, submit: null }, []]);

    const other = await call('POST', '/v1/checkout/sessions', 200, seedSessionRequest());
    const expired = await call('POST', `/v1/checkout/sessions/${other.body.id}/expire`, 200);
    assert.equal(expired.body.status, 'expired');
    await call('GET', '/v1/checkout/sessions?limit=100', 200);
    await call('GET', '/v1/checkout/sessions/list?limit=100', 200, undefined, { template: '/v1/checkout/sessions' });

    const product = await call('POST', '/v1/products', 200, { name: 'Tea', description: 'Longjing', images: ['https://shop.example/tea.png'], metadata: { sku: 'tea' } });
    await call('GET', `/v1/products/${product.body.id}`, 200);
    await call('POST', `/v1/products/${product.body.id}`, 200, { name: 'Green tea' });
    await call('GET', '/v1/products?limit=100', 200);
    const price = await call('POST', '/v1/prices', 200, { product: product.body.id, unit_amount: 2500, currency: 'cny', nickname: 'tin', lookup_key: 'tea_tin' });
    await call('POST', '/v1/prices', 200, { product_data: { name: 'Subscription box' }, unit_amount: 9900, currency: 'cny', recurring: { interval: 'month' } });
    await call('GET', `/v1/prices/${price.body.id}`, 200);
    await call('POST', `/v1/prices/${price.body.id}`, 200, { nickname: 'big tin' });
    await call('GET', '/v1/prices?limit=100', 200);
    const lonely = await call('POST', '/v1/products', 200, { name: 'Nothing priced' });
    const deleted = await call('DELETE', `/v1/products/${lonely.body.id}`, 200);
    assert.equal(deleted.body.deleted, true);
    assertConforms();
  });

  it('Disputes: an escalation with evidence staged, then accepted; its balance transaction', async () => {
    const paid = await paidCharge(stack, { amount: 2000 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation', reasonCode: 'FRAUD', reasonMessage: 'not me' });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    await call('GET', `/v1/disputes/${dispute.id}`, 200);
    await call('POST', `/v1/disputes/${dispute.id}`, 200, { evidence: EVIDENCE, submit: false, metadata: { case: '1' } });
    await call('GET', '/v1/disputes?limit=100', 200);
    await call('GET', '/v1/disputes/list?limit=100', 200, undefined, { template: '/v1/disputes' });
    const closed = await call('POST', `/v1/disputes/${dispute.id}/close`, 200);
    assert.equal(closed.body.status, 'lost');
    await call('GET', `/v1/charges/${paid.chargeId}`, 200);
    await call('GET', '/v1/balance_transactions?limit=100', 200);
    assertConforms();
  });

  it('Webhook endpoints, and every Event (with its data.object) the flows above wrote', async () => {
    const endpoint = await call('POST', '/v1/webhook_endpoints', 200, { url: 'https://shop.example/hooks', enabled_events: ['*'], description: 'all', metadata: { team: 'ops' } });
    assert.match(endpoint.body.secret, /^whsec_/);
    await call('GET', `/v1/webhook_endpoints/${endpoint.body.id}`, 200);
    await call('POST', `/v1/webhook_endpoints/${endpoint.body.id}`, 200, { disabled: true });
    await call('GET', '/v1/webhook_endpoints?limit=100', 200);
    const gone = await call('DELETE', `/v1/webhook_endpoints/${endpoint.body.id}`, 200);
    assert.equal(gone.body.deleted, true);

    // Every event, page by page.
    const types = new Set<string>();
    const eventIds: string[] = [];
    let startingAfter = '';
    for (;;) {
      const page = await call('GET', `/v1/events?limit=100${startingAfter === '' ? '' : `&starting_after=${startingAfter}`}`, 200);
      for (const event of page.body.data as { id: string; type: string }[]) {
        types.add(event.type);
        eventIds.push(event.id);
      }
      if (!page.body.has_more) break;
      startingAfter = page.body.data.at(-1).id;
    }
    const anyEvent = (await api(stack.gateway, 'GET', '/v1/events?limit=1', { key })).body.data[0];
    await call('GET', `/v1/events/${anyEvent.id}`, 200);
    for (const type of ['payment_intent.created', 'payment_intent.succeeded', 'payment_intent.canceled', 'charge.succeeded', 'charge.refunded', 'refund.created', 'checkout.session.completed', 'checkout.session.expired', 'charge.dispute.created', 'charge.dispute.closed', 'product.created', 'product.deleted', 'price.created']) {
      assert.ok(types.has(type), `an event ${type} was checked (seen: ${[...types].sort().join(', ')})`);
    }

    // The same events as delivered to the endpoint subscribed to all of them before the flows ran.
    await waitUntil(() => {
      const delivered = new Set(receiver.received.map((r) => r.eventId));
      return eventIds.every((id) => delivered.has(id)) || null;
    }, `all ${eventIds.length} events delivered`, 20_000);
    for (const delivery of receiver.received) {
      const event = JSON.parse(delivery.body) as unknown;
      record(`webhook ${delivery.eventType} ${delivery.eventId}`, spec.validateSchema('event', event));
      inspect(`webhook ${delivery.eventType}`, event);
    }
    assertConforms();
  });

  it('covered every operation of Stripe\'s spec that Zhifu serves, and every kind of object', () => {
    const spec3 = new StripeSpec();
    assert.equal(spec3.apiVersion, '2023-08-16');
    const missing = OPERATIONS.filter((operation) => !covered.has(operation));
    assert.deepEqual(missing, [], 'operations whose responses were never checked');
    for (const object of ['payment_intent', 'payment_method', 'charge', 'refund', 'event', 'webhook_endpoint', 'deleted webhook_endpoint', 'checkout.session', 'item', 'product', 'deleted product', 'price', 'balance', 'balance_transaction', 'dispute', 'list', 'search_result']) {
      assert.ok(objectsSeen.has(object), `a ${object} was checked (seen: ${[...objectsSeen].sort().join(', ')})`);
    }
  });
});

/** The operations of scripts/trim-stripe-spec.mjs, as `METHOD template`. */
const OPERATIONS = [
  'GET /v1/payment_intents', 'POST /v1/payment_intents', 'GET /v1/payment_intents/search', 'GET /v1/payment_intents/{intent}', 'POST /v1/payment_intents/{intent}',
  'POST /v1/payment_intents/{intent}/confirm', 'POST /v1/payment_intents/{intent}/cancel', 'GET /v1/payment_methods/{payment_method}', 'GET /v1/charges', 'GET /v1/charges/{charge}',
  'GET /v1/refunds', 'POST /v1/refunds', 'GET /v1/refunds/{refund}', 'POST /v1/refunds/{refund}', 'POST /v1/refunds/{refund}/cancel', 'GET /v1/events', 'GET /v1/events/{id}',
  'GET /v1/webhook_endpoints', 'POST /v1/webhook_endpoints', 'GET /v1/webhook_endpoints/{webhook_endpoint}', 'POST /v1/webhook_endpoints/{webhook_endpoint}', 'DELETE /v1/webhook_endpoints/{webhook_endpoint}',
  'GET /v1/checkout/sessions', 'POST /v1/checkout/sessions', 'GET /v1/checkout/sessions/{session}', 'GET /v1/checkout/sessions/{session}/line_items', 'POST /v1/checkout/sessions/{session}/expire',
  'GET /v1/products', 'POST /v1/products', 'GET /v1/products/{id}', 'POST /v1/products/{id}', 'DELETE /v1/products/{id}', 'GET /v1/prices', 'POST /v1/prices', 'GET /v1/prices/{price}', 'POST /v1/prices/{price}',
  'GET /v1/balance', 'GET /v1/balance_transactions', 'GET /v1/balance_transactions/{id}', 'GET /v1/disputes', 'GET /v1/disputes/{dispute}', 'POST /v1/disputes/{dispute}', 'POST /v1/disputes/{dispute}/close',
];
