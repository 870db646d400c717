import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { api, getWithJsonBody, seedWebRequest } from '../support/gateway-server.js';
import { startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { newMerchant, onlyDisputeOf, openAtSandbox, paidPayment, type PaidPayment } from './disputes-support.js';

/**
 * `expand[]` (Stripe's "Expanding responses") on every endpoint returning an expandable object,
 * through the real sandbox: ids become the caller's own objects, nested with dots, `data.` on
 * lists, at most 4 levels; unknown paths are refused naming them; replays answer expanded.
 */
describe('expand[]', () => {
  let stack: PaymentStack;
  let key: string;
  let payment: PaidPayment;
  const refunds: string[] = [];
  let disputeId: string;
  let sessionId: string;
  const get = (path: string, as = key) => api(stack.gateway, 'GET', path, { key: as });
  const post = (path: string, json: unknown, headers?: Record<string, string>) => api(stack.gateway, 'POST', path, { key, json, ...(headers ? { headers } : {}) });
  const postForm = (path: string, form: string, headers?: Record<string, string>) => api(stack.gateway, 'POST', path, { key, form, ...(headers ? { headers } : {}) });

  before(async () => {
    stack = await startPaymentStack();
    key = await newMerchant(stack, 'EUR');
    payment = await paidPayment(stack, key, 1000);
    for (const amount of [100, 250]) {
      const refund = await post('/v1/refunds', { payment_intent: payment.paymentIntentId, amount });
      assert.equal(refund.body.status, 'succeeded', refund.text);
      refunds.push(refund.body.id);
    }
    assert.equal((await openAtSandbox(stack, payment.paymentId, { type: 'retrieval' })).status, 201);
    disputeId = (await onlyDisputeOf(stack, key, payment.chargeId)).id;
    const session = await post('/v1/checkout/sessions', {
      mode: 'payment',
      success_url: 'https://shop.example/ok',
      line_items: [{ price_data: { currency: 'cny', unit_amount: 300, product_data: { name: 'Tea' } }, quantity: 2 }],
    });
    assert.equal(session.status, 200, session.text);
    sessionId = session.body.id;
  });
  after(async () => {
    await stack?.stop();
  });

  it('answers ids as before when nothing is expanded', async () => {
    const intent = await get(`/v1/payment_intents/${payment.paymentIntentId}`);
    assert.equal(intent.body.latest_charge, payment.chargeId);
    assert.match(intent.body.payment_method, /^pm_\d{19}$/);
    const charge = await get(`/v1/charges/${payment.chargeId}`);
    assert.equal(charge.body.payment_intent, payment.paymentIntentId);
    assert.equal(charge.body.refunds, undefined, 'refunds only when expanded (Stripe)');
  });

  it('expands a PaymentIntent\'s latest_charge, payment_method and customer, in the query as expand[] and expand[0]', async () => {
    const intent = await get(`/v1/payment_intents/${payment.paymentIntentId}?expand[]=latest_charge&expand[]=payment_method&expand[]=customer`);
    assert.equal(intent.status, 200, intent.text);
    assert.deepEqual([intent.body.latest_charge.object, intent.body.latest_charge.id, intent.body.latest_charge.amount, intent.body.latest_charge.amount_refunded], ['charge', payment.chargeId, 1000, 350]);
    assert.deepEqual([intent.body.payment_method.object, intent.body.payment_method.type], ['payment_method', 'alipay']);
    assert.equal(intent.body.customer, null, 'Zhifu has no Customer objects: the reference stays as it is');
    assert.equal(intent.body.amount, 1000);
    const indexed = await get(`/v1/payment_intents/${payment.paymentIntentId}?expand%5B0%5D=latest_charge`);
    assert.equal(indexed.body.latest_charge.id, payment.chargeId);
    const single = await get(`/v1/payment_intents/${payment.paymentIntentId}?expand=payment_method`);
    assert.equal(single.body.payment_method.object, 'payment_method');
    // WooshPay's JSON bodies on list GETs carry expand too.
    const inJsonBody = await getWithJsonBody({ ...stack.gateway, secretKey: key }, '/v1/refunds', { limit: 1, expand: ['data.charge'] });
    assert.equal(inJsonBody.status, 200, inJsonBody.text);
    assert.deepEqual([inJsonBody.body.data.length, inJsonBody.body.data[0].charge.id], [1, payment.chargeId]);
  });

  it('expands nested paths: the charge\'s balance transaction, its refunds and theirs, up to 4 levels', async () => {
    const nested = await get(`/v1/payment_intents/${payment.paymentIntentId}?expand[]=latest_charge.balance_transaction&expand[]=latest_charge.refunds.data.balance_transaction`);
    assert.equal(nested.status, 200, nested.text);
    const charge = nested.body.latest_charge;
    const chargeTxn = (await get(`/v1/charges/${payment.chargeId}`)).body.balance_transaction as string;
    assert.deepEqual(charge.balance_transaction, (await get(`/v1/balance_transactions/${chargeTxn}`)).body, 'the object GET /v1/balance_transactions/:id answers');
    assert.deepEqual([charge.balance_transaction.object, charge.balance_transaction.currency, charge.balance_transaction.source], ['balance_transaction', 'EUR', payment.chargeId]);
    assert.ok(charge.balance_transaction.amount > 0);
    assert.deepEqual([charge.refunds.object, charge.refunds.url, charge.refunds.has_more], ['list', `/v1/refunds?charge=${payment.chargeId}`, false]);
    assert.deepEqual(charge.refunds.data.map((r: { id: string; amount: number }) => [r.id, r.amount]), [[refunds[1], 250], [refunds[0], 100]]);
    for (const refund of charge.refunds.data) {
      assert.deepEqual([refund.balance_transaction.object, refund.balance_transaction.type, refund.balance_transaction.source], ['balance_transaction', 'refund', refund.id]);
      assert.ok(refund.balance_transaction.amount < 0);
    }

    const four = await get(`/v1/payment_intents/${payment.paymentIntentId}?expand[]=latest_charge.payment_intent.latest_charge.balance_transaction`);
    assert.equal(four.status, 200, four.text);
    assert.equal(four.body.latest_charge.payment_intent.latest_charge.balance_transaction.object, 'balance_transaction');
    const five = await get(`/v1/payment_intents/${payment.paymentIntentId}?expand[]=latest_charge.payment_intent.latest_charge.payment_intent.latest_charge`);
    assert.deepEqual([five.status, five.body.error.code, five.body.error.param], [400, 'parameter_invalid', 'expand']);
    assert.match(five.body.error.message, /cannot expand more than 4 levels/);
  });

  it('expands a Charge, a Refund and a Dispute by every expandable field', async () => {
    const charge = await get(`/v1/charges/${payment.chargeId}?expand[]=payment_intent&expand[]=balance_transaction&expand[]=refunds`);
    assert.equal(charge.status, 200, charge.text);
    assert.deepEqual([charge.body.payment_intent.object, charge.body.payment_intent.id, charge.body.balance_transaction.object, charge.body.refunds.data.length], ['payment_intent', payment.paymentIntentId, 'balance_transaction', 2]);

    const refund = await get(`/v1/refunds/${refunds[0]}?expand[]=charge&expand[]=payment_intent&expand[]=balance_transaction`);
    assert.equal(refund.status, 200, refund.text);
    assert.deepEqual(
      [refund.body.charge.id, refund.body.charge.amount_refunded, refund.body.payment_intent.id, refund.body.balance_transaction.source, refund.body.amount],
      [payment.chargeId, 350, payment.paymentIntentId, refunds[0], 100],
    );

    const dispute = await get(`/v1/disputes/${disputeId}?expand[]=charge&expand[]=payment_intent.latest_charge`);
    assert.equal(dispute.status, 200, dispute.text);
    assert.deepEqual([dispute.body.charge.object, dispute.body.charge.id, dispute.body.payment_intent.id, dispute.body.payment_intent.latest_charge.id], ['charge', payment.chargeId, payment.paymentIntentId, payment.chargeId]);
    const disputes = await get(`/v1/disputes/list?expand[]=data.charge`);
    assert.deepEqual(disputes.body.data.map((d: { charge: { id: string } }) => d.charge.id), [payment.chargeId]);
  });

  it('expands Checkout Sessions: line_items added to lists, payment_intent on create (a form body), retrieve and list', async () => {
    const listed = await get('/v1/checkout/sessions?expand[]=data.line_items&expand[]=data.payment_intent');
    assert.equal(listed.status, 200, listed.text);
    const [session] = listed.body.data;
    assert.equal(session.id, sessionId);
    assert.deepEqual([session.line_items.object, session.line_items.data.length, session.line_items.data[0].quantity, session.line_items.data[0].amount_total], ['list', 1, 2, 600]);
    assert.deepEqual([session.payment_intent.object, session.payment_intent.amount, session.payment_intent.status], ['payment_intent', 600, 'requires_payment_method']);
    const plain = await get('/v1/checkout/sessions');
    assert.equal(plain.body.data[0].line_items, undefined, 'lists carry no line items unless expanded');

    const retrieved = await get(`/v1/checkout/sessions/${sessionId}?expand[]=line_items.data.price.product&expand[]=payment_intent`);
    assert.equal(retrieved.status, 200, retrieved.text);
    assert.deepEqual([retrieved.body.line_items.data[0].price.product.name, retrieved.body.payment_intent.id], ['Tea', session.payment_intent.id]);

    const created = await postForm('/v1/checkout/sessions', 'mode=payment&success_url=https%3A%2F%2Fshop.example%2Fok&line_items[0][price_data][currency]=cny&line_items[0][price_data][unit_amount]=5&line_items[0][price_data][product_data][name]=Cup&line_items[0][quantity]=1&expand[0]=payment_intent');
    assert.equal(created.status, 200, created.text);
    assert.deepEqual([created.body.payment_intent.object, created.body.payment_intent.amount], ['payment_intent', 5]);
  });

  it('expands every item of a list with data. (and search), and says to use data. when it is missing', async () => {
    const listed = await get(`/v1/payment_intents?limit=3&expand[]=data.latest_charge`);
    assert.equal(listed.status, 200, listed.text);
    const ours = listed.body.data.find((pi: { id: string }) => pi.id === payment.paymentIntentId);
    assert.equal(ours.latest_charge.object, 'charge');
    const searched = await get(`/v1/payment_intents/search?query=${encodeURIComponent("status:'succeeded'")}&expand[]=data.latest_charge`);
    assert.equal(searched.body.data[0].latest_charge.id, payment.chargeId);
    const charges = await get(`/v1/charges?expand[]=data.refunds`);
    assert.equal(charges.body.data[0].refunds.data.length, 2);
    const refundsList = await get(`/v1/refunds?expand[]=data.charge`);
    assert.deepEqual(refundsList.body.data.map((r: { charge: { id: string } }) => r.charge.id), [payment.chargeId, payment.chargeId]);

    const withoutData = await get('/v1/payment_intents?expand[]=latest_charge');
    assert.deepEqual([withoutData.status, withoutData.body.error.code, withoutData.body.error.param], [400, 'parameter_invalid', 'expand']);
    assert.equal(withoutData.body.error.message, "This property cannot be expanded (latest_charge). You may want to try expanding 'data.latest_charge' instead.");
  });

  it('refuses unknown or non-expandable paths naming them, before the route acts', async () => {
    const unknown = await get(`/v1/payment_intents/${payment.paymentIntentId}?expand[]=nope&expand[]=latest_charge.colour&expand[]=amount`);
    assert.deepEqual([unknown.status, unknown.body.error.type, unknown.body.error.code, unknown.body.error.param], [400, 'invalid_request_error', 'parameter_invalid', 'expand']);
    assert.equal(unknown.body.error.message, 'This property cannot be expanded (nope, latest_charge.colour, amount).');
    const onProducts = await get('/v1/products?expand[]=data.default_price');
    assert.deepEqual([onProducts.status, onProducts.body.error.message], [400, 'This property cannot be expanded (data.default_price).']);
    const badSyntax = await get(`/v1/charges/${payment.chargeId}?expand[]=payment_intent..id`);
    assert.equal(badSyntax.status, 400);
    const notArray = await get(`/v1/charges/${payment.chargeId}?expand[a]=payment_intent`);
    assert.deepEqual([notArray.status, notArray.body.error.param], [400, 'expand']);

    const before = await stack.gateway.database.db.selectFrom('payment_intents').select('id').execute();
    const refused = await post('/v1/payment_intents', { amount: 500, currency: 'cny', expand: ['latest_charge.nope'] });
    assert.deepEqual([refused.status, refused.body.error.param], [400, 'expand']);
    const afterwards = await stack.gateway.database.db.selectFrom('payment_intents').select('id').execute();
    assert.equal(afterwards.length, before.length, 'nothing was created');
  });

  it('never expands another account\'s object, even when a reference names it', async () => {
    const other = await newMerchant(stack, 'EUR');
    const theirs = await api(stack.gateway, 'POST', '/v1/payment_intents', { key: other, json: { amount: 700, currency: 'cny' } });
    assert.equal(theirs.status, 200, theirs.text);
    // A reference to our charge planted on their PaymentIntent (the API never makes one): it must stay an id.
    await stack.gateway.database.db.updateTable('payment_intents').set({ latest_charge: payment.chargeId }).where('id', '=', theirs.body.id).execute();
    const expanded = await get(`/v1/payment_intents/${theirs.body.id}?expand[]=latest_charge.balance_transaction`, other);
    assert.equal(expanded.status, 200, expanded.text);
    assert.equal(expanded.body.latest_charge, payment.chargeId);
    assert.ok(!expanded.text.includes('"object":"charge"'));
    assert.equal((await get(`/v1/payment_intents/${payment.paymentIntentId}?expand[]=latest_charge`, other)).status, 404);
  });

  it('replays an Idempotency-Key request with its expanded answer; other expansions under the same key are a mismatch', async () => {
    const headers = { 'Idempotency-Key': 'expand-replay-1' };
    const first = await post(`/v1/payment_intents/${payment.paymentIntentId}`, { metadata: { note: 'x' }, expand: ['latest_charge'] }, headers);
    assert.equal(first.status, 200, first.text);
    assert.deepEqual([first.body.metadata.note, first.body.latest_charge.id], ['x', payment.chargeId]);
    const replay = await post(`/v1/payment_intents/${payment.paymentIntentId}`, { metadata: { note: 'x' }, expand: ['latest_charge'] }, headers);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(replay.body, first.body);
    const other = await post(`/v1/payment_intents/${payment.paymentIntentId}`, { metadata: { note: 'x' }, expand: ['payment_method'] }, headers);
    assert.deepEqual([other.status, other.body.error.type], [400, 'idempotency_error']);

    const created = await postForm('/v1/payment_intents', 'amount=20&currency=cny&expand[]=payment_method&payment_method_data[type]=alipay', { 'Idempotency-Key': 'expand-replay-2' });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.payment_method.object, 'payment_method');
    const again = await postForm('/v1/payment_intents', 'amount=20&currency=cny&expand[]=payment_method&payment_method_data[type]=alipay', { 'Idempotency-Key': 'expand-replay-2' });
    assert.deepEqual([again.headers.get('idempotent-replayed'), again.body], ['true', created.body]);
  });

  it('lets a publishable key expand only the payment method of its PaymentIntent', async () => {
    const intent = await api(stack.gateway, 'POST', '/v1/payment_intents', { key: stack.gateway.secretKey, json: { ...seedWebRequest(), confirm: false, payment_method_data: { type: 'alipay', billing_details: { email: 'a@example.com' } } } });
    assert.equal(intent.status, 200, intent.text);
    const secret = encodeURIComponent(intent.body.client_secret);
    const pk = stack.gateway.publishableKey;
    const method = await get(`/v1/payment_intents/${intent.body.id}?client_secret=${secret}&expand[]=payment_method`, pk);
    assert.equal(method.status, 200, method.text);
    assert.deepEqual([method.body.payment_method.object, method.body.payment_method.billing_details.email], ['payment_method', 'a@example.com']);
    const charge = await get(`/v1/payment_intents/${intent.body.id}?client_secret=${secret}&expand[]=latest_charge`, pk);
    assert.deepEqual([charge.status, charge.body.error.param], [400, 'expand']);
  });

  it('works through the official stripe package: expand latest_charge and line_items', async () => {
    const stripe = new Stripe(key, { host: '127.0.0.1', port: stack.gateway.port, protocol: 'http', maxNetworkRetries: 0 });
    const intent = await stripe.paymentIntents.retrieve(payment.paymentIntentId, { expand: ['latest_charge'] });
    const charge = intent.latest_charge as Stripe.Charge;
    assert.deepEqual([charge.object, charge.id, charge.amount, charge.amount_refunded], ['charge', payment.chargeId, 1000, 350]);
    const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ['line_items', 'payment_intent'] });
    assert.deepEqual([session.line_items?.data[0]?.quantity, (session.payment_intent as Stripe.PaymentIntent).amount], [2, 600]);
    const sessions = await stripe.checkout.sessions.list({ limit: 5, expand: ['data.line_items'] });
    assert.equal(sessions.data.find((s) => s.id === sessionId)?.line_items?.data[0]?.amount_total, 600);
    const updated = await stripe.paymentIntents.update(payment.paymentIntentId, { metadata: { via: 'sdk' }, expand: ['latest_charge.balance_transaction'] });
    assert.equal(((updated.latest_charge as Stripe.Charge).balance_transaction as Stripe.BalanceTransaction).source, payment.chargeId);
    assert.equal(updated.metadata.via, 'sdk');
    await assert.rejects(stripe.paymentIntents.retrieve(payment.paymentIntentId, { expand: ['nope'] }), (error: Stripe.errors.StripeError) => {
      assert.equal(error.type, 'StripeInvalidRequestError');
      assert.equal(error.param, 'expand');
      return true;
    });
  });
});
