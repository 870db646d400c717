import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AlipayPlusError, API_PATHS, signedHeaders } from '../../src/alipayplus/index.js';
import { CLIENT_ID, SandboxHarness, keys, payRequest, rawPost, uniqueId } from '../support/sandbox-harness.js';

/** [payment currency, settlement currency, settlement of 123.45, quoted price] per the rate table with its 0.3% spread. */
const SETTLEMENTS: Array<[string, string, string, string]> = [
  ['CNY', 'GBP', '1342', '0.10867300'],
  ['CNY', 'HKD', '13354', '1.08174500'],
  ['CNY', 'EUR', '1588', '0.12861300'],
  ['USD', 'GBP', '9723', '0.78763000'],
  ['USD', 'HKD', '96002', '7.77660000'],
  ['USD', 'EUR', '11446', '0.92721000'],
  ['GBP', 'GBP', '12345', '1.00000000'],
  ['GBP', 'HKD', '121603', '9.85036000'],
  ['GBP', 'EUR', '14400', '1.16649000'],
  ['EUR', 'GBP', '10462', '0.84745000'],
  ['EUR', 'HKD', '103387', '8.37480000'],
  ['EUR', 'EUR', '12345', '1.00000000'],
  ['HKD', 'GBP', '1243', '0.10069700'],
  ['HKD', 'HKD', '12345', '1.00000000'],
  ['HKD', 'EUR', '1465', '0.11864300'],
];

