import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NotificationReceiver, SandboxHarness, START_MS, isoAt, payRequest, uniqueId, waitForNotificationStatus } from '../support/sandbox-harness.js';

const MINUTE_MS = 60_000;

describe('sandbox control API', () => {
  let h: SandboxHarness;
  let receiver: NotificationReceiver;

  before(async () => {
    receiver = await NotificationReceiver.start();
    h = await SandboxHarness.start();
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  async function expectError(response: Promise<{ status: number; body: any }>, status: number, code: string, param?: string) { // eslint-disable-line @typescript-eslint/no-explicit-any
    const { status: actual, body } = await response;
    assert.equal(actual, status, JSON.stringify(body));
    assert.equal(body.error.code, code, JSON.stringify(body));
    assert.equal(typeof body.error.message, 'string');
    if (param !== undefined) assert.equal(body.error.param, param, JSON.stringify(body));
  }

  describe('POST /sandbox/v1/wallet/pay', () => {
    it('rejects malformed bodies and fields with 400', async () => {
      const created = await h.client.pay(payRequest());
      const paymentId = created.paymentId;
      await expectError(h.walletPay('{"outcome": "success", ' as unknown as Record<string, unknown>), 400, 'invalid_json');
      await expectError(h.control('POST', '/sandbox/v1/wallet/pay'), 400, 'invalid_request');
      await expectError(h.walletPay([] as unknown as Record<string, unknown>), 400, 'invalid_request');
      await expectError(h.walletPay({ paymentId }), 400, 'invalid_request', 'outcome');
      await expectError(h.walletPay({ paymentId, outcome: 'maybe' }), 400, 'invalid_request', 'outcome');
      await expectError(h.walletPay({ outcome: 'success' }), 400, 'invalid_request', 'paymentId');
      await expectError(h.walletPay({ paymentId, codeValue: created.orderCodeForm?.codeDetails[0]?.codeValue, outcome: 'success' }), 400, 'invalid_request', 'paymentId');
      await expectError(h.walletPay({ paymentId: 5, outcome: 'success' }), 400, 'invalid_request', 'paymentId');
      await expectError(h.walletPay({ paymentId, outcome: 'success', amount: '1' }), 400, 'invalid_request', 'amount');
      await expectError(h.walletPay({ paymentId, outcome: 'success', shopper: 'mallory' }), 400, 'shopper_not_found', 'shopper');
      await expectError(h.walletPay({ paymentId, outcome: 'success', resultCode: 'RISK_REJECT' }), 400, 'invalid_request', 'resultCode');
      for (const resultCode of ['SUCCESS', 'PAYMENT_IN_PROCESS', 'NOT_A_CODE']) {
        await expectError(h.walletPay({ paymentId, outcome: 'decline', resultCode }), 400, 'invalid_result_code', 'resultCode');
      }
      assert.equal((await h.payment(paymentId as string)).status, 'PROCESSING', 'none of the bad requests touched the payment');
    });

    it('404 for an unknown payment or code, 409 once the payment is no longer in process', async () => {
      await expectError(h.walletPay({ paymentId: 'nope', outcome: 'success' }), 404, 'payment_not_found');
      await expectError(h.walletPay({ codeValue: '2816nope', outcome: 'success' }), 404, 'payment_not_found');
      const created = await h.client.pay(payRequest());
      assert.equal((await h.walletPay({ paymentId: created.paymentId, outcome: 'decline' })).status, 200);
      await expectError(h.walletPay({ paymentId: created.paymentId, outcome: 'success' }), 409, 'payment_not_in_process');
    });

    it('pays by codeValue and answers with the payment view and the redirect URL', async () => {
      const created = await h.client.pay(payRequest({ redirectUrl: 'https://shop.example/done?order=7' }));
      const response = await h.walletPay({ codeValue: created.orderCodeForm?.codeDetails[0]?.codeValue, outcome: 'success', shopper: 'henry' });
      assert.equal(response.status, 200);
      assert.equal(response.body.redirectUrl, 'https://shop.example/done?order=7');
      assert.equal(response.body.shopper, 'henry');
      assert.equal(response.body.payment.paymentId, created.paymentId);
      assert.equal(response.body.payment.walletBrand, 'ALIPAY_HK');
    });
  });

  describe('GET /sandbox/v1/payments/:paymentId', () => {
    it('shows the state, refunds and notification sends of a payment', async () => {
      h.clock.set(START_MS);
      const request = payRequest({ value: '5000', settlementCurrency: 'EUR', notifyUrl: receiver.url() });
      const created = await h.client.pay(request);
      const paymentId = created.paymentId as string;
      const fresh = await h.payment(paymentId);
      assert.deepEqual(
        [fresh.status, fresh.resultCode, fresh.paidAt, fresh.settlementAmount, fresh.notifications],
        ['PROCESSING', null, null, null, []],
      );
      h.clock.advance(MINUTE_MS);
      await h.walletPay({ paymentId, outcome: 'success' });
      const refund = await h.client.refund({ refundRequestId: uniqueId('refund'), paymentId, refundAmount: { currency: 'CNY', value: '1200' } });
      const state = await waitForNotificationStatus(h, paymentId, 'acknowledged');
      assert.equal(state.paymentRequestId, request.paymentRequestId);
      assert.equal(state.status, 'SUCCESS');
      assert.equal(state.resultCode, 'SUCCESS');
      assert.deepEqual(state.amount, { currency: 'CNY', value: '5000' });
      assert.equal(state.terminalType, 'WEB');
      assert.equal(state.urls.normalUrl, created.normalUrl);
      assert.equal(state.urls.paymentNotifyUrl, receiver.url());
      assert.equal(state.createdAt, isoAt(START_MS));
      assert.equal(state.expiresAt, isoAt(START_MS + 14 * MINUTE_MS));
      assert.equal(state.paidAt, isoAt(START_MS + MINUTE_MS));
      assert.equal(state.customerId, '2088102146225135');
      assert.equal(state.walletBrand, 'ALIPAY_CN');
      // CNY→EUR: 0.1290 × 0.997 = 0.128613; 5000 × that = 643.065 → 643.
      assert.deepEqual(state.settlementAmount, { currency: 'EUR', value: '643' });
      assert.equal(state.settlementQuote.quotePrice, '0.12861300');
      assert.deepEqual(state.refundedAmount, { currency: 'CNY', value: '1200' });
      assert.equal(state.refunds.length, 1);
      assert.equal(state.refunds[0].refundId, refund.refundId);
      assert.deepEqual(state.refunds[0].amount, { currency: 'CNY', value: '1200' });
      const [notification] = state.notifications;
      assert.equal(notification.url, receiver.url());
      assert.equal(notification.body.paymentId, paymentId);
      assert.equal(notification.sends.length, 1);
      assert.deepEqual(Object.keys(notification.sends[0]).sort(), ['detail', 'httpStatus', 'nextSendAt', 'outcome', 'sentAt']);
    });

    it('applies due expiry before answering', async () => {
      h.clock.set(START_MS);
      const created = await h.client.pay(payRequest());
      h.clock.advance(14 * MINUTE_MS);
      const state = await h.payment(created.paymentId as string);
      assert.deepEqual([state.status, state.resultCode, state.closedAt], ['FAIL', 'ORDER_IS_CLOSED', isoAt(START_MS + 14 * MINUTE_MS)]);
    });

    it('404 for an unknown payment', async () => {
      await expectError(h.control('GET', '/sandbox/v1/payments/20261126000000000000'), 404, 'payment_not_found');
      await expectError(h.control('GET', `/sandbox/v1/payments/${'9'.repeat(80)}`), 404, 'payment_not_found');
    });
  });

  describe('/sandbox/v1/faults', () => {
    it('adds faults with the documented defaults and lists and clears them', async () => {
      await h.control('DELETE', '/sandbox/v1/faults');
      const timeout = await h.addFault({ target: 'pay', kind: 'timeout' });
      assert.equal(timeout.status, 201);
      assert.deepEqual([timeout.body.target, timeout.body.kind, timeout.body.remaining, timeout.body.delayMs], ['pay', 'timeout', 1, 12_000]);
      const delay = await h.addFault({ target: 'notifyPayment', kind: 'delay', count: 3 });
      assert.deepEqual([delay.body.remaining, delay.body.delayMs], [3, 2000]);
      const drop = await h.addFault({ target: 'notifyPayment', kind: 'drop', count: 1000 });
      assert.deepEqual([drop.body.remaining, drop.body.delayMs], [1000, 0]);
      const custom = await h.addFault({ target: 'refund', kind: 'timeout', delayMs: 0 });
      assert.equal(custom.body.delayMs, 0);
      const listed = await h.control('GET', '/sandbox/v1/faults');
      assert.deepEqual(listed.body.faults.map((f: { kind: string }) => f.kind), ['timeout', 'delay', 'drop', 'timeout']);
      const cleared = await h.control('DELETE', '/sandbox/v1/faults');
      assert.deepEqual([cleared.status, cleared.body.cleared], [200, 4]);
      assert.deepEqual((await h.control('GET', '/sandbox/v1/faults')).body.faults, []);
    });

    it('rejects invalid faults with 400 and adds nothing', async () => {
      const cases: Array<[unknown, string]> = [
        [{ target: 'payments', kind: 'unknown' }, 'target'],
        [{ kind: 'unknown' }, 'target'],
        [{ target: 'pay' }, 'kind'],
        [{ target: 'pay', kind: 'explode' }, 'kind'],
        [{ target: 'pay', kind: 'drop' }, 'kind'],
        [{ target: 'notifyPayment', kind: 'timeout' }, 'kind'],
        [{ target: 'refund', kind: 'unknown', count: 0 }, 'count'],
        [{ target: 'refund', kind: 'unknown', count: 1001 }, 'count'],
        [{ target: 'refund', kind: 'unknown', count: 1.5 }, 'count'],
        [{ target: 'refund', kind: 'unknown', count: '2' }, 'count'],
        [{ target: 'refund', kind: 'timeout', delayMs: -1 }, 'delayMs'],
        [{ target: 'refund', kind: 'timeout', delayMs: 120_001 }, 'delayMs'],
        [{ target: 'refund', kind: 'unknown', delayMs: 10 }, 'delayMs'],
        [{ target: 'refund', kind: 'unknown', times: 2 }, 'times'],
      ];
      for (const [body, param] of cases) await expectError(h.addFault(body as Record<string, unknown>), 400, 'invalid_request', param);
      await expectError(h.control('POST', '/sandbox/v1/faults', '{"target":'), 400, 'invalid_json');
      assert.deepEqual((await h.control('GET', '/sandbox/v1/faults')).body.faults, []);
    });
  });

  it('GET /sandbox/v1/shoppers lists the test shoppers and what Pay does for each', async () => {
    const response = await h.control('GET', '/sandbox/v1/shoppers');
    assert.equal(response.status, 200);
    const byId = Object.fromEntries(response.body.shoppers.map((s: { id: string; payResultCode: string; walletBrand: string }) => [s.id, [s.payResultCode, s.walletBrand]]));
    assert.deepEqual(byId, {
      alice: ['SUCCESS', 'ALIPAY_CN'],
      henry: ['SUCCESS', 'ALIPAY_HK'],
      bob: ['USER_BALANCE_NOT_ENOUGH', 'ALIPAY_CN'],
      carol: ['RISK_REJECT', 'ALIPAY_CN'],
    });
  });

  it('an unknown control route is a JSON 404', async () => {
    await expectError(h.control('GET', '/sandbox/v1/nothing'), 404, 'not_found');
  });
});
