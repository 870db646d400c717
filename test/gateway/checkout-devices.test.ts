import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ANDROID_UA, IPHONE_UA, createSession, openPage, pagePathOf, retrieveSession, seedSessionRequest } from '../support/checkout-support.js';
import { attemptsOf, chargesOf, codeValueOf, eventTypesOf, payInWallet, retrieveIntent, sandboxPaymentIdsOf, startPaymentStack, waitUntil, type PaymentStack } from '../support/e2e-harness.js';

/**
 * The hosted checkout page decides the attempt by the shopper's device (issue 12), over the real
 * sandbox: a phone after a desktop gets its own attempt (the app jump), a desktop after a phone
 * its own QR code, the older attempt is closed and cancelled at Alipay+, and a payment made on
 * the older attempt before the switch succeeds through it.
 */
describe('hosted checkout: the device decides the attempt (real sandbox)', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack();
  });
  after(async () => {
    await stack.stop();
  });

  const session = (id: string) => retrieveSession(stack.gateway, id);
  const sandboxStatus = async (paymentId: string) => (await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.status as string;
  const statusOf = async (cs: { id: string; url: string }) => JSON.parse((await openPage(stack.gateway, `/pay/${cs.id}/status${new URL(cs.url).search}`)).text);
  const newSession = async () => {
    const created = await createSession(stack.gateway, seedSessionRequest());
    assert.equal(created.status, 200, created.text);
    return created.body as { id: string; url: string; payment_intent: string };
  };

  it('desktop → phone → desktop → phone: each device gets its own attempt, the older one cancelled; paid on the phone, the session completes once', async () => {
    const cs = await newSession();
    const path = pagePathOf(cs.url);
    const desktop = await openPage(stack.gateway, path);
    assert.match(desktop.text, /data-testid="qr-code"/);
    const first = (await attemptsOf(stack, cs.payment_intent))[0]!;
    assert.match(desktop.text, new RegExp(`data-attempt="${first.id}"`));

    const phone = await openPage(stack.gateway, path, { 'user-agent': IPHONE_UA });
    assert.equal(phone.status, 200);
    assert.doesNotMatch(phone.text, /data-testid="qr-code"/, 'the phone is not shown the desktop QR code');
    assert.match(phone.text, /data-testid="open-alipay"/);
    let attempts = await attemptsOf(stack, cs.payment_intent);
    assert.deepEqual(attempts.map((a) => [a.terminal_type, a.os_type, a.status]), [['WEB', null, 'canceled'], ['WAP', 'IOS', 'pending']]);
    assert.equal(attempts[0]!.failure_code, 'REPLACED');
    let intent = await retrieveIntent(stack, cs.payment_intent);
    assert.deepEqual([intent.status, intent.payment_method_options.alipay.terminal_type, intent.next_action.alipay_handle_redirect.qr_code], ['requires_action', 'WAP', null]);
    const [desktopPayment, phonePayment] = sandboxPaymentIdsOf(stack, cs.payment_intent);
    assert.equal(await sandboxStatus(desktopPayment!), 'CANCELLED', 'the desktop order is closed at Alipay+');
    assert.equal(await sandboxStatus(phonePayment!), 'PROCESSING');
    // The desktop page's poll learns its attempt was replaced (it then says so, see the browser test).
    assert.equal((await statusOf(cs)).attempt, attempts[1]!.id);
    // A reload on the phone keeps the phone's attempt.
    await openPage(stack.gateway, path, { 'user-agent': IPHONE_UA });
    assert.equal((await attemptsOf(stack, cs.payment_intent)).length, 2);

    const back = await openPage(stack.gateway, path);
    assert.match(back.text, /data-testid="qr-code"/);
    const phoneAgain = await openPage(stack.gateway, path, { 'user-agent': IPHONE_UA });
    assert.match(phoneAgain.text, /data-testid="open-alipay"/);
    attempts = await attemptsOf(stack, cs.payment_intent);
    assert.deepEqual(attempts.map((a) => [a.terminal_type, a.status]), [['WEB', 'canceled'], ['WAP', 'canceled'], ['WEB', 'canceled'], ['WAP', 'pending']]);
    const payments = sandboxPaymentIdsOf(stack, cs.payment_intent);
    assert.deepEqual(await Promise.all(payments.map(sandboxStatus)), ['CANCELLED', 'CANCELLED', 'CANCELLED', 'PROCESSING']);

    // The shopper scans the stale desktop code from a screenshot: the closed order takes no money.
    const stale = await payInWallet(stack, { paymentId: payments[0]! });
    assert.notEqual(stale.status, 200, stale.text);
    intent = await retrieveIntent(stack, cs.payment_intent);
    const paid = await payInWallet(stack, { codeValue: codeValueOf(intent) });
    assert.equal(paid.status, 200, paid.text);
    const done = await waitUntil(async () => {
      const s = await session(cs.id);
      return s.status === 'complete' ? s : null;
    }, 'the session to complete');
    assert.deepEqual([done.payment_status, done.amount_total], ['paid', 100000]);
    const charges = await chargesOf(stack, cs.payment_intent);
    assert.deepEqual(charges.map((c) => [c.amount, c.payment_attempt_id]), [[100000, attempts[3]!.id]]);
    assert.deepEqual(await eventTypesOf(stack, cs.id), ['checkout.session.completed']);
    assert.deepEqual(await eventTypesOf(stack, cs.payment_intent), [
      'payment_intent.created',
      'payment_intent.requires_action',
      'payment_intent.requires_action',
      'payment_intent.requires_action',
      'payment_intent.requires_action',
      'payment_intent.succeeded',
      'charge.succeeded',
      'checkout.session.completed',
    ]);
    // After payment every device sees it complete and nothing new is sent.
    for (const ua of [IPHONE_UA, ANDROID_UA, undefined]) {
      const page = await openPage(stack.gateway, path, ua === undefined ? {} : { 'user-agent': ua });
      assert.match(page.text, /data-state="complete"/);
    }
    assert.equal((await attemptsOf(stack, cs.payment_intent)).length, 4);
  });

  it('devices opening the page at once never leave two live attempts; every replaced order is cancelled at Alipay+', async () => {
    const cs = await newSession();
    const path = pagePathOf(cs.url);
    await openPage(stack.gateway, path);
    const agents = [IPHONE_UA, IPHONE_UA, ANDROID_UA, undefined, IPHONE_UA, undefined];
    const pages = await Promise.all(agents.map((ua) => openPage(stack.gateway, path, ua === undefined ? {} : { 'user-agent': ua })));
    pages.forEach((page) => assert.equal(page.status, 200));
    for (const page of pages) assert.match(page.text, /data-testid="(qr-code|open-alipay|processing)"/);
    const attempts = await attemptsOf(stack, cs.payment_intent);
    const live = attempts.filter((a) => a.status === 'pending' || a.status === 'sending');
    assert.equal(live.length, 1, JSON.stringify(attempts.map((a) => [a.terminal_type, a.status])));
    assert.ok(attempts.length <= 1 + agents.length);
    for (const attempt of attempts.filter((a) => a !== live[0])) assert.equal(attempt.status, 'canceled');
    const payments = sandboxPaymentIdsOf(stack, cs.payment_intent);
    assert.equal(payments.length, attempts.length);
    const statuses = await Promise.all(payments.map(sandboxStatus));
    assert.deepEqual(statuses.filter((s) => s !== 'CANCELLED'), ['PROCESSING'], statuses.join());
    // The live attempt is paid once; the session completes with one charge.
    const paid = await payInWallet(stack, { codeValue: codeValueOf(await retrieveIntent(stack, cs.payment_intent)) });
    assert.equal(paid.status, 200, paid.text);
    await waitUntil(async () => (await session(cs.id)).status === 'complete', 'the session to complete');
    assert.equal((await chargesOf(stack, cs.payment_intent)).length, 1);
  });
});

