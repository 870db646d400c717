import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlipayPlusClient } from '../../src/alipayplus/index.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import {
  E2E_CLIENT_ID,
  attemptsOf,
  chargesOf,
  codeValueOf,
  eventTypesOf,
  payInWallet,
  sandboxPaymentIdsOf,
  startPaymentStack,
  waitForIntentStatus,
  type PaymentStack,
} from '../support/e2e-harness.js';
import { fixtureKeys } from '../support/keys.js';
import { payRequest } from '../support/sandbox-harness.js';

const keys = fixtureKeys();

describe('declines: the shopper\'s wallet says no, then a second attempt pays', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack();
  });
  after(async () => {
    await stack.stop();
  });

  /** Declined in the wallet → requires_payment_method with the code; re-confirm → `<pi>_2` → alice pays. */
  async function declineThenPay(decide: (codeValue: string) => Promise<void>, declineCode: string) {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), amount: 4321 });
    assert.equal(created.body.status, 'requires_action', created.text);
    const id = created.body.id;
    await decide(codeValueOf(created.body));

    const failed = await waitForIntentStatus(stack, id, 'requires_payment_method');
    assert.deepEqual(
      [failed.last_payment_error.type, failed.last_payment_error.code, failed.last_payment_error.decline_code],
      ['card_error', 'payment_intent_payment_attempt_failed', declineCode],
    );
    assert.equal(failed.last_payment_error.payment_method.id, failed.payment_method);
    assert.deepEqual([failed.next_action, failed.latest_charge, failed.amount_received], [null, null, 0]);
    assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.payment_failed']);
    assert.deepEqual(await chargesOf(stack, id), []);
    const [firstPayment] = sandboxPaymentIdsOf(stack, id);
    const closed = await stack.control('GET', `/sandbox/v1/payments/${firstPayment}`);
    assert.deepEqual([closed.body.status, closed.body.resultCode], ['FAIL', declineCode]);

    const again = await api(stack.gateway, 'POST', `/v1/payment_intents/${id}/confirm`, { key: stack.gateway.secretKey, json: {} });
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.status, 'requires_action');
    const attempts = await attemptsOf(stack, id);
    assert.deepEqual(attempts.map((a) => [a.payment_request_id, a.status, a.failure_code]), [[`${id}_1`, 'failed', declineCode], [`${id}_2`, 'pending', null]]);
    const secondPayment = await stack.control('GET', `/sandbox/v1/payments/${attempts[1]?.external_payment_id}`);
    assert.deepEqual([secondPayment.body.paymentRequestId, secondPayment.body.status], [`${id}_2`, 'PROCESSING']);
    assert.notEqual(attempts[1]?.external_payment_id, firstPayment, 'a new attempt is a new payment at Alipay+');

    const paid = await payInWallet(stack, { codeValue: codeValueOf(again.body), shopper: 'alice' });
    assert.equal(paid.status, 200, paid.text);
    const succeeded = await waitForIntentStatus(stack, id, 'succeeded');
    assert.deepEqual([succeeded.amount_received, succeeded.last_payment_error], [4321, null]);
    const charges = await chargesOf(stack, id);
    assert.deepEqual(charges.map((c) => [c.amount, c.transaction_id, c.payment_attempt_id]), [[4321, attempts[1]?.external_payment_id, attempts[1]?.id]]);
    assert.deepEqual((await eventTypesOf(stack, id)).slice(3), ['payment_intent.requires_action', 'payment_intent.succeeded', 'charge.succeeded']);
  }

  it('bob has too little balance: USER_BALANCE_NOT_ENOUGH', async () => {
    await declineThenPay(async (codeValue) => {
      const paid = await payInWallet(stack, { codeValue, shopper: 'bob' });
      assert.deepEqual([paid.status, paid.body.payment.status, paid.body.payment.resultCode], [200, 'FAIL', 'USER_BALANCE_NOT_ENOUGH']);
    }, 'USER_BALANCE_NOT_ENOUGH');
  });

  it('carol is refused by risk control: RISK_REJECT', async () => {
    await declineThenPay(async (codeValue) => {
      const paid = await payInWallet(stack, { codeValue, shopper: 'carol' });
      assert.equal(paid.status, 200, paid.text);
    }, 'RISK_REJECT');
  });

  it('the shopper presses Decline on the wallet page: PROCESS_FAIL', async () => {
    await declineThenPay(async (codeValue) => {
      const response = await fetch(`${stack.sandbox.url()}/wallet/order`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ codeValue, shopper: 'alice', action: 'decline' }).toString(),
        redirect: 'manual',
      });
      assert.equal(response.status, 200, 'a decline stays on the wallet page');
      assert.match(await response.text(), /Payment failed/);
    }, 'PROCESS_FAIL');
  });

  it('Decline with a chosen result code through the control API', async () => {
    await declineThenPay(async (codeValue) => {
      const declined = await payInWallet(stack, { codeValue, outcome: 'decline', resultCode: 'USER_AMOUNT_EXCEED_LIMIT' });
      assert.equal(declined.status, 200, declined.text);
    }, 'USER_AMOUNT_EXCEED_LIMIT');
  });
});

