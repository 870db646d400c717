import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { DESKTOP_DEVICE as DESKTOP, IPHONE_DEVICE as IPHONE, createSession, pagePathOf, seedSessionRequest } from '../support/checkout-support.js';
import { decodeQrFrom, launchChromium, openPageIn, saveScreenshot, startMerchantSite, type MerchantSite } from '../support/browser-harness.js';
import { attemptsOf, chargesOf, codeValueOf, eventTypesOf, retrieveIntent, sandboxPaymentIdsOf, startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { api } from '../support/gateway-server.js';

/**
 * One shopper, two devices, in Debian's Chromium over a real gateway and the real sandbox: the
 * hosted page opened on a desktop, then on a phone, then the desktop again, then the phone: each
 * device gets its own attempt, the page left behind says the payment moved, and the phone pays
 * once through the sandbox's wallet pages.
 */
/** The page polls every 2 s. */
const POLL_TIMEOUT_MS = 20_000;

describe('hosted checkout page switching devices in Chromium', () => {
  let browser: Browser;
  let desktop: BrowserContext;
  let phone: BrowserContext;
  let stack: PaymentStack;
  let merchant: MerchantSite;

  before(async () => {
    browser = await launchChromium();
    desktop = await browser.newContext({ ...DESKTOP, locale: 'zh-CN' });
    phone = await browser.newContext({ ...IPHONE, locale: 'zh-CN' });
    for (const context of [desktop, phone]) context.setDefaultTimeout(15_000);
    stack = await startPaymentStack();
    merchant = await startMerchantSite();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
    await merchant?.close();
  });

  const open = openPageIn;
  const qrData = async (paymentIntentId: string): Promise<string> => codeValueOf(await retrieveIntent(stack, paymentIntentId));

  it('desktop → phone → desktop → phone, then paid on the phone: one charge, the desktop follows to success_url', async () => {
    const created = await createSession(stack.gateway, { ...seedSessionRequest(), success_url: `${merchant.url}/success?cs={CHECKOUT_SESSION_ID}`, cancel_url: `${merchant.url}/cart` });
    assert.equal(created.status, 200, created.text);
    const cs = created.body as { id: string; url: string; payment_intent: string };
    const url = stack.gateway.url + pagePathOf(cs.url);

    const onDesktop = await open(desktop, url);
    const firstCode = await qrData(cs.payment_intent);
    assert.equal(await decodeQrFrom(onDesktop.getByTestId('qr-code'), 'checkout-switch-desktop-qr'), firstCode);
    await saveScreenshot(onDesktop, 'checkout-switch-1-desktop');

    const onPhone = await open(phone, url);
    await onPhone.getByTestId('open-alipay').waitFor();
    assert.equal(await onPhone.getByTestId('qr-code').count(), 0, 'the phone is not shown the desktop QR code');
    await saveScreenshot(onPhone, 'checkout-switch-2-phone');
    // The desktop page learns by its poll that the phone took over, and stops showing a dead code.
    await onDesktop.getByTestId('moved').waitFor({ state: 'visible', timeout: POLL_TIMEOUT_MS });
    assert.equal(await onDesktop.getByTestId('qr-code').isVisible(), false);
    assert.match(await onDesktop.getByTestId('moved').innerText(), /已在另一台设备上继续付款/);
    await saveScreenshot(onDesktop, 'checkout-switch-3-desktop-moved');

    // Back on the desktop: a fresh QR code of a new Alipay+ order; the phone's page says it moved.
    await onDesktop.getByTestId('pay-here').click();
    await onDesktop.getByTestId('qr-code').waitFor();
    const secondCode = await qrData(cs.payment_intent);
    assert.notEqual(secondCode, firstCode);
    assert.equal(await decodeQrFrom(onDesktop.getByTestId('qr-code'), 'checkout-switch-desktop-qr-2'), secondCode);
    await onPhone.getByTestId('moved').waitFor({ state: 'visible', timeout: POLL_TIMEOUT_MS });
    await saveScreenshot(onPhone, 'checkout-switch-4-phone-moved');

    // And the phone again: it pays in the wallet and lands on the merchant's page.
    await onPhone.getByTestId('pay-here').click();
    await onPhone.getByTestId('open-alipay').waitFor();
    await onPhone.getByTestId('open-alipay').click();
    await onPhone.waitForURL(/\/wallet\/order\?codeValue=/);
    await saveScreenshot(onPhone, 'checkout-switch-5-phone-wallet');
    await onPhone.getByTestId('pay').click();
    await onPhone.waitForURL(`${merchant.url}/success?cs=${cs.id}`, { timeout: POLL_TIMEOUT_MS });
    // The desktop page, still polling, follows the payment to the merchant too.
    await onDesktop.waitForURL(`${merchant.url}/success?cs=${cs.id}`, { timeout: POLL_TIMEOUT_MS });

    const done = await api(stack.gateway, 'GET', `/v1/checkout/sessions/${cs.id}`, { key: stack.gateway.secretKey });
    assert.deepEqual([done.body.status, done.body.payment_status], ['complete', 'paid']);
    const attempts = await attemptsOf(stack, cs.payment_intent);
    assert.deepEqual(attempts.map((a) => [a.terminal_type, a.status]), [['WEB', 'canceled'], ['WAP', 'canceled'], ['WEB', 'canceled'], ['WAP', 'succeeded']]);
    const charges = await chargesOf(stack, cs.payment_intent);
    assert.deepEqual(charges.map((c) => [c.amount, c.payment_attempt_id]), [[100000, attempts[3]!.id]]);
    assert.deepEqual(await eventTypesOf(stack, cs.id), ['checkout.session.completed'], 'the session completes once');
    const atSandbox = await Promise.all(sandboxPaymentIdsOf(stack, cs.payment_intent).map(async (id) => (await stack.control('GET', `/sandbox/v1/payments/${id}`)).body.status));
    assert.deepEqual(atSandbox, ['CANCELLED', 'CANCELLED', 'CANCELLED', 'SUCCESS']);

    // Any device opening the page now sees it paid.
    await onDesktop.goto(url);
    assert.equal(await onDesktop.getByTestId('session-state').getAttribute('data-state'), 'complete');
    await saveScreenshot(onDesktop, 'checkout-switch-6-desktop-complete');
  });
});