describe('hosted checkout: a payment on the older attempt wins over the switch (notifications held back)', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack({ notifier: { autoStart: false } });
  });
  after(async () => {
    await stack.stop();
  });
  const session = (id: string) => retrieveSession(stack.gateway, id);
  const sandboxStatus = async (paymentId: string) => (await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body.status as string;
  const newSession = async () => (await createSession(stack.gateway, seedSessionRequest())).body as { id: string; url: string; payment_intent: string };

  it('a QR code paid on the desktop just before the phone opens the page: the payment succeeds through it, nothing replaced', async () => {
    const cs = await newSession();
    const path = pagePathOf(cs.url);
    await openPage(stack.gateway, path);
    const intent = await retrieveIntent(stack, cs.payment_intent);
    // The sandbox's notifier is off: the gateway has not heard of the payment when the phone opens.
    const paid = await payInWallet(stack, { codeValue: codeValueOf(intent) });
    assert.equal(paid.status, 200, paid.text);
    const phone = await openPage(stack.gateway, path, { 'user-agent': IPHONE_UA });
    assert.match(phone.text, /data-state="complete"/, 'the phone shows the payment done');
    const attempts = await attemptsOf(stack, cs.payment_intent);
    assert.deepEqual(attempts.map((a) => [a.terminal_type, a.status]), [['WEB', 'succeeded']]);
    assert.deepEqual([(await session(cs.id)).status, (await chargesOf(stack, cs.payment_intent)).length], ['complete', 1]);
    assert.equal(await sandboxStatus(sandboxPaymentIdsOf(stack, cs.payment_intent)[0]!), 'SUCCESS', 'never cancelled (reversed) at Alipay+');
  });
});
