import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlipayPlusError, result, type PayResponse } from '../../src/alipayplus/index.js';
import { NotificationReceiver, SandboxHarness, START_MS, isoAt, payRequest, waitForNotificationStatus } from '../support/sandbox-harness.js';

const MINUTE_MS = 60_000;
const ALICE = '2088102146225135';

describe('sandbox payment flow over HTTP', () => {
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

  it('WEB: pay returns the cashier URL and code; the wallet pays; a signed notification arrives; inquiry says S', async () => {
    const request = payRequest({ notifyUrl: receiver.url(), value: '12345', settlementCurrency: 'GBP' });
    const created = await h.client.pay(request);
    assert.deepEqual(created.result, result('PAYMENT_IN_PROCESS', 'payment in process'));
    assert.equal(created.paymentRequestId, request.paymentRequestId);
    assert.deepEqual(created.paymentAmount, { currency: 'CNY', value: '12345' });
    assert.equal(created.paymentCreateTime, isoAt(h.clock.now()));
    const code = created.orderCodeForm?.codeDetails[0]?.codeValue as string;
    assert.match(code, /^2816[A-Za-z0-9]{32}$/);
    assert.equal(created.orderCodeForm?.codeDetails[0]?.displayType, 'TEXT');
    assert.equal(created.orderCodeForm?.expireTime, isoAt(h.clock.now() + 14 * MINUTE_MS));
    assert.equal(created.normalUrl, `${h.url}/api/open/v1/ac/cashier/self/codevalue/checkout.htm?codeValue=${encodeURIComponent(code)}`);
    assert.equal(created.applinkUrl, undefined);

    const pressed = await h.walletPay({ codeValue: code, outcome: 'success' });
    assert.equal(pressed.status, 200);
    assert.equal(pressed.body.payment.status, 'SUCCESS');
    assert.equal(pressed.body.redirectUrl, 'https://shop.example/return');

    const [notification] = await receiver.waitFor(created.paymentId as string);
    assert.ok(notification);
    assert.equal(notification.verified, true, 'notification signed with the sandbox key');
    assert.equal(notification.path, '/alipayplus/notify');
    const body = notification.body;
    assert.deepEqual(body.paymentResult, result('SUCCESS'));
    assert.equal(body.paymentRequestId, request.paymentRequestId);
    assert.equal(body.paymentId, created.paymentId);
    assert.deepEqual(body.paymentAmount, { currency: 'CNY', value: '12345' });
    assert.deepEqual(body.settlementAmount, { currency: 'GBP', value: '1342' });
    assert.equal(body.settlementQuote?.quoteCurrencyPair, 'CNY/GBP');
    assert.equal(body.settlementQuote?.quotePrice, '0.10867300');
    assert.equal(body.customerId, ALICE);
    assert.equal(body.walletBrandName, 'Alipay');
    assert.equal(body.paymentTime, isoAt(h.clock.now()));

    const inquiry = await h.client.inquiryPayment({ paymentRequestId: request.paymentRequestId });
    assert.deepEqual(inquiry.paymentResult, result('SUCCESS'));
    assert.equal(inquiry.paymentId, created.paymentId);
    assert.deepEqual(inquiry.settlementAmount, { currency: 'GBP', value: '1342' });
    assert.deepEqual(inquiry.settlementQuote, body.settlementQuote);
    assert.equal(inquiry.customerId, ALICE);

    const state = await waitForNotificationStatus(h, created.paymentId as string, 'acknowledged');
    assert.equal(state.notifications[0].sends[0].outcome, 'acknowledged');
    assert.equal(state.notifications[0].sends[0].httpStatus, 200);
  });

  for (const osType of ['IOS', 'ANDROID'] as const) {
    for (const terminalType of ['WAP', 'APP'] as const) {
      it(`${terminalType}/${osType}: pay returns wallet links; an AlipayHK shopper pays by paymentId`, async () => {
        const created = await h.client.pay(payRequest({ terminalType, osType, notifyUrl: receiver.url(), settlementCurrency: 'HKD', paymentMethodType: 'ALIPAY_HK' }));
        const schemeUrl = created.schemeUrl as string;
        assert.match(schemeUrl, /^alipays:\/\/platformapi\/startApp\?/);
        const code = new URL(created.normalUrl as string).searchParams.get('codeValue') as string;
        assert.equal(created.normalUrl, `${h.url}/wallet/order?codeValue=${code}`);
        assert.ok(schemeUrl.includes(encodeURIComponent(code)));
        assert.equal(created.applinkUrl, `${h.url}/p/s/i/?scheme=${encodeURIComponent(schemeUrl)}`);
        assert.equal(created.appIdentifier, osType === 'IOS' ? 'com.alipay.iphoneclient' : 'com.eg.android.AlipayGphone');
        assert.equal(created.orderCodeForm, undefined);

        const pressed = await h.walletPay({ paymentId: created.paymentId, outcome: 'success', shopper: 'henry' });
        assert.equal(pressed.status, 200);
        const [notification] = await receiver.waitFor(created.paymentId as string);
        assert.equal(notification?.verified, true);
        assert.deepEqual(notification?.body.paymentResult, result('SUCCESS'));
        assert.equal(notification?.body.walletBrandName, 'AlipayHK');
        assert.equal(notification?.body.pspId, 'ALIPAY_HK');
        assert.deepEqual(notification?.body.settlementAmount, { currency: 'HKD', value: '13354' });
        const inquiry = await h.client.inquiryPayment({ paymentId: created.paymentId });
        assert.equal(inquiry.paymentResult?.resultStatus, 'S');
      });
    }
  }

  const declines = [
    { shopper: 'bob', outcome: 'success', code: 'USER_BALANCE_NOT_ENOUGH' },
    { shopper: 'carol', outcome: 'success', code: 'RISK_REJECT' },
    { shopper: 'alice', outcome: 'decline', code: 'PROCESS_FAIL' },
    { shopper: 'alice', outcome: 'decline', resultCode: 'USER_AMOUNT_EXCEED_LIMIT', code: 'USER_AMOUNT_EXCEED_LIMIT' },
  ];
  for (const decline of declines) {
    it(`decline: ${decline.shopper} pressing ${decline.outcome} ends F / ${decline.code}, notified, and cannot pay again`, async () => {
      const created = await h.client.pay(payRequest({ notifyUrl: receiver.url() }));
      const wallet = { paymentId: created.paymentId, outcome: decline.outcome, shopper: decline.shopper, ...(decline.resultCode ? { resultCode: decline.resultCode } : {}) };
      const pressed = await h.walletPay(wallet);
      assert.equal(pressed.status, 200);
      assert.equal(pressed.body.payment.status, 'FAIL');
      assert.equal(pressed.body.payment.resultCode, decline.code);
      const [notification] = await receiver.waitFor(created.paymentId as string);
      assert.equal(notification?.verified, true);
      assert.equal(notification?.body.paymentResult.resultStatus, 'F');
      assert.equal(notification?.body.paymentResult.resultCode, decline.code);
      assert.equal(notification?.body.settlementAmount, undefined);
      const inquiry = await h.client.inquiryPayment({ paymentId: created.paymentId });
      assert.deepEqual(inquiry.paymentResult, result(decline.code as 'RISK_REJECT'));
      const again = await h.walletPay({ paymentId: created.paymentId, outcome: 'success' });
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'payment_not_in_process');
    });
  }

  it('expiry (default 14 minutes): the payment closes F / ORDER_IS_CLOSED on the clock, is notified, and the wallet can no longer pay', async () => {
    const created = await h.client.pay(payRequest({ notifyUrl: receiver.url() }));
    h.clock.advance(14 * MINUTE_MS - 1);
    const before = await h.client.inquiryPayment({ paymentId: created.paymentId });
    assert.deepEqual(before.paymentResult, result('PAYMENT_IN_PROCESS', 'payment in process'));
    h.clock.advance(1);
    // No read here: the notifier's own loop closes the payment and notifies.
    const [notification] = await receiver.waitFor(created.paymentId as string);
    assert.deepEqual(notification?.body.paymentResult, result('ORDER_IS_CLOSED'));
    const after = await h.client.inquiryPayment({ paymentId: created.paymentId });
    assert.deepEqual(after.paymentResult, result('ORDER_IS_CLOSED'));
    const pressed = await h.walletPay({ paymentId: created.paymentId, outcome: 'success' });
    assert.equal(pressed.status, 409);
    const state = await h.payment(created.paymentId as string);
    assert.equal(state.status, 'FAIL');
    assert.equal(state.closedAt, isoAt(createdAtOf(created) + 14 * MINUTE_MS));
  });

  it('expiry (explicit paymentExpiryTime): closes at that time, not at 14 minutes', async () => {
    const expiresAt = h.clock.now() + 3 * MINUTE_MS;
    const created = await h.client.pay(payRequest({ notifyUrl: receiver.url(), expiryTime: isoAt(expiresAt) }));
    assert.equal(created.paymentExpiryTime, isoAt(expiresAt));
    assert.equal(created.orderCodeForm?.expireTime, isoAt(expiresAt));
    h.clock.advance(3 * MINUTE_MS);
    const inquiry = await h.client.inquiryPayment({ paymentId: created.paymentId });
    assert.deepEqual(inquiry.paymentResult, result('ORDER_IS_CLOSED'));
    const [notification] = await receiver.waitFor(created.paymentId as string);
    assert.equal(notification?.body.paymentResult.resultCode, 'ORDER_IS_CLOSED');
    const pressed = await h.walletPay({ codeValue: created.orderCodeForm?.codeDetails[0]?.codeValue, outcome: 'success' });
    assert.equal(pressed.status, 409);
  });

  it('a repeat of the same pay request returns the same response and creates nothing new', async () => {
    const request = payRequest();
    const first = await h.client.pay(request);
    const repeat = await h.client.pay(request);
    assert.deepEqual(repeat, first);
    // orderDescription is not a key field: changing it still gets the stored answer.
    const reworded = await h.client.pay({ ...request, order: { ...request.order, orderDescription: 'other words' } });
    assert.equal(reworded.paymentId, first.paymentId);
  });

  const inconsistent: Array<[string, (request: ReturnType<typeof payRequest>) => void]> = [
    ['paymentAmount.value', (r) => (r.paymentAmount = { currency: 'CNY', value: '12346' })],
    ['paymentAmount.currency', (r) => (r.paymentAmount = { currency: 'HKD', value: r.paymentAmount.value })],
    ['settlementStrategy', (r) => (r.settlementStrategy = { settlementCurrency: 'EUR' })],
    ['paymentMethod', (r) => (r.paymentMethod = { paymentMethodType: 'ALIPAY_HK' })],
  ];
  for (const [field, change] of inconsistent) {
    it(`a repeat with another ${field} is F / REPEAT_REQ_INCONSISTENT and leaves the payment as it was`, async () => {
      const request = payRequest();
      const first = await h.client.pay(request);
      const changed = structuredClone(request);
      change(changed);
      await assert.rejects(h.client.pay(changed), (error: AlipayPlusError) => error.kind === 'F' && error.resultCode === 'REPEAT_REQ_INCONSISTENT');
      const inquiry = await h.client.inquiryPayment({ paymentRequestId: request.paymentRequestId });
      assert.equal(inquiry.paymentId, first.paymentId);
      assert.deepEqual(inquiry.paymentAmount, first.paymentAmount);
    });
  }
});

/** The payment's creation time, read back from its pay response. */
function createdAtOf(created: PayResponse): number {
  const ms = Date.parse(created.paymentCreateTime as string);
  assert.ok(ms >= START_MS);
  return ms;
}
