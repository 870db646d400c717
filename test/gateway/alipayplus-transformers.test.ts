import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlipayPlusError, result, type PayResponse } from '../../src/alipayplus/index.js';
import type { ConnectorPayRequest } from '../../src/gateway/connector/types.js';
import {
  ATTEMPT_TTL_MS,
  fromCancelError,
  fromInquiry,
  fromNotification,
  fromPayError,
  fromPayResponse,
  toPayRequest,
} from '../../src/gateway/connector/alipayplus/transformers.js';

const CREATED_MS = Date.UTC(2026, 10, 26, 4, 0, 0);
const attempt: ConnectorPayRequest = {
  accountId: 'acct_1',
  livemode: false,
  paymentIntentId: 'pi_1666729870215872512',
  attemptId: 'pa_1',
  paymentRequestId: 'pi_1666729870215872512_1',
  amountMinor: 20,
  currency: 'CNY',
  terminalType: 'WEB',
  osType: 'IOS',
  clientIp: '192.168.0.1',
  returnUrl: 'https://wooshpay.com',
  description: null,
  merchantOrderId: null,
  merchantUserId: null,
  merchantName: 'Tea Shop',
  settlementCurrency: 'GBP',
  createdAtMs: CREATED_MS,
};
const context = { notifyUrl: 'http://gw/notify', redirectUrl: 'http://gw/return/pi_1' };

describe('toPayRequest', () => {
  it('maps an attempt to a cashier pay with string amounts, env, URLs and a 14-minute expiry', () => {
    const request = toPayRequest(attempt, context);
    assert.equal(request.paymentRequestId, 'pi_1666729870215872512_1');
    assert.deepEqual(request.paymentAmount, { currency: 'CNY', value: '20' });
    assert.deepEqual(request.order.orderAmount, { currency: 'CNY', value: '20' });
    assert.deepEqual(request.order.env, { terminalType: 'WEB', osType: 'IOS', clientIp: '192.168.0.1' });
    assert.deepEqual(request.order.merchant, { referenceMerchantId: 'acct_1', merchantName: 'Tea Shop' });
    assert.equal(request.order.referenceOrderId, attempt.paymentIntentId);
    assert.deepEqual(request.paymentMethod, { paymentMethodType: 'ALIPAY_CN' });
    assert.deepEqual(request.paymentFactor, { isCashierPayment: 'true' });
    assert.equal(request.paymentNotifyUrl, 'http://gw/notify');
    assert.equal(request.paymentRedirectUrl, 'http://gw/return/pi_1');
    assert.equal(request.paymentExpiryTime, '2026-11-26T12:14:00+08:00');
    assert.deepEqual(request.settlementStrategy, { settlementCurrency: 'GBP' });
  });

  it('uses merchant_order_id as the order reference and omits absent optional fields', () => {
    const request = toPayRequest({ ...attempt, merchantOrderId: 'order-9', osType: null, clientIp: null, description: 'x'.repeat(300), merchantName: null }, context);
    assert.equal(request.order.referenceOrderId, 'order-9');
    assert.deepEqual(request.order.env, { terminalType: 'WEB' });
    assert.equal(request.order.orderDescription.length, 256);
    assert.equal('merchantName' in request.order.merchant, false);
  });
});

describe('fromPayResponse', () => {
  const inProcess = result('PAYMENT_IN_PROCESS');
  it('WEB: cashier URL and QR code value with its expiry', () => {
    const response: PayResponse = {
      result: inProcess,
      paymentId: '2026112600001',
      normalUrl: 'http://sandbox/checkout.htm?codeValue=2816abc',
      orderCodeForm: { codeDetails: [{ codeValue: '2816abc', displayType: 'TEXT' }], expireTime: '2026-11-26T12:14:00+08:00' },
    };
    assert.deepEqual(fromPayResponse(attempt, response), {
      kind: 'requires_action',
      redirectUrl: 'http://sandbox/checkout.htm?codeValue=2816abc',
      nativeUrl: null,
      qrCode: { data: '2816abc', expiresAtMs: CREATED_MS + ATTEMPT_TTL_MS },
      externalPaymentId: '2026112600001',
      expiresAtMs: CREATED_MS + ATTEMPT_TTL_MS,
    });
  });

  it('APP: the app link launcher as url and the scheme as native_url; WAP: the H5 page', () => {
    const response: PayResponse = { result: inProcess, paymentId: 'p', normalUrl: 'http://h5', applinkUrl: 'http://applink', schemeUrl: 'alipays://x' };
    const app = fromPayResponse({ ...attempt, terminalType: 'APP' }, response);
    assert.equal(app.kind === 'requires_action' && app.redirectUrl, 'http://applink');
    assert.equal(app.kind === 'requires_action' && app.nativeUrl, 'alipays://x');
    assert.equal(app.kind === 'requires_action' && app.qrCode, null);
    const wap = fromPayResponse({ ...attempt, terminalType: 'WAP' }, response);
    assert.equal(wap.kind === 'requires_action' && wap.redirectUrl, 'http://h5');
    assert.equal(wap.kind === 'requires_action' && wap.nativeUrl, 'http://applink');
  });

  it('an order without any URL is not actionable: unknown', () => {
    assert.equal(fromPayResponse(attempt, { result: inProcess, paymentId: 'p' }).kind, 'unknown');
  });
});

