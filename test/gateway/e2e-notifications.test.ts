import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KeyObject } from 'node:crypto';
import { formatDateTime, generateRsaKeyPair, loadPrivateKey, signedHeaders, verifySignedMessage } from '../../src/alipayplus/index.js';
import { NOTIFY_PATHS } from '../../src/gateway/connector/alipayplus/modes.js';
import { seedWebRequest } from '../support/gateway-server.js';
import {
  E2E_CLIENT_ID,
  attemptsOf,
  chargesOf,
  codeValueOf,
  eventTypesOf,
  payInWallet,
  retrieveIntent,
  sandboxPaymentIdsOf,
  startPaymentStack,
  waitForIntentStatus,
  waitUntil,
  type PaymentStack,
} from '../support/e2e-harness.js';
import { fixtureKeys } from '../support/keys.js';

const keys = fixtureKeys();
const NOTIFY_PATH = NOTIFY_PATHS.test;
const SUCCEEDED_EVENTS = ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded', 'charge.succeeded'];

interface NotifyAnswer {
  status: number;
  result: { resultCode: string; resultStatus: string; resultMessage: string };
  /** Whether the answer carries the gateway's valid signature for the notify path. */
  signedByGateway: boolean;
}

/** POSTs raw bytes to the gateway's notifyPayment endpoint, as Alipay+ (or a forger) would. */
async function postNotification(stack: PaymentStack, body: string, headers: Record<string, string>, path = NOTIFY_PATH): Promise<NotifyAnswer> {
  const response = await fetch(stack.gateway.url + path, { method: 'POST', headers: { 'content-type': 'application/json; charset=UTF-8', ...headers }, body });
  const text = await response.text();
  const verified = verifySignedMessage({
    kind: 'response',
    path,
    headers: response.headers,
    body: text,
    publicKeyFor: (clientId) => (clientId === E2E_CLIENT_ID ? keys.gatewayPublic : undefined),
  });
  return { status: response.status, result: (JSON.parse(text) as { result: NotifyAnswer['result'] }).result, signedByGateway: verified.ok };
}

/** Signs `body` as Alipay+ does (or with another key) and sends it. */
function sendSigned(stack: PaymentStack, body: string, options: { key?: KeyObject; clientId?: string; path?: string } = {}): Promise<NotifyAnswer> {
  const path = options.path ?? NOTIFY_PATH;
  const headers = signedHeaders({ kind: 'request', path, clientId: options.clientId ?? E2E_CLIENT_ID, body, privateKey: options.key ?? keys.alipayPrivate, nowMs: Date.now() });
  return postNotification(stack, body, { ...headers }, path);
}

/** A paid notifyPayment for `<pi>_1` as the sandbox would write it; fields overridable. */
function paidNotification(paymentIntentId: string, paymentId: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    paymentResult: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' },
    paymentRequestId: `${paymentIntentId}_1`,
    paymentId,
    paymentAmount: { currency: 'CNY', value: '20' },
    paymentTime: formatDateTime(Date.now()),
    customerId: '2088102146225135',
    walletBrandName: 'Alipay',
    ...overrides,
  });
}

