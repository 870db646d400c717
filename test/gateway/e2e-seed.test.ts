import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, seedWebRequest } from '../support/gateway-server.js';
import {
  attemptsOf,
  chargesOf,
  codeValueOf,
  eventTypesOf,
  payInWallet,
  retrieveIntent,
  startPaymentStack,
  waitForIntentStatus,
  type PaymentStack,
} from '../support/e2e-harness.js';

/** The seed's request with another terminal (APP and WAP need os_type). */
function seedRequest(terminalType: 'WEB' | 'WAP' | 'APP', osType: 'IOS' | 'ANDROID' = 'IOS'): Record<string, unknown> {
  const body = seedWebRequest();
  body.payment_method_options = { alipay: { client_ip: '192.168.0.1', terminal_type: terminalType, os_type: osType } };
  return body;
}

const SUCCEEDED_EVENTS = ['payment_intent.created', 'payment_intent.requires_action', 'payment_intent.succeeded', 'charge.succeeded'];

describe('the seed\'s Direct API requests, end to end through the sandbox', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack();
  });
  after(async () => {
    await stack.stop();
  });

  /** The attempt, sandbox payment, Charge and Events of a PaymentIntent that was paid once by alice. */
  async function assertPaidOnce(id: string, amount: number, currency: string, sandboxPaymentId: string) {
    const intent = await waitForIntentStatus(stack, id, 'succeeded');
    assert.deepEqual([intent.amount_received, intent.amount_capturable, intent.next_action, intent.last_payment_error], [amount, 0, null, null]);
    const attempts = await attemptsOf(stack, id);
    assert.deepEqual(attempts.map((a) => [a.payment_request_id, a.status, a.external_payment_id]), [[`${id}_1`, 'succeeded', sandboxPaymentId]]);
    const charge = await api(stack.gateway, 'GET', `/v1/charges/${intent.latest_charge}`, { key: stack.gateway.secretKey });
    assert.equal(charge.status, 200, charge.text);
    assert.deepEqual(
      [charge.body.amount, charge.body.amount_captured, charge.body.currency, charge.body.status, charge.body.paid, charge.body.payment_intent, charge.body.payment_method],
      [amount, amount, currency, 'succeeded', true, id, intent.payment_method],
    );
    assert.deepEqual(charge.body.payment_method_details, { type: 'alipay', alipay: { buyer_id: '2088102146225135', transaction_id: sandboxPaymentId, wallet: 'Alipay' } });
    assert.equal((await chargesOf(stack, id)).length, 1);
    assert.deepEqual(await eventTypesOf(stack, id), SUCCEEDED_EVENTS);
    const sandboxPayment = await stack.control('GET', `/sandbox/v1/payments/${sandboxPaymentId}`);
    assert.deepEqual([sandboxPayment.body.status, sandboxPayment.body.paymentRequestId, sandboxPayment.body.amount], ['SUCCESS', `${id}_1`, { currency, value: String(amount) }]);
    assert.equal(sandboxPayment.body.notifications[0].status, 'acknowledged', 'the sandbox verified the gateway\'s signed acknowledgement');
    return intent;
  }

  it('WEB: create with confirm → cashier URL and QR code → the shopper pays → succeeded with a Charge', async () => {
    const created = await stack.createPaymentIntent(seedWebRequest());
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.status, 'requires_action');
    const redirect = created.body.next_action.alipay_handle_redirect;
    assert.match(redirect.url, /\/api\/open\/v1\/ac\/cashier\/self\/codevalue\/checkout\.htm\?codeValue=2816/);
    assert.equal(created.body.next_action.redirect_to_url.url, redirect.url);
    assert.equal(created.body.next_action.redirect_to_url.return_url, 'https://wooshpay.com');
    assert.match(redirect.qr_code.data, /^2816[A-Za-z0-9]{32}$/);
    assert.equal(new URL(redirect.url).searchParams.get('codeValue'), redirect.qr_code.data);
    assert.ok(redirect.qr_code.expires_at > Date.now(), 'the QR code expires in the future');

    const paid = await payInWallet(stack, { codeValue: redirect.qr_code.data });
    assert.equal(paid.status, 200, paid.text);
    assert.equal(paid.body.payment.terminalType, 'WEB');
    await assertPaidOnce(created.body.id, 20, 'CNY', paid.body.payment.paymentId);
  });

  it('APP: the app link launcher as url, the alipays:// scheme as native_url; the shopper pays with the code from the app link', async () => {
    const created = await stack.createPaymentIntent(seedRequest('APP', 'ANDROID'));
    assert.equal(created.body.status, 'requires_action', created.text);
    const redirect = created.body.next_action.alipay_handle_redirect;
    assert.match(redirect.url, /\/p\/s\/i\/\?scheme=alipays%3A%2F%2Fplatformapi%2FstartApp/);
    assert.match(redirect.native_url, /^alipays:\/\/platformapi\/startApp\?/);
    assert.equal(redirect.qr_code, null);
    const codeValue = codeValueOf(created.body);
    // Opening the app link on the "phone" lands on the wallet's order page for the same code.
    const opened = await fetch(redirect.url, { redirect: 'manual' });
    assert.equal(opened.status, 303);
    assert.equal(new URL(opened.headers.get('location') ?? '', redirect.url).searchParams.get('codeValue'), codeValue);

    const paid = await payInWallet(stack, { codeValue });
    assert.equal(paid.status, 200, paid.text);
    assert.deepEqual([paid.body.payment.terminalType, paid.body.payment.osType], ['APP', 'ANDROID']);
    await assertPaidOnce(created.body.id, 20, 'CNY', paid.body.payment.paymentId);
  });

  it('WAP: the wallet H5 page as url and the app link as native_url; paid by paymentId', async () => {
    const created = await stack.createPaymentIntent(seedRequest('WAP', 'IOS'));
    assert.equal(created.body.status, 'requires_action', created.text);
    const redirect = created.body.next_action.alipay_handle_redirect;
    assert.match(redirect.url, /\/wallet\/order\?codeValue=/);
    assert.match(redirect.native_url, /\/p\/s\/i\/\?scheme=alipays/);
    assert.equal(redirect.qr_code, null);
    const [attempt] = await attemptsOf(stack, created.body.id);
    assert.ok(attempt?.external_payment_id, 'the attempt knows the sandbox paymentId');
    const paid = await payInWallet(stack, { paymentId: attempt.external_payment_id });
    assert.equal(paid.status, 200, paid.text);
    assert.deepEqual([paid.body.payment.terminalType, paid.body.payment.osType], ['WAP', 'IOS']);
    await assertPaidOnce(created.body.id, 20, 'CNY', attempt.external_payment_id);
  });

  it('confirm: false, then POST /confirm with the secret key', async () => {
    const body = { ...seedWebRequest(), confirm: false, amount: 1234, currency: 'hkd' };
    const created = await stack.createPaymentIntent(body);
    assert.equal(created.status, 200, created.text);
    assert.deepEqual([created.body.status, created.body.next_action], ['requires_confirmation', null]);
    assert.deepEqual(await attemptsOf(stack, created.body.id), [], 'no attempt before confirm');

    const confirmed = await api(stack.gateway, 'POST', `/v1/payment_intents/${created.body.id}/confirm`, { key: stack.gateway.secretKey, json: {} });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.body.status, 'requires_action');
    const paid = await payInWallet(stack, { codeValue: codeValueOf(confirmed.body) });
    assert.equal(paid.status, 200, paid.text);
    await assertPaidOnce(created.body.id, 1234, 'HKD', paid.body.payment.paymentId);
  });

  it('confirm and retrieve with a publishable key and the client_secret', async () => {
    const created = await stack.createPaymentIntent({ amount: 88, currency: 'eur', payment_method_types: ['alipay'] });
    assert.equal(created.body.status, 'requires_payment_method', created.text);
    const pk = stack.gateway.publishableKey;
    const path = `/v1/payment_intents/${created.body.id}/confirm`;
    const confirmBody = { payment_method_data: { type: 'alipay' }, return_url: 'https://shop.test/done', payment_method_options: { alipay: { terminal_type: 'WAP', os_type: 'ANDROID' } } };

    const withoutSecret = await api(stack.gateway, 'POST', path, { key: pk, json: confirmBody });
    assert.deepEqual([withoutSecret.status, withoutSecret.body.error.code], [403, 'secret_key_required']);
    const wrongSecret = await api(stack.gateway, 'POST', path, { key: pk, json: { ...confirmBody, client_secret: `${created.body.id}_secret_AAAAAAAAAAAAAAAAAAAAAAAA` } });
    assert.equal(wrongSecret.status, 404, wrongSecret.text);
    assert.deepEqual(await attemptsOf(stack, created.body.id), [], 'refused confirms create no attempt');

    const confirmed = await api(stack.gateway, 'POST', path, { key: pk, json: { ...confirmBody, client_secret: created.body.client_secret } });
    assert.equal(confirmed.status, 200, confirmed.text);
    assert.equal(confirmed.body.status, 'requires_action');
    const paid = await payInWallet(stack, { codeValue: codeValueOf(confirmed.body) });
    assert.equal(paid.status, 200, paid.text);
    await assertPaidOnce(created.body.id, 88, 'EUR', paid.body.payment.paymentId);
    const seen = await api(stack.gateway, 'GET', `/v1/payment_intents/${created.body.id}?client_secret=${created.body.client_secret}`, { key: pk });
    // A publishable key sees Stripe's client-safe subset (issue 9): amount_received is not in it.
    assert.deepEqual([seen.status, seen.body.status, seen.body.amount, 'amount_received' in seen.body], [200, 'succeeded', 88, false]);
  });

  it('form-encoded create+confirm with bracket notation and Basic auth', async () => {
    const form = [
      'amount=500',
      'currency=gbp',
      'confirm=true',
      'payment_method_types[0]=alipay',
      'payment_method_data[type]=alipay',
      'payment_method_options[alipay][terminal_type]=APP',
      'payment_method_options[alipay][os_type]=IOS',
      'payment_method_options%5Balipay%5D%5Bclient_ip%5D=10.0.0.7',
      `return_url=${encodeURIComponent('https://shop.test/return?order=7')}`,
      'metadata[order]=7',
    ].join('&');
    const created = await api(stack.gateway, 'POST', '/v1/payment_intents', { key: stack.gateway.secretKey, basic: true, form });
    assert.equal(created.status, 200, created.text);
    assert.deepEqual(
      [created.body.status, created.body.amount, created.body.currency, created.body.metadata, created.body.payment_method_options.alipay],
      ['requires_action', 500, 'GBP', { order: '7' }, { client_ip: '10.0.0.7', terminal_type: 'APP', os_type: 'IOS' }],
    );
    const [attempt] = await attemptsOf(stack, created.body.id);
    const sandboxPayment = await stack.control('GET', `/sandbox/v1/payments/${attempt?.external_payment_id}`);
    assert.deepEqual([sandboxPayment.body.terminalType, sandboxPayment.body.osType, sandboxPayment.body.amount], ['APP', 'IOS', { currency: 'GBP', value: '500' }]);
    const paid = await payInWallet(stack, { codeValue: codeValueOf(created.body) });
    assert.equal(paid.status, 200, paid.text);
    const intent = await assertPaidOnce(created.body.id, 500, 'GBP', paid.body.payment.paymentId);
    assert.equal((await retrieveIntent(stack, created.body.id)).latest_charge, intent.latest_charge);
  });
});
