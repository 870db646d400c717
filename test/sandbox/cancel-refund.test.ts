import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlipayPlusError, result, type RefundResponse } from '../../src/alipayplus/index.js';
import { SandboxHarness, START_MS, payRequest, uniqueId } from '../support/sandbox-harness.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** START_MS is 12:00 UTC+8, so the cancel window ends 12 h 15 min later, at 00:15 UTC+8 the next day. */
const CANCEL_WINDOW_MS = 12 * 60 * MINUTE_MS + 15 * MINUTE_MS;

const isF = (code: string) => (error: AlipayPlusError) => error.kind === 'F' && error.resultCode === code;

describe('sandbox cancel and refund', () => {
  let h: SandboxHarness;

  before(async () => {
    h = await SandboxHarness.start();
  });
  after(async () => {
    await h.close();
  });

  /** Creates a payment at START_MS and, unless `paid` is false, has alice pay it. */
  async function payment(options: { value?: string; paid?: boolean } = {}) {
    h.clock.set(START_MS);
    const request = payRequest({ value: options.value ?? '10000', settlementCurrency: 'GBP' });
    const created = await h.client.pay(request);
    if (options.paid !== false) assert.equal((await h.walletPay({ paymentId: created.paymentId, outcome: 'success' })).status, 200);
    return { paymentId: created.paymentId as string, paymentRequestId: request.paymentRequestId };
  }

  const refund = (paymentId: string, value: string, refundRequestId = uniqueId('refund')) =>
    h.client.refund({ refundRequestId, paymentId, refundAmount: { currency: 'CNY', value }, refundReason: 'returned' });

  describe('cancelPayment', () => {
    it('an unpaid payment cancels (S), closes, and can no longer be paid; a repeat cancel is S again', async () => {
      const { paymentId, paymentRequestId } = await payment({ paid: false });
      const cancelled = await h.client.cancelPayment({ paymentRequestId });
      assert.deepEqual(cancelled.result, result('SUCCESS'));
      assert.equal(cancelled.paymentId, paymentId);
      const inquiry = await h.client.inquiryPayment({ paymentId });
      assert.equal(inquiry.paymentResult?.resultStatus, 'F');
      assert.equal(inquiry.paymentResult?.resultCode, 'ORDER_IS_CLOSED');
      const pressed = await h.walletPay({ paymentId, outcome: 'success' });
      assert.equal(pressed.status, 409);
      assert.equal((await h.payment(paymentId)).status, 'CANCELLED');
      const again = await h.client.cancelPayment({ paymentId });
      assert.equal(again.cancelTime, cancelled.cancelTime);
    });

    it('a paid payment cancels within the window (one millisecond before 00:15 UTC+8 next day)', async () => {
      const { paymentId } = await payment();
      h.clock.advance(CANCEL_WINDOW_MS - 1);
      const cancelled = await h.client.cancelPayment({ paymentId });
      assert.equal(cancelled.result.resultStatus, 'S');
      const inquiry = await h.client.inquiryPayment({ paymentId });
      assert.equal(inquiry.paymentResult?.resultCode, 'ORDER_IS_CLOSED');
      await assert.rejects(refund(paymentId, '1'), isF('ORDER_IS_CLOSED'));
    });

    it('at 00:15 UTC+8 the next day it is F / CANCEL_WINDOW_EXCEED and the payment stays paid', async () => {
      const { paymentId } = await payment();
      h.clock.advance(CANCEL_WINDOW_MS);
      await assert.rejects(h.client.cancelPayment({ paymentId }), isF('CANCEL_WINDOW_EXCEED'));
      const inquiry = await h.client.inquiryPayment({ paymentId });
      assert.equal(inquiry.paymentResult?.resultStatus, 'S');
    });

    it('an unknown payment is F / ORDER_NOT_EXIST', async () => {
      await assert.rejects(h.client.cancelPayment({ paymentRequestId: uniqueId('nobody') }), isF('ORDER_NOT_EXIST'));
    });
  });

  describe('refund', () => {
    it('a partial refund succeeds with its settlement at the refund quote', async () => {
      const { paymentId } = await payment();
      const refunded = await refund(paymentId, '2000');
      assert.equal(refunded.result.resultStatus, 'S');
      assert.deepEqual(refunded.refundAmount, { currency: 'CNY', value: '2000' });
      // CNY→GBP mid 0.1090 with the 0.3% spread against the acquirer for refunds: 0.10932700; 2000 × that = 218.654 → 219.
      assert.deepEqual(refunded.settlementAmount, { currency: 'GBP', value: '219' });
      assert.equal(refunded.settlementQuote?.quotePrice, '0.10932700');
      assert.match(refunded.refundId as string, /^\d{28}$/);
      const state = await h.payment(paymentId);
      assert.deepEqual(state.refundedAmount, { currency: 'CNY', value: '2000' });
      assert.equal(state.refunds.length, 1);
      assert.equal(state.refunds[0].refundId, refunded.refundId);
    });

    it('several partial refunds are accepted while their total stays within the paid amount', async () => {
      const { paymentId } = await payment();
      await refund(paymentId, '2000');
      await refund(paymentId, '5000');
      await assert.rejects(refund(paymentId, '3001'), isF('REFUND_AMOUNT_EXCEED'));
      await refund(paymentId, '3000');
      await assert.rejects(refund(paymentId, '1'), isF('REFUND_AMOUNT_EXCEED'));
      const state = await h.payment(paymentId);
      assert.deepEqual(state.refundedAmount, { currency: 'CNY', value: '10000' });
      assert.deepEqual(state.refunds.map((r: { amount: { value: string } }) => r.amount.value), ['2000', '5000', '3000']);
    });

    it('a refund larger than the payment is F / REFUND_AMOUNT_EXCEED', async () => {
      const { paymentId } = await payment();
      await assert.rejects(refund(paymentId, '10001'), isF('REFUND_AMOUNT_EXCEED'));
      assert.deepEqual((await h.payment(paymentId)).refundedAmount.value, '0');
    });

    it('refunds are accepted for one year after payment, then F / REFUND_WINDOW_EXCEED', async () => {
      const { paymentId } = await payment();
      h.clock.advance(365 * DAY_MS + 1);
      await assert.rejects(refund(paymentId, '100'), isF('REFUND_WINDOW_EXCEED'));
      const second = await payment();
      h.clock.advance(365 * DAY_MS);
      assert.equal((await refund(second.paymentId, '100')).result.resultStatus, 'S');
    });

    it('a repeated refundRequestId returns the stored answer and refunds once', async () => {
      const { paymentId } = await payment();
      const id = uniqueId('refund');
      const first = await refund(paymentId, '4000', id);
      h.clock.advance(MINUTE_MS);
      const repeat = await refund(paymentId, '4000', id);
      assert.deepEqual(repeat, first);
      assert.equal((await h.payment(paymentId)).refundedAmount.value, '4000');
    });

    it('a refundRequestId reused with another amount is F / REPEAT_REQ_INCONSISTENT', async () => {
      const { paymentId } = await payment();
      const id = uniqueId('refund');
      await refund(paymentId, '4000', id);
      await assert.rejects(refund(paymentId, '4001', id), isF('REPEAT_REQ_INCONSISTENT'));
      assert.equal((await h.payment(paymentId)).refundedAmount.value, '4000');
    });

    it('an unpaid payment cannot be refunded; a refund in another currency is refused', async () => {
      const unpaid = await payment({ paid: false });
      await assert.rejects(refund(unpaid.paymentId, '1'), isF('ORDER_IS_CLOSED'));
      const paid = await payment();
      await assert.rejects(
        h.client.refund({ refundRequestId: uniqueId('refund'), paymentId: paid.paymentId, refundAmount: { currency: 'HKD', value: '1' } }),
        isF('CURRENCY_NOT_SUPPORT'),
      );
    });

    it('20 concurrent refunds of 1000 on a 10000 payment: exactly 10 succeed, the total never exceeds the amount', async () => {
      const { paymentId } = await payment();
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => refund(paymentId, '1000')));
      const succeeded = outcomes.filter((o): o is PromiseFulfilledResult<RefundResponse> => o.status === 'fulfilled');
      const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => ((o as PromiseRejectedResult).reason as AlipayPlusError).resultCode);
      assert.equal(succeeded.length, 10);
      assert.deepEqual(refused, Array(10).fill('REFUND_AMOUNT_EXCEED'));
      const state = await h.payment(paymentId);
      assert.equal(state.refundedAmount.value, '10000');
      assert.equal(state.refunds.length, 10);
    });

    it('20 concurrent repeats of one refundRequestId refund once', async () => {
      const { paymentId } = await payment();
      const id = uniqueId('refund');
      const responses = await Promise.all(Array.from({ length: 20 }, () => refund(paymentId, '1500', id)));
      assert.equal(new Set(responses.map((r) => r.refundId)).size, 1);
      assert.equal((await h.payment(paymentId)).refundedAmount.value, '1500');
    });
  });
});
