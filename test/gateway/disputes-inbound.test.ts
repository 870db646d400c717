import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateRsaKeyPair, loadPrivateKey } from '../../src/alipayplus/index.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import {
  balanceOf,
  disputeEventTypes,
  disputesOf,
  escalationBody,
  newMerchant,
  onlyDisputeOf,
  openAtSandbox,
  paidPayment,
  retrievalBody,
  sandboxDispute,
  sendSignedDisputeCall,
  type PaidPayment,
} from './disputes-support.js';

/**
 * The inbound dispute endpoints (alipayplus.md §7, disputes-design.md "The flow" 2): signature
 * first, then every fact against the stored payment; a signed answer always; duplicates change
 * nothing; nothing is recorded for a refused call.
 */
describe('inbound dispute calls: verification, checks, duplicates', () => {
  let stack: PaymentStack;
  let key: string;
  before(async () => {
    stack = await startPaymentStack();
    key = await newMerchant(stack, 'HKD');
  });
  after(async () => {
    await stack.stop();
  });

  async function nothingRecorded(payment: PaidPayment): Promise<void> {
    assert.deepEqual(await disputesOf(stack, key, payment.chargeId), []);
    const charge = await api(stack.gateway, 'GET', `/v1/charges/${payment.chargeId}`, { key });
    assert.equal(charge.body.disputed, false);
  }

  it('refuses forged or altered calls with a signed F and records nothing', async () => {
    const payment = await paidPayment(stack, key, 2000);
    const body = escalationBody(payment);
    const before = await balanceOf(stack, key);

    const otherKey = loadPrivateKey(generateRsaKeyPair().privateKey);
    const forged = await sendSignedDisputeCall(stack, 'initiateEscalation', body, { key: otherKey });
    assert.deepEqual([forged.status, forged.result.resultStatus, forged.result.resultCode, forged.signedByGateway], [200, 'F', 'INVALID_SIGNATURE', true]);

    const altered = await sendSignedDisputeCall(stack, 'initiateEscalation', body, { sentBody: body.replace('"2000"', '"1"') });
    assert.deepEqual([altered.result.resultStatus, altered.result.resultCode, altered.signedByGateway], ['F', 'INVALID_SIGNATURE', true]);

    const otherPath = await sendSignedDisputeCall(stack, 'initiateEscalation', body, { signedPath: '/alipayplus/test/disputes/initiateRetrieval' });
    assert.deepEqual([otherPath.result.resultStatus, otherPath.result.resultCode], ['F', 'INVALID_SIGNATURE'], 'a signature for another path does not verify');

    const stranger = await sendSignedDisputeCall(stack, 'initiateEscalation', body, { clientId: '9999000000000001' });
    assert.deepEqual([stranger.result.resultStatus, stranger.result.resultCode], ['F', 'INVALID_CLIENT']);

    await nothingRecorded(payment);
    assert.equal(await balanceOf(stack, key), before);

    const genuine = await sendSignedDisputeCall(stack, 'initiateEscalation', body);
    assert.deepEqual([genuine.result.resultStatus, genuine.result.resultCode, genuine.signedByGateway], ['S', 'SUCCESS', true], 'the same body, correctly signed, is recorded');
    assert.equal((await onlyDisputeOf(stack, key, payment.chargeId)).amount, 2000);
  });

  it('checks ids, currency and amount against the stored payment', async () => {
    const payment = await paidPayment(stack, key, 3000);
    const cases: [string, string, string, string][] = [
      ['unknown paymentRequestId', 'initiateEscalation', escalationBody({ ...payment, paymentRequestId: 'pi_0000000000000000000_1' }), 'ORDER_NOT_EXIST'],
      ['another paymentId', 'initiateEscalation', escalationBody({ ...payment, paymentId: '2026112999999999999' }), 'PARAM_ILLEGAL'],
      ['another currency', 'initiateEscalation', escalationBody(payment, { escalationAmount: { currency: 'USD', value: '100' } }), 'PARAM_ILLEGAL'],
      ['more than was paid', 'initiateEscalation', escalationBody(payment, { escalationAmount: { currency: 'CNY', value: '3001' } }), 'DISPUTE_AMOUNT_EXCEED'],
      ['no deadline', 'initiateRetrieval', retrievalBody(payment, { responseDeadline: undefined }), 'PARAM_ILLEGAL'],
      ['not JSON', 'initiateRetrieval', '{"disputeRequestId":', 'PARAM_ILLEGAL'],
    ];
    for (const [what, call, body, code] of cases) {
      const answer = await sendSignedDisputeCall(stack, call as 'initiateEscalation', body);
      assert.deepEqual([answer.result.resultStatus, answer.result.resultCode, answer.signedByGateway], ['F', code, true], what);
    }
    await nothingRecorded(payment);

    const unpaid = await api(stack.gateway, 'POST', '/v1/payment_intents', { key, json: { ...seedWebRequest(), amount: 500 } });
    assert.equal(unpaid.body.status, 'requires_action', unpaid.text);
    const notPaid = await sendSignedDisputeCall(stack, 'initiateRetrieval', retrievalBody({ ...payment, paymentRequestId: `${unpaid.body.id}_1` }));
    assert.equal(notPaid.result.resultCode, 'ORDER_NOT_EXIST', 'a payment not paid cannot be disputed');
  });

  it('a duplicate initiate changes nothing; the same disputeRequestId for other facts is REPEAT_REQ_INCONSISTENT', async () => {
    const payment = await paidPayment(stack, key, 4000);
    const other = await paidPayment(stack, key, 4000);
    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'escalation', amount: 1000 });
    assert.equal(opened.status, 201, opened.text);
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    const balance = await balanceOf(stack, key);

    const resent = await stack.control('POST', `/sandbox/v1/disputes/${opened.body.disputeId}/resend`, {});
    assert.equal(resent.status, 200, resent.text);
    assert.deepEqual(resent.body.deliveries.at(-1).ackStatus, 'S');
    assert.equal((await onlyDisputeOf(stack, key, payment.chargeId)).id, dispute.id);
    assert.equal(await balanceOf(stack, key), balance, 'no second withdrawal');
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn'], 'no second event');

    const moved = await stack.control('POST', `/sandbox/v1/disputes/${opened.body.disputeId}/resend`, { paymentRequestId: other.paymentRequestId });
    assert.equal(moved.status, 200, moved.text);
    assert.deepEqual([moved.body.deliveries.at(-1).ackStatus, moved.body.deliveries.at(-1).ackCode], ['F', 'REPEAT_REQ_INCONSISTENT']);
    assert.deepEqual(await disputesOf(stack, key, other.chargeId), []);

    // The same id with another amount, sent directly.
    const again = await sendSignedDisputeCall(stack, 'initiateEscalation', escalationBody(payment, { disputeRequestId: opened.body.disputeRequestId, escalationAmount: { currency: 'CNY', value: '999' } }));
    assert.equal(again.result.resultCode, 'REPEAT_REQ_INCONSISTENT');
    const asRetrieval = await sendSignedDisputeCall(stack, 'initiateRetrieval', retrievalBody(payment, { disputeRequestId: opened.body.disputeRequestId }));
    assert.equal(asRetrieval.result.resultCode, 'REPEAT_REQ_INCONSISTENT');
    assert.equal(await balanceOf(stack, key), balance);
  });

  it('applies a result once: repeated results are acknowledged, unknown disputes are ORDER_NOT_EXIST, contradictions refused', async () => {
    const payment = await paidPayment(stack, key, 2500);
    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'escalation' });
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    const result = (disputeResult: string, overrides: Record<string, unknown> = {}) =>
      JSON.stringify({ disputeRequestId: opened.body.disputeRequestId, paymentRequestId: payment.paymentRequestId, paymentId: payment.paymentId, disputeType: 'ESCALATION', disputeResult, resultTime: '2026-11-29T12:00:00+08:00', ...overrides });

    const unknown = await sendSignedDisputeCall(stack, 'notifyDisputeResult', result('MERCHANT_WON', { disputeRequestId: 'NO_SUCH_DISPUTE' }));
    assert.equal(unknown.result.resultCode, 'ORDER_NOT_EXIST');
    const wrongType = await sendSignedDisputeCall(stack, 'notifyDisputeResult', result('CLOSED', { disputeType: 'RETRIEVAL' }));
    assert.equal(wrongType.result.resultCode, 'PARAM_ILLEGAL');

    const before = await balanceOf(stack, key);
    const won = await sendSignedDisputeCall(stack, 'notifyDisputeResult', result('MERCHANT_WON'));
    assert.deepEqual([won.result.resultStatus, won.signedByGateway], ['S', true]);
    const twice = await sendSignedDisputeCall(stack, 'notifyDisputeResult', result('MERCHANT_WON'));
    assert.equal(twice.result.resultStatus, 'S', 'already applied: acknowledged again');
    assert.equal(await balanceOf(stack, key), before + (-dispute.balance_transactions[0].amount), 'reinstated once');
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.closed', 'charge.dispute.funds_reinstated']);

    const contradiction = await sendSignedDisputeCall(stack, 'notifyDisputeResult', result('MERCHANT_LOST'));
    assert.deepEqual([contradiction.result.resultStatus, contradiction.result.resultCode], ['F', 'PARAM_ILLEGAL']);
    assert.equal((await api(stack.gateway, 'GET', `/v1/disputes/${dispute.id}`, { key })).body.status, 'won');
    assert.equal((await sandboxDispute(stack, opened.body.disputeId)).state, 'OPEN', 'the results above were sent by the test, not the sandbox');
  });

  it('never lets escalations together exceed what is left after refunds', async () => {
    const payment = await paidPayment(stack, key, 5000);
    const refund = await api(stack.gateway, 'POST', '/v1/refunds', { key, json: { payment_intent: payment.paymentIntentId, amount: 2000 } });
    assert.equal(refund.body.status, 'succeeded', refund.text);
    const first = await sendSignedDisputeCall(stack, 'initiateEscalation', escalationBody(payment, { escalationAmount: { currency: 'CNY', value: '2000' } }));
    assert.equal(first.result.resultStatus, 'S');
    const over = await sendSignedDisputeCall(stack, 'initiateEscalation', escalationBody(payment, { escalationAmount: { currency: 'CNY', value: '1001' } }));
    assert.equal(over.result.resultCode, 'DISPUTE_AMOUNT_EXCEED');
    const fits = await sendSignedDisputeCall(stack, 'initiateEscalation', escalationBody(payment, { escalationAmount: { currency: 'CNY', value: '1000' } }));
    assert.equal(fits.result.resultStatus, 'S');
    const disputes = await disputesOf(stack, key, payment.chargeId);
    assert.deepEqual(disputes.map((d) => d.amount), [2000, 1000]);
    assert.equal(disputes[1].is_charge_refundable, false);
  });
});
