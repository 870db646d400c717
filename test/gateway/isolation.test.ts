import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordAttemptSucceeded } from '../../src/gateway/index.js';
import { api, seedWebRequest, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

describe('account and mode isolation', () => {
  let gw: TestGateway;
  let other: Awaited<ReturnType<TestGateway['newAccount']>>;
  let mine: { id: string; client_secret: string; payment_method: string; latest_charge: string };
  let pending: { id: string };

  before(async () => {
    gw = await startTestGateway();
    other = await gw.newAccount();
    const paid = (await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: seedWebRequest() })).body;
    await recordAttemptSucceeded(gw.running.app.core, `${paid.id}_1`, { externalPaymentId: 'x', buyerId: null, wallet: null });
    mine = (await api(gw, 'GET', `/v1/payment_intents/${paid.id}`, { key: gw.secretKey })).body;
    pending = (await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 3, currency: 'cny', payment_method_data: { type: 'alipay' } } })).body;
  });
  after(async () => {
    await gw.stop();
  });

  it("never shows another account's objects (404 resource_missing)", async () => {
    const key = other.test.secretKey;
    for (const path of [`/v1/payment_intents/${mine.id}`, `/v1/payment_methods/${mine.payment_method}`, `/v1/charges/${mine.latest_charge}`]) {
      const response = await api(gw, 'GET', path, { key });
      assert.deepEqual([response.status, response.body.error.code], [404, 'resource_missing'], path);
    }
    const viaPublishable = await api(gw, 'GET', `/v1/payment_intents/${mine.id}?client_secret=${mine.client_secret}`, { key: other.test.publishableKey });
    assert.equal(viaPublishable.status, 404);
  });

  it("never updates, confirms or cancels another account's intent", async () => {
    const key = other.test.secretKey;
    const update = await api(gw, 'POST', `/v1/payment_intents/${pending.id}`, { key, json: { metadata: { hijack: '1' } } });
    const confirm = await api(gw, 'POST', `/v1/payment_intents/${pending.id}/confirm`, { key, json: { return_url: 'https://evil.test' } });
    const cancel = await api(gw, 'POST', `/v1/payment_intents/${pending.id}/cancel`, { key, json: {} });
    for (const response of [update, confirm, cancel]) assert.deepEqual([response.status, response.body.error.code], [404, 'resource_missing']);
    const untouched = (await api(gw, 'GET', `/v1/payment_intents/${pending.id}`, { key: gw.secretKey })).body;
    assert.deepEqual([untouched.status, untouched.metadata], ['requires_confirmation', {}]);
  });

  it("never lists another account's objects, nor uses them as cursors or payment methods", async () => {
    const key = other.test.secretKey;
    for (const path of ['/v1/payment_intents', '/v1/charges', `/v1/payment_intents/search?query=${encodeURIComponent("status:'succeeded'")}`]) {
      const response = await api(gw, 'GET', path, { key });
      assert.deepEqual([response.status, response.body.data.length], [200, 0], path);
    }
    const cursor = await api(gw, 'GET', `/v1/payment_intents?starting_after=${mine.id}`, { key });
    assert.deepEqual([cursor.status, cursor.body.error.code], [400, 'resource_missing']);
    const borrowed = await api(gw, 'POST', '/v1/payment_intents', { key, json: { amount: 1, currency: 'cny', payment_method: mine.payment_method } });
    assert.deepEqual([borrowed.status, borrowed.body.error.param], [400, 'payment_method']);
  });

  it('keeps test and live mode apart within one account', async () => {
    const live = (await api(gw, 'POST', '/v1/payment_intents', { key: other.live.secretKey, json: { amount: 8, currency: 'gbp' } })).body;
    assert.equal(live.livemode, true);
    const fromTest = await api(gw, 'GET', `/v1/payment_intents/${live.id}`, { key: other.test.secretKey });
    assert.equal(fromTest.status, 404);
    const testList = await api(gw, 'GET', '/v1/payment_intents', { key: other.test.secretKey });
    assert.equal(testList.body.data.length, 0);
    const liveList = await api(gw, 'GET', '/v1/payment_intents', { key: other.live.secretKey });
    assert.deepEqual(liveList.body.data.map((p: { id: string }) => p.id), [live.id]);
  });
});
