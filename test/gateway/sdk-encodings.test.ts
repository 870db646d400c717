import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { api, seedWebRequest, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

/**
 * Parameters as the SDKs encode them (api.md §1): Debian's python3-stripe 5.x sends Python
 * booleans (`confirm=True`) and indexed arrays (`expand[0]=`), stripe-node indexed arrays, curl
 * users `a[]=`; an empty value unsets. Ids of another shape (Stripe's) are unknown ids, not
 * malformed ones; `cancellation_reason` takes Stripe's enum and WooshPay's free text.
 */
describe('SDK encodings, foreign ids and cancellation reasons', () => {
  let gw: TestGateway;
  const form = (method: string, path: string, body: string) => api(gw, method, path, { key: gw.secretKey, form: body });
  const json = (method: string, path: string, body: unknown) => api(gw, method, path, { key: gw.secretKey, json: body });
  const get = (path: string) => api(gw, 'GET', path, { key: gw.secretKey });
  const newIntent = async (extra: Record<string, unknown> = {}) => {
    const created = await json('POST', '/v1/payment_intents', { amount: 500, currency: 'cny', ...extra });
    assert.equal(created.status, 200, created.text);
    return created.body;
  };

  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw?.stop();
  });

  it('takes python3-stripe\'s body for create-and-confirm: confirm=True, indexed arrays, nested objects', async () => {
    // Exactly what python3-stripe 5.0's _api_encode makes of
    // PaymentIntent.create(amount=20, currency='cny', confirm=True, payment_method_types=['alipay'],
    //   payment_method_data={'type': 'alipay'}, payment_method_options={'alipay': {'terminal_type': 'WEB'}},
    //   return_url='https://shop.example/return', expand=['payment_method']).
    const body = 'amount=20&currency=cny&confirm=True&payment_method_types%5B0%5D=alipay&payment_method_data%5Btype%5D=alipay'
      + '&payment_method_options%5Balipay%5D%5Bterminal_type%5D=WEB&return_url=https%3A%2F%2Fshop.example%2Freturn&expand%5B0%5D=payment_method';
    const created = await form('POST', '/v1/payment_intents', body);
    assert.equal(created.status, 200, created.text);
    assert.deepEqual([created.body.status, created.body.amount, created.body.payment_method_types, created.body.payment_method.object], ['requires_action', 20, ['alipay'], 'payment_method']);
    const paid = gw.connector.payCalls.at(-1);
    assert.deepEqual([paid?.paymentIntentId, paid?.amountMinor, paid?.terminalType], [created.body.id, 20, 'WEB'], 'confirmed: the connector was asked to pay');
    const falsy = await form('POST', '/v1/payment_intents', 'amount=20&currency=cny&confirm=False');
    assert.deepEqual([falsy.status, falsy.body.status], [200, 'requires_payment_method']);
  });

  it('reads booleans in any case and refuses anything else naming the parameter', async () => {
    const archived = await form('POST', '/v1/products', 'name=Tea&active=False');
    assert.deepEqual([archived.status, archived.body.active], [200, false]);
    const active = await form('POST', '/v1/products', 'name=Cup&active=TRUE');
    assert.deepEqual([active.status, active.body.active], [200, true]);
    const listed = await get('/v1/products?active=False');
    assert.deepEqual(listed.body.data.map((p: { name: string }) => p.name), ['Tea']);
    const json = await api(gw, 'POST', '/v1/products', { key: gw.secretKey, json: { name: 'Pot', active: false } });
    assert.equal(json.body.active, false);
    for (const value of ['maybe', '1', 'yes', 'Truee']) {
      const refused = await form('POST', '/v1/products', `name=X&active=${value}`);
      assert.deepEqual([refused.status, refused.body.error.code, refused.body.error.param], [400, 'parameter_invalid', 'active'], value);
    }
  });

  it('reads arrays as a[0]= (both SDKs), a[]= (curl) and JSON arrays, and objects nested in both encodings', async () => {
    const indexed = await form('POST', '/v1/webhook_endpoints', 'url=https%3A%2F%2Fshop.example%2Fhook&enabled_events[0]=payment_intent.succeeded&enabled_events[1]=charge.refunded');
    assert.equal(indexed.status, 200, indexed.text);
    assert.deepEqual(indexed.body.enabled_events, ['payment_intent.succeeded', 'charge.refunded']);
    const brackets = await form('POST', '/v1/webhook_endpoints', 'url=https%3A%2F%2Fshop.example%2Fhook2&enabled_events[]=payment_intent.succeeded&enabled_events[]=charge.refunded');
    assert.deepEqual(brackets.body.enabled_events, ['payment_intent.succeeded', 'charge.refunded']);
    const encoded = await form('POST', '/v1/payment_intents', 'amount=30&currency=cny&payment_method_types%5B%5D=alipay&shipping%5Bname%5D=Li&shipping%5Baddress%5D%5Bcity%5D=Shanghai');
    assert.equal(encoded.status, 200, encoded.text);
    assert.deepEqual([encoded.body.payment_method_types, encoded.body.shipping.name, encoded.body.shipping.address.city], [['alipay'], 'Li', 'Shanghai']);
    const fromJson = await json('POST', '/v1/payment_intents', { amount: 30, currency: 'cny', payment_method_types: ['alipay'], shipping: { name: 'Li', address: { city: 'Shanghai' } } });
    assert.deepEqual([fromJson.body.payment_method_types, fromJson.body.shipping.address.city], [['alipay'], 'Shanghai']);
    const session = await form('POST', '/v1/checkout/sessions', 'mode=payment&success_url=https%3A%2F%2Fshop.example%2Fok&line_items[0][price_data][currency]=cny&line_items[0][price_data][unit_amount]=5&line_items[0][price_data][product_data][name]=A&line_items[0][quantity]=2&line_items[1][price_data][currency]=cny&line_items[1][price_data][unit_amount]=7&line_items[1][price_data][product_data][name]=B&line_items[1][quantity]=1');
    assert.equal(session.status, 200, session.text);
    assert.equal(session.body.amount_total, 17);
  });

  it('unsets with an empty value where Stripe allows it, and refuses it where a value is needed', async () => {
    const intent = await newIntent({ description: 'Green tea', metadata: { order: '1', keep: 'k' } });
    const unset = await form('POST', `/v1/payment_intents/${intent.id}`, 'description=&metadata[order]=');
    assert.equal(unset.status, 200, unset.text);
    assert.deepEqual([unset.body.description, unset.body.metadata], [null, { keep: 'k' }]);
    const amount = await form('POST', `/v1/payment_intents/${intent.id}`, 'amount=');
    assert.deepEqual([amount.status, amount.body.error.code, amount.body.error.param], [400, 'parameter_invalid_empty', 'amount']);
    const jsonNull = await json('POST', `/v1/payment_intents/${intent.id}`, { receipt_email: null });
    assert.deepEqual([jsonNull.status, jsonNull.body.receipt_email], [200, null]);
  });

  it('answers 404 resource_missing for ids of another shape (Stripe\'s), and keeps 400 for a wrong prefix or characters', async () => {
    for (const [path, kind] of [
      ['/v1/payment_intents/pi_3NxYzAbCdEfGhIjK1a2b3c4d', 'payment_intent'],
      ['/v1/charges/ch_3NxYzAbCdEfGhIjK1a2b3c4d', 'charge'],
      ['/v1/refunds/re_3NxYzAbCdEfGhIjK', 'refund'],
      ['/v1/checkout/sessions/cs_test_a1B2c3D4e5F6g7H8i9J0', 'checkout.session'],
      ['/v1/disputes/dp_1NxYz', 'dispute'],
      ['/v1/payment_methods/pm_1NxYzAbC', 'payment_method'],
      ['/v1/products/prod_NWjs8kKbJWmuuc', 'product'],
      ['/v1/prices/price_1MoBy5LkdIwHu7ixZhnattbh', 'price'],
      ['/v1/payment_intents/pi_12345', 'payment_intent'],
    ] as const) {
      const missing = await get(path);
      assert.deepEqual([missing.status, missing.body.error.type, missing.body.error.code, missing.body.error.param], [404, 'invalid_request_error', 'resource_missing', 'id'], path);
      assert.equal(missing.body.error.message, `No such ${kind}: '${path.split('/').at(-1)}'`);
    }
    for (const path of ['/v1/payment_intents/ch_1234567890123456789', '/v1/payment_intents/pi_abc-def', '/v1/payment_intents/pi_', '/v1/charges/pi_3NxYz', `/v1/payment_intents/pi_${'a'.repeat(260)}`]) {
      const refused = await get(path);
      assert.ok([400, 414].includes(refused.status), `${path}: ${refused.status}`);
      if (refused.status === 400) assert.deepEqual([refused.body.error.code, refused.body.error.param], ['parameter_invalid', 'id'], path);
    }
    // In bodies: as an unknown id of ours (404 naming the parameter); as a list filter: nothing matches.
    const refund = await json('POST', '/v1/refunds', { payment_intent: 'pi_3NxYzAbCdEf' });
    assert.deepEqual([refund.status, refund.body.error.code, refund.body.error.param], [404, 'resource_missing', 'payment_intent']);
    const filtered = await get('/v1/refunds?payment_intent=pi_3NxYzAbCdEf');
    assert.deepEqual([filtered.status, filtered.body.data], [200, []]);
    const stripe = new Stripe(gw.secretKey, { host: '127.0.0.1', port: gw.port, protocol: 'http', maxNetworkRetries: 0 });
    await assert.rejects(stripe.paymentIntents.retrieve('pi_3NxYzAbCdEfGhIjK1a2b3c4d'), (error: Stripe.errors.StripeError) => {
      assert.deepEqual([error.type, error.statusCode, error.code, error.param], ['StripeInvalidRequestError', 404, 'resource_missing', 'id']);
      return true;
    });
  });

  it('takes cancellation_reason as Stripe\'s enum or WooshPay\'s free text, and returns it as given', async () => {
    const free = await newIntent();
    const canceled = await json('POST', `/v1/payment_intents/${free.id}/cancel`, { cancellation_reason: 'customer cancelled' });
    assert.equal(canceled.status, 200, canceled.text);
    assert.deepEqual([canceled.body.status, canceled.body.cancellation_reason], ['canceled', 'customer cancelled']);
    assert.equal((await get(`/v1/payment_intents/${free.id}`)).body.cancellation_reason, 'customer cancelled');

    const chinese = await newIntent();
    const byForm = await form('POST', `/v1/payment_intents/${chinese.id}/cancel`, `cancellation_reason=${encodeURIComponent('顾客取消订单')}`);
    assert.deepEqual([byForm.status, byForm.body.cancellation_reason], [200, '顾客取消订单']);

    const stripeReason = await newIntent();
    const duplicate = await json('POST', `/v1/payment_intents/${stripeReason.id}/cancel`, { cancellation_reason: 'duplicate' });
    assert.equal(duplicate.body.cancellation_reason, 'duplicate');

    const refusedIntent = await newIntent();
    const tooLong = await json('POST', `/v1/payment_intents/${refusedIntent.id}/cancel`, { cancellation_reason: 'x'.repeat(501) });
    assert.deepEqual([tooLong.status, tooLong.body.error.code, tooLong.body.error.param], [400, 'parameter_invalid', 'cancellation_reason']);
    const notText = await json('POST', `/v1/payment_intents/${refusedIntent.id}/cancel`, { cancellation_reason: 5 });
    assert.deepEqual([notText.status, notText.body.error.param], [400, 'cancellation_reason']);
    assert.equal((await get(`/v1/payment_intents/${refusedIntent.id}`)).body.status, 'requires_payment_method', 'a refused cancel changes nothing');
    const none = await form('POST', `/v1/payment_intents/${refusedIntent.id}/cancel`, 'cancellation_reason=');
    assert.deepEqual([none.status, none.body.cancellation_reason], [200, null]);
  });

  it('answers the seed\'s WEB request with confirm as a JSON boolean as before', async () => {
    const created = await json('POST', '/v1/payment_intents', seedWebRequest());
    assert.deepEqual([created.status, created.body.status], [200, 'requires_action']);
  });
});
