import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { seedWebRequest } from '../support/gateway-server.js';
import {
  attemptsOf,
  codeValueOf,
  payInWallet,
  retrieveIntent,
  sandboxPaymentIdsOf,
  startPaymentStack,
  waitForIntentStatus,
  type PaymentStack,
} from '../support/e2e-harness.js';

const RETURN_URL = 'https://shop.test/orders/7/return?lang=zh';

describe('return handler: the wallet sends the shopper back through the gateway to return_url', () => {
  let stack: PaymentStack;
  before(async () => {
    // No attempt worker: every inquiry seen here is the return handler's own.
    stack = await startPaymentStack({ worker: false });
  });
  after(async () => {
    await stack.stop();
  });

  /** A WEB PaymentIntent awaiting the shopper, and the paymentRedirectUrl the sandbox holds for it. */
  async function awaiting() {
    const created = await stack.createPaymentIntent({ ...seedWebRequest(), return_url: RETURN_URL });
    assert.equal(created.body.status, 'requires_action', created.text);
    const [paymentId] = sandboxPaymentIdsOf(stack, created.body.id);
    const atSandbox = await stack.control('GET', `/sandbox/v1/payments/${paymentId}`);
    const redirectUrl: string = atSandbox.body.urls.paymentRedirectUrl;
    assert.ok(redirectUrl.startsWith(`${stack.gateway.url}/alipayplus/return/${created.body.id}?token=`), redirectUrl);
    return { intent: created.body, paymentId: paymentId as string, codeValue: codeValueOf(created.body), redirectUrl };
  }

  /** GETs a URL without following redirects: the status and where it points. */
  async function visit(url: string): Promise<{ status: number; location: string | null }> {
    const response = await fetch(url, { redirect: 'manual' });
    await response.arrayBuffer();
    return { status: response.status, location: response.headers.get('location') };
  }

  /** Asserts a 303 to return_url (its own query kept) with the three parameters, and returns redirect_status. */
  function merchantLanding(landing: { status: number; location: string | null }, intent: { id: string; client_secret: string }): string | null {
    assert.equal(landing.status, 303);
    const target = new URL(landing.location ?? '');
    assert.equal(`${target.origin}${target.pathname}`, 'https://shop.test/orders/7/return');
    assert.equal(target.searchParams.get('lang'), 'zh');
    assert.equal(target.searchParams.get('payment_intent'), intent.id);
    assert.equal(target.searchParams.get('payment_intent_client_secret'), intent.client_secret);
    return target.searchParams.get('redirect_status');
  }

  it('after paying: 303 to return_url with redirect_status=succeeded', async () => {
    const { intent, codeValue, redirectUrl } = await awaiting();
    const paid = await payInWallet(stack, { codeValue });
    assert.equal(paid.body.redirectUrl, redirectUrl, 'the wallet sends the shopper to the paymentRedirectUrl');
    await waitForIntentStatus(stack, intent.id, 'succeeded');
    assert.equal(merchantLanding(await visit(redirectUrl), intent), 'succeeded');
  });

  it('before paying: processing — and it asked Alipay+ first', async () => {
    const { intent, paymentId, redirectUrl } = await awaiting();
    // One unknown inquiry answer: the handler's inquiry consumes it (and re-sends).
    await stack.control('POST', '/sandbox/v1/faults', { target: 'inquiryPayment', kind: 'unknown' });
    assert.equal(merchantLanding(await visit(redirectUrl), intent), 'processing');
    assert.deepEqual((await stack.control('GET', '/sandbox/v1/faults')).body.faults, [], 'the return handler inquired');
    assert.equal((await retrieveIntent(stack, intent.id)).status, 'requires_action');
    assert.equal((await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.status, 'PROCESSING');
  });

  it('paid but the notification lost: the return handler learns the payment by inquiry', async () => {
    await stack.control('POST', '/sandbox/v1/faults', { target: 'notifyPayment', kind: 'drop' });
    const { intent, codeValue, redirectUrl } = await awaiting();
    assert.equal((await payInWallet(stack, { codeValue })).status, 200);
    assert.equal(merchantLanding(await visit(redirectUrl), intent), 'succeeded');
    const after = await retrieveIntent(stack, intent.id);
    assert.deepEqual([after.status, after.amount_received], ['succeeded', 20]);
    assert.deepEqual((await attemptsOf(stack, intent.id)).map((a) => a.status), ['succeeded']);
  });

  it('after a decline: failed (notified, or learnt by inquiry)', async () => {
    const notified = await awaiting();
    assert.equal((await payInWallet(stack, { codeValue: notified.codeValue, shopper: 'bob' })).status, 200);
    await waitForIntentStatus(stack, notified.intent.id, 'requires_payment_method');
    assert.equal(merchantLanding(await visit(notified.redirectUrl), notified.intent), 'failed');

    await stack.control('POST', '/sandbox/v1/faults', { target: 'notifyPayment', kind: 'drop' });
    const inquired = await awaiting();
    assert.equal((await payInWallet(stack, { codeValue: inquired.codeValue, shopper: 'carol' })).status, 200);
    assert.equal(merchantLanding(await visit(inquired.redirectUrl), inquired.intent), 'failed');
    const after = await retrieveIntent(stack, inquired.intent.id);
    assert.deepEqual([after.status, after.last_payment_error.decline_code], ['requires_payment_method', 'RISK_REJECT']);
  });

  it('after cancel: failed', async () => {
    const { intent, redirectUrl } = await awaiting();
    const canceled = await fetch(`${stack.gateway.url}/v1/payment_intents/${intent.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${stack.gateway.secretKey}` } });
    assert.equal(canceled.status, 200);
    assert.equal(merchantLanding(await visit(redirectUrl), intent), 'failed');
  });

  it('a wrong, missing or borrowed token, or an unknown PaymentIntent → 404 and no client_secret', async () => {
    const first = await awaiting();
    const second = await awaiting();
    const url = new URL(first.redirectUrl);
    const token = url.searchParams.get('token') ?? '';
    const wrongToken = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    const attempts = {
      wrong: `${url.origin}${url.pathname}?token=${wrongToken}`,
      missing: `${url.origin}${url.pathname}`,
      empty: `${url.origin}${url.pathname}?token=`,
      otherIntentsToken: `${url.origin}${url.pathname}?token=${new URL(second.redirectUrl).searchParams.get('token')}`,
      unknownIntent: `${url.origin}/alipayplus/return/pi_1000000000000000000?token=${token}`,
    };
    for (const [name, target] of Object.entries(attempts)) {
      const response = await fetch(target, { redirect: 'manual' });
      const text = await response.text();
      assert.equal(response.status, 404, name);
      assert.equal(response.headers.get('location'), null, name);
      assert.ok(!text.includes('_secret_'), name);
    }
  });

  it('the wallet page\'s Pay button lands on the gateway\'s return handler, then on return_url', async () => {
    const { intent, codeValue, redirectUrl } = await awaiting();
    // The shopper opens the cashier link's order in the wallet and presses Pay (as the HTML form posts it).
    const order = await fetch(`${stack.sandbox.url()}/wallet/order?codeValue=${encodeURIComponent(codeValue)}`);
    const page = await order.text();
    assert.equal(order.status, 200);
    assert.match(page, /name="action" value="pay"/);
    const pressed = await fetch(`${stack.sandbox.url()}/wallet/order`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ codeValue, shopper: 'henry', action: 'pay' }).toString(),
      redirect: 'manual',
    });
    assert.equal(pressed.status, 303);
    const toGateway = pressed.headers.get('location') ?? '';
    assert.equal(toGateway, redirectUrl);
    assert.equal(merchantLanding(await visit(toGateway), intent), 'succeeded', 'checked with Alipay+, whether or not the notification came first');
    const paid = await waitForIntentStatus(stack, intent.id, 'succeeded');
    const charge = await fetch(`${stack.gateway.url}/v1/charges/${paid.latest_charge}`, { headers: { authorization: `Bearer ${stack.gateway.secretKey}` } });
    const details = ((await charge.json()) as { payment_method_details: { alipay: { buyer_id: string; wallet: string } } }).payment_method_details.alipay;
    assert.deepEqual([details.buyer_id, details.wallet], ['2088102146225142', 'AlipayHK']);
  });
});