describe('errors', () => {
  it('F is a decline carrying the Alipay+ result code; U and transport are unknown', () => {
    const declined = fromPayError(new AlipayPlusError('F', 'CURRENCY_NOT_SUPPORT', 'x', { result: result('CURRENCY_NOT_SUPPORT', 'no JPY') }));
    assert.deepEqual(declined, { kind: 'declined', declineCode: 'CURRENCY_NOT_SUPPORT', message: 'no JPY' });
    assert.equal(fromPayError(new AlipayPlusError('U', 'UNKNOWN_EXCEPTION', 'u')).kind, 'unknown');
    assert.equal(fromPayError(new AlipayPlusError('transport', 'TIMEOUT', 't')).kind, 'unknown');
    assert.equal(fromPayError(new Error('boom')).kind, 'unknown');
  });

  it('cancel: CANCEL_WINDOW_EXCEED is not_canceled, ORDER_NOT_EXIST counts as canceled, U is unknown', () => {
    assert.equal(fromCancelError(new AlipayPlusError('F', 'CANCEL_WINDOW_EXCEED', 'late')).kind, 'not_canceled');
    assert.equal(fromCancelError(new AlipayPlusError('F', 'ORDER_NOT_EXIST', 'none')).kind, 'canceled');
    assert.equal(fromCancelError(new AlipayPlusError('U', 'UNKNOWN_EXCEPTION', 'u')).kind, 'unknown');
  });
});

describe('notifications and inquiries', () => {
  const expected = { paymentRequestId: 'pi_1_1', currency: 'CNY', amountMinor: 20 };
  const paid = {
    paymentResult: result('SUCCESS'),
    paymentRequestId: 'pi_1_1',
    paymentId: '2026112600001',
    paymentAmount: { currency: 'CNY', value: '20' },
    paymentTime: '2026-11-26T12:05:00+08:00',
    customerId: '2088102146225135',
    walletBrandName: 'Alipay',
    settlementAmount: { currency: 'GBP', value: '2' },
  };

  it('a matching S notification is a success with buyer, wallet, time and settlement', () => {
    const check = fromNotification(paid, expected);
    assert.ok(check.ok && check.outcome.kind === 'succeeded');
    assert.equal(check.outcome.buyerId, '2088102146225135');
    assert.equal(check.outcome.wallet, 'Alipay');
    assert.equal(check.outcome.paidAtMs, Date.UTC(2026, 10, 26, 4, 5, 0));
    assert.deepEqual(check.outcome.settlement, { currency: 'GBP', amountMinor: 2, quote: null });
  });

  it('a wrong amount, currency or request id is never a success', () => {
    assert.equal(fromNotification({ ...paid, paymentAmount: { currency: 'CNY', value: '2' } }, expected).ok, false);
    assert.equal(fromNotification({ ...paid, paymentAmount: { currency: 'HKD', value: '20' } }, expected).ok, false);
    assert.equal(fromNotification({ ...paid, paymentRequestId: 'pi_2_1' }, expected).ok, false);
  });

  it('F is a failure with its code; an inquiry with U is still pending', () => {
    const failed = fromNotification({ ...paid, paymentResult: result('USER_BALANCE_NOT_ENOUGH') }, expected);
    assert.ok(failed.ok && failed.outcome.kind === 'failed' && failed.outcome.code === 'USER_BALANCE_NOT_ENOUGH');
    const pending = fromInquiry({ result: result('SUCCESS'), paymentResult: result('PAYMENT_IN_PROCESS') }, expected);
    assert.deepEqual(pending, { ok: true, outcome: { kind: 'pending' } });
  });
});
