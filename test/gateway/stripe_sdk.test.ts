import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

/** The unmodified official SDK, pointed at the gateway (api.md: {host, port, protocol}). */
describe('official stripe npm package against the gateway', () => {
  let gw: TestGateway;
  let stripe: Stripe;
  before(async () => {
    gw = await startTestGateway();
    stripe = new Stripe(gw.secretKey, { host: '127.0.0.1', port: gw.port, protocol: 'http', maxNetworkRetries: 0 });
  });
  after(async () => {
    await gw.stop();
  });

  it('creates, retrieves, updates and cancels a PaymentIntent (form bodies, Bearer auth, idempotency keys)', async () => {
    const created = await stripe.paymentIntents.create({ amount: 2000, currency: 'cny', metadata: { order: '42' } });
    assert.match(created.id, /^pi_\d{19}$/);
    assert.deepEqual([created.amount, created.currency, created.status, created.metadata], [2000, 'CNY', 'requires_payment_method', { order: '42' }]);
    assert.match(created.lastResponse.requestId, /^req_/);
    const retrieved = await stripe.paymentIntents.retrieve(created.id);
    assert.equal(retrieved.client_secret, created.client_secret);
    const updated = await stripe.paymentIntents.update(created.id, { amount: 2500, metadata: { order: '', note: 'x' } });
    assert.deepEqual([updated.amount, updated.metadata], [2500, { note: 'x' }]);
    const canceled = await stripe.paymentIntents.cancel(created.id, { cancellation_reason: 'abandoned' });
    assert.deepEqual([canceled.status, canceled.cancellation_reason], ['canceled', 'abandoned']);
  });

  it('confirms with payment_method_data and gets the redirect next_action', async () => {
    const created = await stripe.paymentIntents.create({ amount: 20, currency: 'cny' });
    const confirmed = await stripe.paymentIntents.confirm(created.id, {
      payment_method_data: { type: 'alipay' },
      return_url: 'https://shop.test/return',
    });
    assert.equal(confirmed.status, 'requires_action');
    assert.equal(confirmed.next_action?.type, 'redirect_to_url');
    assert.equal(confirmed.next_action?.redirect_to_url?.return_url, 'https://shop.test/return');
    assert.match(confirmed.next_action?.redirect_to_url?.url ?? '', /^https:\/\/wallet\.test\//);
  });

  it('lists with auto-pagination across pages', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await stripe.paymentIntents.create({ amount: 100 + i, currency: 'hkd', metadata: { run: 'paging' } })).id);
    const seen: string[] = [];
    for await (const pi of stripe.paymentIntents.list({ limit: 5 })) seen.push(pi.id);
    for (const id of ids) assert.ok(seen.includes(id), id);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates across pages');
    const newest = seen.slice(0, 12);
    assert.deepEqual(newest, [...ids].reverse());
    const found = await stripe.paymentIntents.search({ query: "metadata['run']:'paging'", limit: 5 }).autoPagingToArray({ limit: 100 });
    assert.deepEqual(found.map((pi) => pi.id), [...ids].reverse(), 'search pages through next_page');
  });

  it('raises typed errors with code and param', async () => {
    await assert.rejects(stripe.paymentIntents.create({ amount: 0, currency: 'cny' }), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.code, 'amount_too_small');
      assert.equal(error.param, 'amount');
      assert.equal(error.statusCode, 400);
      return true;
    });
    await assert.rejects(stripe.paymentIntents.retrieve('pi_1666729870215872512'), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.code, 'resource_missing');
      return true;
    });
    const wrong = new Stripe('sk_test_notarealkeynotarealkey0000', { host: '127.0.0.1', port: gw.port, protocol: 'http', maxNetworkRetries: 0 });
    await assert.rejects(wrong.paymentIntents.list(), (error: unknown) => error instanceof Stripe.errors.StripeAuthenticationError);
  });
});
