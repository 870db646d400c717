import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';

async function waitForStatus(stack: PaymentStack, id: string, status: string, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await api(stack.gateway, 'GET', `/v1/payment_intents/${id}`, { key: stack.gateway.secretKey });
    if (got.body.status === status || Date.now() > deadline) return got.body;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('the seed\'s Direct API requests, end to end through the sandbox', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack();
  });
  after(async () => {
    await stack.stop();
  });

  it('WEB: create with confirm → cashier URL and QR code → the shopper pays → succeeded with a Charge', async () => {
    const created = await stack.createPaymentIntent(seedWebRequest());
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.status, 'requires_action');
    const redirect = created.body.next_action.alipay_handle_redirect;
    assert.match(redirect.url, /\/api\/open\/v1\/ac\/cashier\/self\/codevalue\/checkout\.htm\?codeValue=2816/);
    assert.equal(created.body.next_action.redirect_to_url.url, redirect.url);
    assert.equal(created.body.next_action.redirect_to_url.return_url, 'https://wooshpay.com');
    assert.match(redirect.qr_code.data, /^2816[A-Za-z0-9]{32}$/);

    const paid = await stack.control('POST', '/sandbox/v1/wallet/pay', { codeValue: redirect.qr_code.data, outcome: 'success' });
    assert.equal(paid.status, 200, paid.text);

    const intent = await waitForStatus(stack, created.body.id, 'succeeded');
    assert.equal(intent.status, 'succeeded');
    assert.equal(intent.amount_received, 20);
    const charge = await api(stack.gateway, 'GET', `/v1/charges/${intent.latest_charge}`, { key: stack.gateway.secretKey });
    assert.equal(charge.body.amount, 20);
    assert.equal(charge.body.payment_method_details.alipay.buyer_id, '2088102146225135');
    assert.equal(charge.body.payment_method_details.alipay.transaction_id, paid.body.payment.paymentId);
  });

  it('APP: the app link launcher as url and the alipays:// scheme as native_url', async () => {
    const body = seedWebRequest();
    (body.payment_method_options as { alipay: Record<string, string> }).alipay.terminal_type = 'APP';
    const created = await stack.createPaymentIntent(body);
    assert.equal(created.body.status, 'requires_action', created.text);
    const redirect = created.body.next_action.alipay_handle_redirect;
    assert.match(redirect.url, /\/p\/s\/i\/\?scheme=alipays%3A%2F%2Fplatformapi%2FstartApp/);
    assert.match(redirect.native_url, /^alipays:\/\/platformapi\/startApp\?/);
    assert.equal(redirect.qr_code, null);
  });
});
