import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatDateTime, signedHeaders } from '../../src/alipayplus/index.js';
import { NOTIFY_PATHS } from '../../src/gateway/connector/alipayplus/modes.js';
import { createApiKeys, createIdGenerator } from '../../src/gateway/index.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import {
  E2E_CLIENT_ID,
  attemptsOf,
  codeValueOf,
  payInWallet,
  retrieveIntent,
  sandboxPaymentIdsOf,
  startPaymentStack,
  waitForIntentStatus,
  type PaymentStack,
} from '../support/e2e-harness.js';
import { fixtureKeys } from '../support/keys.js';

describe('isolation on the real payment path: accounts and modes', () => {
  let stack: PaymentStack;
  let other: Awaited<ReturnType<PaymentStack['gateway']['newAccount']>>;
  let live: { secretKey: string; publishableKey: string };
  let awaiting: { id: string; client_secret: string; codeValue: string };
  let paid: { id: string; latest_charge: string; payment_method: string };

  before(async () => {
    stack = await startPaymentStack();
    other = await stack.gateway.newAccount();
    live = await createApiKeys(stack.gateway.database.db, stack.gateway.clock, createIdGenerator(stack.gateway.clock), stack.gateway.accountId, true);
    const first = await stack.createPaymentIntent(seedWebRequest());
    awaiting = { id: first.body.id, client_secret: first.body.client_secret, codeValue: codeValueOf(first.body) };
    const second = await stack.createPaymentIntent(seedWebRequest());
    assert.equal((await payInWallet(stack, { codeValue: codeValueOf(second.body) })).status, 200);
    paid = await waitForIntentStatus(stack, second.body.id, 'succeeded');
  });
  after(async () => {
    await stack.stop();
  });

  const call = (method: string, path: string, key: string, json?: unknown) => api(stack.gateway, method, path, { key, ...(json === undefined ? {} : { json }) });

  /** Every way of reaching another scope's objects is a 404, and nothing moved at the gateway or at Alipay+. */
  async function assertCannotTouch(secretKey: string, publishableKey: string) {
    const attempts = {
      retrieve: await call('GET', `/v1/payment_intents/${awaiting.id}`, secretKey),
      retrieveWithSecret: await call('GET', `/v1/payment_intents/${awaiting.id}?client_secret=${awaiting.client_secret}`, publishableKey),
      confirm: await call('POST', `/v1/payment_intents/${awaiting.id}/confirm`, secretKey, { return_url: 'https://evil.test' }),
      confirmWithSecret: await call('POST', `/v1/payment_intents/${awaiting.id}/confirm`, publishableKey, { client_secret: awaiting.client_secret }),
      cancel: await call('POST', `/v1/payment_intents/${awaiting.id}/cancel`, secretKey, {}),
      update: await call('POST', `/v1/payment_intents/${awaiting.id}`, secretKey, { metadata: { hijack: '1' } }),
      retrievePaid: await call('GET', `/v1/payment_intents/${paid.id}`, secretKey),
      charge: await call('GET', `/v1/charges/${paid.latest_charge}`, secretKey),
      paymentMethod: await call('GET', `/v1/payment_methods/${paid.payment_method}`, secretKey),
    };
    for (const [name, response] of Object.entries(attempts)) assert.deepEqual([response.status, response.body.error?.code], [404, 'resource_missing'], name);
    const listed = await call('GET', '/v1/payment_intents?limit=100', secretKey);
    assert.ok(!listed.body.data.some((pi: { id: string }) => pi.id === awaiting.id || pi.id === paid.id), 'not listed');
    const charges = await call('GET', '/v1/charges?limit=100', secretKey);
    assert.ok(!charges.body.data.some((charge: { id: string }) => charge.id === paid.latest_charge), 'charge not listed');

    const intent = await retrieveIntent(stack, awaiting.id);
    assert.deepEqual([intent.status, intent.metadata, intent.return_url], ['requires_action', {}, 'https://wooshpay.com']);
    assert.deepEqual((await attemptsOf(stack, awaiting.id)).map((a) => a.status), ['pending'], 'no second attempt, no cancel');
    const [paymentId] = sandboxPaymentIdsOf(stack, awaiting.id);
    assert.equal((await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.status, 'PROCESSING');
  }

  it("another account's keys cannot retrieve, confirm, cancel or update the PaymentIntent (404)", async () => {
    await assertCannotTouch(other.test.secretKey, other.test.publishableKey);
    await assertCannotTouch(other.live.secretKey, other.live.publishableKey);
  });

  it("the same account's live keys do not see test objects", async () => {
    await assertCannotTouch(live.secretKey, live.publishableKey);
  });

  it('a live PaymentIntent stays in live mode: no Alipay+ endpoint, no sandbox payment, invisible to test keys', async () => {
    const created = await call('POST', '/v1/payment_intents', live.secretKey, seedWebRequest());
    assert.equal(created.status, 402, created.text);
    assert.deepEqual([created.body.error.type, created.body.error.decline_code], ['card_error', 'MERCHANT_NOT_REGISTERED']);
    const id = created.body.error.payment_intent.id;
    assert.equal(created.body.error.payment_intent.livemode, true);
    assert.deepEqual(sandboxPaymentIdsOf(stack, id), [], 'live payments never reach the sandbox');
    assert.equal((await call('GET', `/v1/payment_intents/${id}`, stack.gateway.secretKey)).status, 404);
    assert.equal((await call('GET', `/v1/payment_intents/${id}`, live.secretKey)).body.status, 'requires_payment_method');

    // A notification on the test path naming a live attempt is not this mode's: refused, not recorded.
    const keys = fixtureKeys();
    const body = JSON.stringify({
      paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
      paymentRequestId: `${id}_1`,
      paymentId: '20261126000000000000000000000001',
      paymentAmount: { currency: 'CNY', value: '20' },
      paymentTime: formatDateTime(Date.now()),
    });
    const headers = signedHeaders({ kind: 'request', path: NOTIFY_PATHS.test, clientId: E2E_CLIENT_ID, body, privateKey: keys.alipayPrivate, nowMs: Date.now() });
    const answer = await fetch(stack.gateway.url + NOTIFY_PATHS.test, { method: 'POST', headers: { ...headers }, body });
    const result = ((await answer.json()) as { result: { resultStatus: string; resultCode: string } }).result;
    assert.deepEqual([result.resultStatus, result.resultCode], ['F', 'ORDER_NOT_EXIST']);
    assert.equal((await call('GET', `/v1/payment_intents/${id}`, live.secretKey)).body.status, 'requires_payment_method');
  });
});