describe('pay-time declines: Alipay+ answers F to the pay call', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack();
  });
  after(async () => {
    await stack.stop();
  });

  it('F / REPEAT_REQ_INCONSISTENT → 402 card_error with decline_code and the PaymentIntent; the next attempt pays', async () => {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), confirm: false });
    assert.equal(created.body.status, 'requires_confirmation', created.text);
    const id = created.body.id;
    // Alipay+ already holds `<pi>_1` with other key fields (another amount): it must refuse the gateway's pay.
    const client = new AlipayPlusClient({ baseUrl: stack.sandbox.url(), clientId: E2E_CLIENT_ID, privateKey: keys.gatewayPrivatePem, alipayPublicKey: keys.alipayPublicPem });
    try {
      const preexisting = await client.pay(payRequest({ paymentRequestId: `${id}_1`, value: '999' }));
      assert.equal(preexisting.result.resultCode, 'PAYMENT_IN_PROCESS');
    } finally {
      await client.close();
    }
    assert.equal(sandboxPaymentIdsOf(stack, id).length, 1);

    const confirmed = await api(stack.gateway, 'POST', `/v1/payment_intents/${id}/confirm`, { key: stack.gateway.secretKey, json: {} });
    assert.equal(confirmed.status, 402, confirmed.text);
    const error = confirmed.body.error;
    assert.deepEqual([error.type, error.code, error.decline_code], ['card_error', 'payment_intent_payment_attempt_failed', 'REPEAT_REQ_INCONSISTENT']);
    assert.match(error.message, /paymentRequestId/);
    assert.deepEqual([error.payment_intent.id, error.payment_intent.status], [id, 'requires_payment_method']);
    assert.equal(error.payment_intent.last_payment_error.decline_code, 'REPEAT_REQ_INCONSISTENT');
    assert.equal(confirmed.headers.get('stripe-should-retry'), 'false');
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => [a.status, a.failure_code]), [['failed', 'REPEAT_REQ_INCONSISTENT']]);
    assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.payment_failed']);
    assert.equal(sandboxPaymentIdsOf(stack, id).length, 1, 'the refused pay created nothing');

    const again = await api(stack.gateway, 'POST', `/v1/payment_intents/${id}/confirm`, { key: stack.gateway.secretKey, json: {} });
    assert.equal(again.status, 200, again.text);
    const paid = await payInWallet(stack, { codeValue: codeValueOf(again.body) });
    assert.deepEqual([paid.status, paid.body.payment.paymentRequestId, paid.body.payment.amount.value], [200, `${id}_2`, '20']);
    const succeeded = await waitForIntentStatus(stack, id, 'succeeded');
    assert.equal(succeeded.amount_received, 20);
  });

  it('F / INVALID_SIGNATURE from a sandbox that holds the wrong gateway key → 402, and nothing created there', async () => {
    const misconfigured = await startPaymentStack({ sandboxClients: { [E2E_CLIENT_ID]: keys.alipayPublicPem } });
    try {
      const created = await misconfigured.createPaymentIntent(seedWebRequest());
      assert.equal(created.status, 402, created.text);
      assert.deepEqual([created.body.error.type, created.body.error.decline_code], ['card_error', 'INVALID_SIGNATURE']);
      const id = created.body.error.payment_intent.id;
      assert.match(id, /^pi_\d{19}$/);
      const intent = await api(misconfigured.gateway, 'GET', `/v1/payment_intents/${id}`, { key: misconfigured.gateway.secretKey });
      assert.deepEqual([intent.body.status, intent.body.last_payment_error.decline_code], ['requires_payment_method', 'INVALID_SIGNATURE']);
      assert.deepEqual(sandboxPaymentIdsOf(misconfigured, id), []);
    } finally {
      await misconfigured.stop();
    }
  });
});
