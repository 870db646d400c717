import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AlipayPlusError } from '../../src/alipayplus/index.js';
import { SandboxHarness, START_MS, payRequest, uniqueId } from '../support/sandbox-harness.js';
import { DisputeReceiver, disputeControls } from './dispute-receiver.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const isError = (kind: string, code: string) => (error: AlipayPlusError) => error.kind === kind && error.resultCode === code;

/** The Alipay+ limits on disputes, each with its error, and the refund API's share of the same amount. */
describe('sandbox disputes: limits', () => {
  let h: SandboxHarness;
  let acquirer: DisputeReceiver;
  const { paidPayment, open, judge } = disputeControls(() => h, () => acquirer);

  before(async () => {
    acquirer = await DisputeReceiver.start();
    h = await SandboxHarness.start({ notifier: { autoStart: false, sendTimeoutMs: 500 } });
  });
  beforeEach(() => {
    h.clock.set(START_MS);
    acquirer.reset();
  });
  after(async () => {
    await h.close();
    await acquirer.close();
  });


  const refused = (response: { status: number; body: { error?: { code: string } } }) => [response.status, response.body.error?.code];
  const refund = (paymentId: string, value: string) => h.client.refund({ refundRequestId: uniqueId('refund'), paymentId, refundAmount: { currency: 'CNY', value } });

  it('only a paid payment can be disputed (409 PAYMENT_NOT_PAID); an unknown one is 404; nothing is sent', async () => {
    const created = await h.client.pay(payRequest({ notifyUrl: acquirer.notifyUrl() }));
    const callsBefore = acquirer.calls.length;
    assert.deepEqual(refused(await open(created.paymentId as string, { type: 'retrieval' })), [409, 'PAYMENT_NOT_PAID']);
    await h.walletPay({ paymentId: created.paymentId, outcome: 'decline' });
    assert.deepEqual(refused(await open(created.paymentId as string, { type: 'escalation' })), [409, 'PAYMENT_NOT_PAID']);
    assert.deepEqual(refused(await open('20261126000000000000000000', { type: 'retrieval' })), [404, 'PAYMENT_NOT_FOUND']);
    assert.equal(acquirer.calls.length, callsBefore);
  });

  it('bad input is 400 PARAM_ILLEGAL naming the field', async () => {
    const { paymentId } = await paidPayment();
    const cases: Array<[unknown, string | undefined]> = [
      [{ type: 'refund' }, 'type'],
      [{}, 'type'],
      [{ type: 'retrieval', amount: 100 }, 'amount'],
      [{ type: 'escalation', amount: 0 }, 'amount'],
      [{ type: 'escalation', amount: 1.5 }, 'amount'],
      [{ type: 'escalation', amount: '100' }, 'amount'],
      [{ type: 'retrieval', dueInDays: 'soon' }, 'dueInDays'],
      [{ type: 'retrieval', reasonCode: 'no spaces please' }, 'reasonCode'],
      [{ type: 'retrieval', colour: 'red' }, 'colour'],
      ['not json', undefined],
    ];
    for (const [body, param] of cases) {
      const response = await open(paymentId, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(response.body.error.code, 'PARAM_ILLEGAL');
      assert.equal(response.body.error.param, param, JSON.stringify(body));
    }
    assert.equal((await h.payment(paymentId)).disputes.length, 0);
  });

  it('360 days after payment: the last day is allowed, a millisecond later is 409 DISPUTE_WINDOW_EXCEEDED', async () => {
    const first = await paidPayment();
    const second = await paidPayment();
    h.clock.set(START_MS + 360 * DAY_MS);
    assert.equal((await open(first.paymentId, { type: 'retrieval' })).status, 201);
    h.clock.advance(1);
    assert.deepEqual(refused(await open(second.paymentId, { type: 'escalation' })), [409, 'DISPUTE_WINDOW_EXCEEDED']);
  });

  it('retrievals: one ongoing at a time (409 DISPUTE_ONGOING), at most 5 per payment (409 RETRIEVAL_LIMIT_EXCEEDED); rejected ones do not count', async () => {
    const { paymentId } = await paidPayment();
    const first = (await open(paymentId, { type: 'retrieval' })).body;
    assert.deepEqual(refused(await open(paymentId, { type: 'retrieval' })), [409, 'DISPUTE_ONGOING']);
    // An escalation is another type: it may run beside the retrieval.
    assert.equal((await open(paymentId, { type: 'escalation', amount: 100 })).status, 201);
    assert.equal((await judge(first.disputeId, 'closed')).status, 200);
    // A past-due one is EXPIRED, no longer ongoing.
    const expired = (await open(paymentId, { type: 'retrieval', dueInDays: -1 })).body;
    assert.equal((await h.control('GET', `/sandbox/v1/disputes/${expired.disputeId}`)).body.state, 'EXPIRED');
    acquirer.plan({ kind: 'result', code: 'ORDER_NOT_EXIST' });
    assert.equal((await open(paymentId, { type: 'retrieval' })).body.state, 'REJECTED');
    for (let i = 0; i < 3; i++) {
      const next = await open(paymentId, { type: 'retrieval' });
      assert.equal(next.status, 201);
      assert.equal((await judge(next.body.disputeId, 'closed')).status, 200);
    }
    assert.deepEqual(refused(await open(paymentId, { type: 'retrieval' })), [409, 'RETRIEVAL_LIMIT_EXCEEDED']);
    const states = (await h.payment(paymentId)).disputes.filter((d: { type: string }) => d.type === 'RETRIEVAL').map((d: { state: string }) => d.state);
    assert.deepEqual(states, ['CLOSED', 'EXPIRED', 'REJECTED', 'CLOSED', 'CLOSED', 'CLOSED']);
  });

  it('escalations: one ongoing, at most 2, each within paid − refunded − escalated (409 DISPUTE_AMOUNT_EXCEED)', async () => {
    const { paymentId } = await paidPayment('10000');
    assert.deepEqual(refused(await open(paymentId, { type: 'escalation', amount: 10001 })), [409, 'DISPUTE_AMOUNT_EXCEED']);
    await refund(paymentId, '2000');
    const first = (await open(paymentId, { type: 'escalation', amount: 3000 })).body;
    assert.deepEqual(refused(await open(paymentId, { type: 'escalation', amount: 1 })), [409, 'DISPUTE_ONGOING']);
    assert.equal((await judge(first.disputeId, 'lost')).status, 200);
    // Lost: the 3000 stays withdrawn, so 10000 − 2000 refunded − 3000 remains.
    assert.deepEqual(refused(await open(paymentId, { type: 'escalation', amount: 5001 })), [409, 'DISPUTE_AMOUNT_EXCEED']);
    const second = await open(paymentId, { type: 'escalation' });
    assert.deepEqual([second.status, second.body.amount], [201, { currency: 'CNY', value: '5000' }]);
    assert.equal((await judge(second.body.disputeId, 'won')).status, 200);
    assert.deepEqual(refused(await open(paymentId, { type: 'escalation', amount: 100 })), [409, 'ESCALATION_LIMIT_EXCEEDED']);
  });

  it('nothing left to dispute after a full refund: 409 DISPUTE_AMOUNT_EXCEED', async () => {
    const { paymentId } = await paidPayment('3000');
    await refund(paymentId, '3000');
    assert.deepEqual(refused(await open(paymentId, { type: 'escalation' })), [409, 'DISPUTE_AMOUNT_EXCEED']);
    assert.equal((await open(paymentId, { type: 'retrieval' })).status, 201, 'a retrieval moves no money');
  });

  it('the refund API refuses a refund over paid − refunded − escalated (F REFUND_AMOUNT_EXCEED) until the escalation is won', async () => {
    const { paymentId } = await paidPayment('10000');
    const escalation = (await open(paymentId, { type: 'escalation', amount: 6000 })).body;
    await assert.rejects(refund(paymentId, '4001'), isError('F', 'REFUND_AMOUNT_EXCEED'));
    assert.equal((await refund(paymentId, '4000')).result.resultCode, 'SUCCESS');
    await assert.rejects(refund(paymentId, '1'), isError('F', 'REFUND_AMOUNT_EXCEED'));
    assert.equal((await judge(escalation.disputeId, 'won')).status, 200);
    assert.equal((await refund(paymentId, '6000')).result.resultCode, 'SUCCESS');
    const payment = await h.payment(paymentId);
    assert.deepEqual(payment.refundedAmount, { currency: 'CNY', value: '10000' });
    assert.deepEqual(refused(await open(paymentId, { type: 'escalation' })), [409, 'DISPUTE_AMOUNT_EXCEED']);
  });

  it('the payment view lists its disputes; unknown disputes are 404; judge validates its outcome', async () => {
    const { paymentId } = await paidPayment();
    const dispute = (await open(paymentId, { type: 'escalation', reasonCode: 'FRAUD', reasonMessage: '<b>not me</b>' })).body;
    const payment = await h.payment(paymentId);
    assert.deepEqual(payment.disputes, [dispute]);
    assert.deepEqual(refused(await h.control('GET', '/sandbox/v1/disputes/DSP404')), [404, 'DISPUTE_NOT_FOUND']);
    assert.deepEqual(refused(await judge('DSP404', 'won')), [404, 'DISPUTE_NOT_FOUND']);
    assert.deepEqual(refused(await judge(dispute.disputeId, 'draw')), [400, 'PARAM_ILLEGAL']);
  });

  it('a payment without a paymentNotifyUrl cannot be disputed: there is nowhere to send it (409 PAYMENT_NOT_NOTIFIABLE)', async () => {
    const created = await h.client.pay(payRequest());
    await h.walletPay({ paymentId: created.paymentId, outcome: 'success' });
    assert.deepEqual(refused(await open(created.paymentId as string, { type: 'retrieval' })), [409, 'PAYMENT_NOT_NOTIFIABLE']);
  });
});