describe('notifyPayment on the real path: duplicates, forgeries, wrong amounts, late arrivals', () => {
  let stack: PaymentStack;
  before(async () => {
    // No attempt worker: every outcome recorded here came from a notification, not an inquiry.
    stack = await startPaymentStack({ worker: false });
  });
  after(async () => {
    await stack.stop();
  });

  /** A WEB PaymentIntent waiting for the shopper, with its sandbox paymentId. */
  async function awaitingPayment() {
    const created = await stack.createPaymentIntent(seedWebRequest());
    assert.equal(created.body.status, 'requires_action', created.text);
    const [paymentId] = sandboxPaymentIdsOf(stack, created.body.id);
    assert.ok(paymentId);
    return { id: created.body.id as string, codeValue: codeValueOf(created.body), paymentId };
  }

  async function assertUnpaid(id: string, attemptStatus = 'pending', extraEvents: string[] = []) {
    const intent = await retrieveIntent(stack, id);
    assert.deepEqual([intent.status, intent.amount_received, intent.latest_charge], ['requires_action', 0, null]);
    assert.deepEqual(await chargesOf(stack, id), []);
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => a.status), [attemptStatus]);
    assert.deepEqual(await eventTypesOf(stack, id), ['payment_intent.created', 'payment_intent.requires_action', ...extraEvents]);
  }

  it('a duplicated notification (sandbox fault) → one Charge and one payment_intent.succeeded', async () => {
    const fault = await stack.control('POST', '/sandbox/v1/faults', { target: 'notifyPayment', kind: 'duplicate' });
    assert.equal(fault.status, 201, fault.text);
    const { id, codeValue, paymentId } = await awaitingPayment();
    assert.equal((await payInWallet(stack, { codeValue })).status, 200);
    await waitForIntentStatus(stack, id, 'succeeded');
    const notification = await waitUntil(async () => {
      const payment = await stack.control('GET', `/sandbox/v1/payments/${paymentId}`);
      const first = payment.body.notifications[0];
      return first?.status === 'acknowledged' && first.sends.length === 2 ? first : null;
    }, 'both copies to be acknowledged');
    assert.deepEqual(notification.sends.map((send: { outcome: string }) => send.outcome), ['acknowledged', 'acknowledged']);
    assert.equal((await chargesOf(stack, id)).length, 1);
    assert.deepEqual(await eventTypesOf(stack, id), SUCCEEDED_EVENTS);
  });

  it('ten concurrent copies of a genuine notification → still one Charge and one succeeded event', async () => {
    await stack.control('POST', '/sandbox/v1/faults', { target: 'notifyPayment', kind: 'drop' });
    const { id, codeValue, paymentId } = await awaitingPayment();
    assert.equal((await payInWallet(stack, { codeValue })).status, 200);
    const stored = await waitUntil(async () => (await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.notifications[0], 'the sandbox to queue the notification');
    const body = JSON.stringify(stored.body);
    const answers = await Promise.all(Array.from({ length: 10 }, () => sendSigned(stack, body)));
    for (const answer of answers) {
      assert.deepEqual([answer.status, answer.result.resultStatus, answer.result.resultCode, answer.signedByGateway], [200, 'S', 'SUCCESS', true]);
    }
    const intent = await retrieveIntent(stack, id);
    assert.deepEqual([intent.status, intent.amount_received], ['succeeded', 20]);
    const charges = await chargesOf(stack, id);
    assert.deepEqual(charges.map((c) => [c.amount, c.transaction_id, c.buyer_id]), [[20, paymentId, '2088102146225135']]);
    assert.deepEqual(await eventTypesOf(stack, id), SUCCEEDED_EVENTS);
  });

  it('forged notifications (another key, unsigned, tampered body, unknown client) → a signed refusal, nothing recorded', async () => {
    const { id, codeValue, paymentId } = await awaitingPayment();
    const body = paidNotification(id, paymentId);

    const wrongKey = await sendSigned(stack, body, { key: loadPrivateKey(generateRsaKeyPair().privateKey) });
    const gatewaysOwnKey = await sendSigned(stack, body, { key: keys.gatewayPrivate });
    const unsigned = await postNotification(stack, body, {});
    const noSignatureHeader = await postNotification(stack, body, { 'Client-Id': E2E_CLIENT_ID, 'Request-Time': formatDateTime(Date.now()) });
    const genuineHeaders = signedHeaders({ kind: 'request', path: NOTIFY_PATH, clientId: E2E_CLIENT_ID, body: paidNotification(id, paymentId, { paymentResult: { resultCode: 'PROCESS_FAIL', resultStatus: 'F', resultMessage: 'declined' } }), privateKey: keys.alipayPrivate, nowMs: Date.now() });
    const tampered = await postNotification(stack, body, { ...genuineHeaders });
    const otherPath = await sendSigned(stack, body, { path: NOTIFY_PATHS.live });
    for (const [name, answer] of Object.entries({ wrongKey, gatewaysOwnKey, unsigned, noSignatureHeader, tampered })) {
      assert.deepEqual([answer.status, answer.result.resultStatus, answer.result.resultCode], [200, 'F', 'INVALID_SIGNATURE'], name);
      assert.equal(answer.signedByGateway, true, `${name}: even a refusal is signed`);
    }
    const unknownClient = await sendSigned(stack, body, { clientId: '2026000000009999' });
    assert.deepEqual([unknownClient.result.resultStatus, unknownClient.result.resultCode], ['F', 'INVALID_CLIENT']);
    assert.equal(otherPath.status, 404, 'live mode has no Alipay+ endpoint in this gateway');
    await assertUnpaid(id);
    assert.equal((await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.status, 'PROCESSING');

    // The real payment still goes through afterwards.
    assert.equal((await payInWallet(stack, { codeValue })).status, 200);
    const paid = await waitForIntentStatus(stack, id, 'succeeded');
    assert.equal(paid.amount_received, 20);
  });

  it('a signed notification whose paymentId is not the one pay returned → refused, nothing recorded; the real one still counts', async () => {
    const { id, codeValue, paymentId } = await awaitingPayment();
    for (const result of [{ resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' }, { resultCode: 'ORDER_IS_CLOSED', resultStatus: 'F', resultMessage: 'closed' }]) {
      const answer = await sendSigned(stack, paidNotification(id, `${paymentId}9`, { paymentResult: result }));
      assert.deepEqual([answer.status, answer.result.resultStatus, answer.result.resultCode, answer.signedByGateway], [200, 'F', 'PARAM_ILLEGAL', true], result.resultStatus);
    }
    await assertUnpaid(id);
    assert.equal((await payInWallet(stack, { codeValue })).status, 200);
    const paid = await waitForIntentStatus(stack, id, 'succeeded');
    assert.equal((await chargesOf(stack, id))[0]?.transaction_id, paymentId);
    assert.equal(paid.amount_received, 20);
  });

  it('correctly signed but wrong amount, wrong currency, unknown id or not final → refused, never paid (a wrong amount: requires_attention)', async () => {
    const { id, paymentId } = await awaitingPayment();
    const cases: Record<string, [string, string]> = {
      lowerAmount: [paidNotification(id, paymentId, { paymentAmount: { currency: 'CNY', value: '2' } }), 'PARAM_ILLEGAL'],
      higherAmount: [paidNotification(id, paymentId, { paymentAmount: { currency: 'CNY', value: '2000' } }), 'PARAM_ILLEGAL'],
      otherCurrency: [paidNotification(id, paymentId, { paymentAmount: { currency: 'HKD', value: '20' } }), 'PARAM_ILLEGAL'],
      unknownRequestId: [paidNotification(id, paymentId, { paymentRequestId: `${id}_9` }), 'ORDER_NOT_EXIST'],
      notFinal: [paidNotification(id, paymentId, { paymentResult: { resultCode: 'PAYMENT_IN_PROCESS', resultStatus: 'U', resultMessage: 'in process' } }), 'PARAM_ILLEGAL'],
      noAmount: [paidNotification(id, paymentId, { paymentAmount: undefined }), 'PARAM_ILLEGAL'],
      notJson: ['{"paymentRequestId":', 'PARAM_ILLEGAL'],
    };
    for (const [name, [body, code]] of Object.entries(cases)) {
      const answer = await sendSigned(stack, body);
      assert.deepEqual([answer.status, answer.result.resultStatus, answer.result.resultCode, answer.signedByGateway], [200, 'F', code, true], name);
    }
    // A genuine (signed) report for another amount is nothing the gateway can decide: the attempt
    // stops at requires_attention for an operator, and the PaymentIntent is never paid by it.
    await assertUnpaid(id, 'requires_attention', ['payment_intent.requires_attention']);
  });

  it('a late notification after success is acknowledged (signed) and changes nothing', async () => {
    const { id, codeValue, paymentId } = await awaitingPayment();
    assert.equal((await payInWallet(stack, { codeValue })).status, 200);
    const paid = await waitForIntentStatus(stack, id, 'succeeded');
    const stored = await waitUntil(async () => {
      const first = (await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.notifications[0];
      return first?.status === 'acknowledged' ? first : null;
    }, 'the sandbox\'s notification to be acknowledged');

    const replay = await sendSigned(stack, JSON.stringify(stored.body));
    const lateFailure = await sendSigned(stack, paidNotification(id, paymentId, { paymentResult: { resultCode: 'ORDER_IS_CLOSED', resultStatus: 'F', resultMessage: 'closed' } }));
    for (const answer of [replay, lateFailure]) {
      assert.deepEqual([answer.status, answer.result, answer.signedByGateway], [200, { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' }, true]);
    }
    const after = await retrieveIntent(stack, id);
    assert.deepEqual([after.status, after.amount_received, after.latest_charge, after.last_payment_error], ['succeeded', 20, paid.latest_charge, null]);
    assert.equal((await chargesOf(stack, id)).length, 1);
    assert.deepEqual((await attemptsOf(stack, id)).map((a) => a.status), ['succeeded']);
    assert.deepEqual(await eventTypesOf(stack, id), SUCCEEDED_EVENTS);
  });
});