describe('sandbox protocol input checks', () => {
  let h: SandboxHarness;
  const paymentCount = () => (h.sandbox.context.db.prepare('SELECT COUNT(*) AS n FROM payments').get() as { n: number }).n;

  before(async () => {
    h = await SandboxHarness.start();
  });
  after(async () => {
    await h.close();
  });

  for (const [currency, settlementCurrency, expected, price] of SETTLEMENTS) {
    it(`${currency} settled in ${settlementCurrency}: 12345 minor units settle as ${expected} at ${price}`, async () => {
      const created = await h.client.pay(payRequest({ currency, value: '12345', settlementCurrency }));
      assert.deepEqual(created.paymentAmount, { currency, value: '12345' });
      assert.equal((await h.walletPay({ paymentId: created.paymentId, outcome: 'success' })).status, 200);
      const inquiry = await h.client.inquiryPayment({ paymentId: created.paymentId });
      assert.deepEqual(inquiry.settlementAmount, { currency: settlementCurrency, value: expected });
      assert.equal(inquiry.settlementQuote?.quoteCurrencyPair, `${currency}/${settlementCurrency}`);
      assert.equal(inquiry.settlementQuote?.quotePrice, price);
    });
  }

  const unsupported: Array<[string, Parameters<typeof payRequest>[0]]> = [
    ['payment currency JPY', { currency: 'JPY' }],
    ['payment currency XYZ', { currency: 'XYZ' }],
    ['settlement currency USD', { settlementCurrency: 'USD' }],
    ['settlement currency CNY', { settlementCurrency: 'CNY' }],
  ];
  for (const [what, options] of unsupported) {
    it(`${what} is F / CURRENCY_NOT_SUPPORT and writes no payment`, async () => {
      const before = paymentCount();
      const request = payRequest(options);
      await assert.rejects(h.client.pay(request), (error: AlipayPlusError) => error.kind === 'F' && error.resultCode === 'CURRENCY_NOT_SUPPORT');
      assert.equal(paymentCount(), before);
      await assert.rejects(h.client.inquiryPayment({ paymentRequestId: request.paymentRequestId }), (error: AlipayPlusError) => error.resultCode === 'ORDER_NOT_EXIST');
    });
  }

  const validBody = () => payRequest() as unknown as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const badBodies: Array<[string, () => string]> = [
    ['malformed JSON', () => '{"paymentRequestId":"x",'],
    ['a JSON array', () => '[]'],
    ['an empty body', () => ''],
    ['missing paymentRequestId', () => JSON.stringify({ ...validBody(), paymentRequestId: undefined })],
    ['missing paymentAmount', () => JSON.stringify({ ...validBody(), paymentAmount: undefined })],
    ['missing order.env', () => { const b = validBody(); delete b.order.env; return JSON.stringify(b); }],
    ['paymentRequestId as a number', () => JSON.stringify({ ...validBody(), paymentRequestId: 42 })],
    ['paymentAmount.value as a number', () => JSON.stringify({ ...validBody(), paymentAmount: { currency: 'CNY', value: 20 } })],
    ['amount "-1"', () => JSON.stringify({ ...validBody(), paymentAmount: { currency: 'CNY', value: '-1' } })],
    ['amount "1.5"', () => JSON.stringify({ ...validBody(), paymentAmount: { currency: 'CNY', value: '1.5' } })],
    ['amount "01"', () => JSON.stringify({ ...validBody(), paymentAmount: { currency: 'CNY', value: '01' } })],
    ['amount ""', () => JSON.stringify({ ...validBody(), paymentAmount: { currency: 'CNY', value: '' } })],
    ['amount "0"', () => JSON.stringify({ ...validBody(), paymentAmount: { currency: 'CNY', value: '0' } })],
    ['amount beyond 2^53', () => JSON.stringify({ ...validBody(), paymentAmount: { currency: 'CNY', value: '99999999999999999' } })],
    ['terminalType PC', () => { const b = validBody(); b.order.env.terminalType = 'PC'; return JSON.stringify(b); }],
    ['WAP without osType', () => { const b = validBody(); b.order.env = { terminalType: 'WAP' }; return JSON.stringify(b); }],
    ['paymentMethodType WECHAT', () => JSON.stringify({ ...validBody(), paymentMethod: { paymentMethodType: 'WECHAT' } })],
    ['paymentExpiryTime without offset', () => JSON.stringify({ ...validBody(), paymentExpiryTime: '2026-11-26 12:30:00' })],
    ['paymentExpiryTime in the past', () => JSON.stringify({ ...validBody(), paymentExpiryTime: '2020-01-01T00:00:00+08:00' })],
    ['paymentNotifyUrl not http(s)', () => JSON.stringify({ ...validBody(), paymentNotifyUrl: 'ftp://x.example/n' })],
    ['paymentRequestId of 65 characters', () => JSON.stringify({ ...validBody(), paymentRequestId: 'p'.repeat(65) })],
    ['a body over 1 MiB', () => JSON.stringify({ ...validBody(), order: { ...validBody().order, orderDescription: 'x'.repeat(1024 * 1024) } })],
  ];
  for (const [what, body] of badBodies) {
    it(`pay with ${what} → signed F / PARAM_ILLEGAL, no payment written`, async () => {
      const before = paymentCount();
      const response = await h.signedPost(API_PATHS.pay, body());
      assert.equal(response.status, 200);
      assert.equal(response.signedByAlipay, true, 'the F answer is signed');
      assert.deepEqual([response.json?.result?.resultStatus, response.json?.result?.resultCode], ['F', 'PARAM_ILLEGAL'], response.text);
      assert.equal(paymentCount(), before);
    });
  }

  it('refund and inquiry bodies are checked too: missing refundRequestId, bad amount, no payment reference', async () => {
    for (const [path, body] of [
      [API_PATHS.refund, { paymentId: 'x', refundAmount: { currency: 'CNY', value: '1' } }],
      [API_PATHS.refund, { refundRequestId: 'r', paymentId: 'x', refundAmount: { currency: 'CNY', value: '1.0' } }],
      [API_PATHS.refund, { refundRequestId: 'r', refundAmount: { currency: 'CNY', value: '1' } }],
      [API_PATHS.inquiryPayment, {}],
      [API_PATHS.cancelPayment, { paymentId: 7 }],
    ] as const) {
      const response = await h.signedPost(path, JSON.stringify(body));
      assert.equal(response.signedByAlipay, true);
      assert.equal(response.json.result.resultCode, 'PARAM_ILLEGAL', `${path} ${JSON.stringify(body)}`);
    }
  });

  describe('signatures', () => {
    const body = () => JSON.stringify(payRequest());

    it('a validly signed request is accepted (the control case for the checks below)', async () => {
      const response = await h.signedPost(API_PATHS.pay, body());
      assert.equal(response.signedByAlipay, true);
      assert.equal(response.json.result.resultCode, 'PAYMENT_IN_PROCESS');
    });

    it('a body altered after signing → F / INVALID_SIGNATURE, signed, nothing written', async () => {
      const before = paymentCount();
      const original = body();
      const headers = signedHeaders({ kind: 'request', path: API_PATHS.pay, clientId: CLIENT_ID, body: original, privateKey: keys.gatewayPrivate, nowMs: h.clock.now() });
      const response = await rawPost(h.url + API_PATHS.pay, original.replace('"12345"', '"1"'), { ...headers });
      assert.equal(response.signedByAlipay, true);
      assert.deepEqual([response.json.result.resultStatus, response.json.result.resultCode], ['F', 'INVALID_SIGNATURE']);
      assert.equal(paymentCount(), before);
    });

    it('a request signed with the wrong key → F / INVALID_SIGNATURE', async () => {
      const response = await h.signedPost(API_PATHS.pay, body(), { privateKey: keys.alipayPrivate });
      assert.equal(response.json.result.resultCode, 'INVALID_SIGNATURE');
      assert.equal(response.signedByAlipay, true);
    });

    it('a signature made for another path → F / INVALID_SIGNATURE', async () => {
      const payload = body();
      const headers = signedHeaders({ kind: 'request', path: API_PATHS.refund, clientId: CLIENT_ID, body: payload, privateKey: keys.gatewayPrivate, nowMs: h.clock.now() });
      const response = await rawPost(h.url + API_PATHS.pay, payload, { ...headers });
      assert.equal(response.json.result.resultCode, 'INVALID_SIGNATURE');
    });

    it('an unknown Client-Id → F / INVALID_CLIENT', async () => {
      const before = paymentCount();
      const response = await h.signedPost(API_PATHS.pay, body(), { clientId: 'NOT_A_CLIENT' });
      assert.equal(response.status, 200);
      assert.deepEqual([response.json.result.resultStatus, response.json.result.resultCode], ['F', 'INVALID_CLIENT']);
      assert.equal(paymentCount(), before);
    });

    for (const header of ['Signature', 'Request-Time', 'Client-Id']) {
      it(`a request without ${header} → F, nothing written`, async () => {
        const before = paymentCount();
        const payload = body();
        const headers: Record<string, string> = { ...signedHeaders({ kind: 'request', path: API_PATHS.pay, clientId: CLIENT_ID, body: payload, privateKey: keys.gatewayPrivate, nowMs: h.clock.now() }) };
        delete headers[header];
        const response = await rawPost(h.url + API_PATHS.pay, payload, headers);
        assert.equal(response.json.result.resultStatus, 'F');
        assert.match(response.json.result.resultCode, /^INVALID_(SIGNATURE|CLIENT)$/);
        assert.equal(paymentCount(), before);
      });
    }

    it('a garbage Signature header → F / INVALID_SIGNATURE', async () => {
      const response = await h.signedPost(API_PATHS.pay, body(), { headers: { Signature: 'algorithm=RSA256,keyVersion=1,signature=%%%not-base64' } });
      assert.equal(response.json.result.resultCode, 'INVALID_SIGNATURE');
    });

    it('a response is signed for the path of the request', async () => {
      const response = await h.signedPost(API_PATHS.inquiryPayment, JSON.stringify({ paymentRequestId: uniqueId('none') }));
      assert.equal(response.signedByAlipay, true);
      assert.equal(response.json.result.resultCode, 'ORDER_NOT_EXIST');
    });
  });
});
