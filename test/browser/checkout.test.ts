import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { DESKTOP_DEVICE as DESKTOP, IPHONE_DEVICE as IPHONE, createSession, inlineItem, pagePathOf, seedSessionRequest } from '../support/checkout-support.js';
import { decodeQrFrom, launchChromium, openPageIn, saveScreenshot, startMerchantSite, type MerchantSite } from '../support/browser-harness.js';
import { codeValueOf, payInWallet, retrieveIntent, startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { api } from '../support/gateway-server.js';

/**
 * The hosted checkout page (api.md §6) in Debian's Chromium, over a real gateway paying through
 * the real sandbox: the shopper's phone is either the sandbox's control API (scanning the QR
 * code) or the sandbox's wallet pages (the app link).
 */
/** The page polls every 2 s; landing on the merchant's page may take a few polls. */
const LANDING_TIMEOUT_MS = 20_000;

describe('hosted checkout page in Chromium', () => {
  let browser: Browser;
  let desktop: BrowserContext;
  let phone: BrowserContext;
  let stack: PaymentStack;
  let merchant: MerchantSite;
  const dialogs: string[] = [];

  before(async () => {
    browser = await launchChromium();
    desktop = await browser.newContext({ ...DESKTOP, locale: 'zh-CN' });
    phone = await browser.newContext({ ...IPHONE, locale: 'zh-CN' });
    for (const context of [desktop, phone]) {
      context.setDefaultTimeout(15_000);
      context.on('page', (page) => page.on('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      }));
    }
    stack = await startPaymentStack();
    merchant = await startMerchantSite();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
    await merchant?.close();
  });

  const session = async (body: Record<string, unknown>) => {
    const created = await createSession(stack.gateway, { ...body, success_url: `${merchant.url}/success?cs={CHECKOUT_SESSION_ID}`, cancel_url: `${merchant.url}/cart` });
    assert.equal(created.status, 200, created.text);
    return created.body as { id: string; url: string; payment_intent: string };
  };
  const pageUrl = (cs: { url: string }) => stack.gateway.url + pagePathOf(cs.url);
  const open = openPageIn;
  const qrData = async (paymentIntentId: string): Promise<string> => codeValueOf(await retrieveIntent(stack, paymentIntentId));

  it('desktop: shows the items and total, a QR code of the Alipay+ code value, and lands on success_url once paid', async () => {
    const cs = await session({ ...seedSessionRequest(), line_items: [inlineItem('台湾凤梨酥 Pineapple cake', 4500, 2), inlineItem('冻顶乌龙 Oolong', 12000, 1)] });
    const page = await open(desktop, pageUrl(cs));
    assert.equal(await page.getByTestId('merchant').innerText(), 'Default account');
    assert.equal(await page.getByTestId('total').innerText(), 'CNY 210.00');
    const items = await page.getByTestId('line-item').allInnerTexts();
    assert.equal(items.length, 2);
    assert.match(items[0]!, /台湾凤梨酥 Pineapple cake[\s\S]*数量 2[\s\S]*CNY 90\.00/);
    assert.match(items[1]!, /冻顶乌龙 Oolong[\s\S]*数量 1[\s\S]*CNY 120\.00/);
    assert.match(await page.getByTestId('countdown').innerText(), /^1[34]:[0-5]\d$/);
    await saveScreenshot(page, 'checkout-desktop');
    const decoded = await decodeQrFrom(page.getByTestId('qr-code'), 'checkout-desktop-qr');
    const codeValue = await qrData(cs.payment_intent);
    assert.equal(decoded, codeValue, 'the QR code on the page is the code value Alipay+ returned');

    const paid = await payInWallet(stack, { codeValue });
    assert.equal(paid.status, 200, paid.text);
    await page.waitForURL(`${merchant.url}/success?cs=${cs.id}`, { timeout: LANDING_TIMEOUT_MS });
    await page.locator('#merchant-return').waitFor();
    const done = await api(stack.gateway, 'GET', `/v1/checkout/sessions/${cs.id}`, { key: stack.gateway.secretKey });
    assert.deepEqual([done.body.status, done.body.payment_status], ['complete', 'paid']);

    // Coming back to the page shows it paid, with no QR code.
    await page.goto(pageUrl(cs));
    assert.equal(await page.getByTestId('session-state').getAttribute('data-state'), 'complete');
    assert.equal(await page.getByTestId('qr-code').count(), 0);
    await saveScreenshot(page, 'checkout-complete');
    await page.close();
  });

  it('phone: open-Alipay button → sandbox wallet → Pay → back → success_url', async () => {
    const cs = await session(seedSessionRequest());
    const page = await open(phone, pageUrl(cs));
    assert.equal(await page.getByTestId('qr-code').count(), 0, 'a phone gets no QR code to scan');
    assert.equal(await page.getByTestId('total').innerText(), 'CNY 1,000.00');
    await saveScreenshot(page, 'checkout-phone');
    const intent = await retrieveIntent(stack, cs.payment_intent);
    assert.deepEqual([intent.payment_method_options.alipay.terminal_type, intent.payment_method_options.alipay.os_type], ['WAP', 'IOS']);

    await page.getByTestId('open-alipay').click();
    await page.waitForURL(/\/wallet\/order\?codeValue=/);
    await saveScreenshot(page, 'checkout-phone-wallet');
    await page.getByTestId('pay').click();
    await page.waitForURL(`${merchant.url}/success?cs=${cs.id}`, { timeout: LANDING_TIMEOUT_MS });
    assert.ok(merchant.visits.includes(`/success?cs=${cs.id}`));
    const done = await api(stack.gateway, 'GET', `/v1/checkout/sessions/${cs.id}`, { key: stack.gateway.secretKey });
    assert.equal(done.body.status, 'complete');
    await page.close();
  });

  it('declined, then paid on a retry with a new QR code', async () => {
    const cs = await session(seedSessionRequest());
    const page = await open(desktop, pageUrl(cs));
    const firstCode = await qrData(cs.payment_intent);
    assert.equal((await payInWallet(stack, { codeValue: firstCode, outcome: 'decline' })).status, 200);
    await page.getByTestId('payment-failed').waitFor({ timeout: LANDING_TIMEOUT_MS });
    assert.match(await page.getByTestId('payment-failed').innerText(), /付款未成功/);
    assert.equal(await page.getByTestId('qr-code').count(), 0);
    await saveScreenshot(page, 'checkout-declined');

    await page.getByTestId('retry').click();
    await page.getByTestId('qr-code').waitFor();
    const secondCode = await qrData(cs.payment_intent);
    assert.notEqual(secondCode, firstCode);
    assert.equal(await decodeQrFrom(page.getByTestId('qr-code'), 'checkout-retry-qr'), secondCode);
    assert.equal((await payInWallet(stack, { codeValue: secondCode })).status, 200);
    await page.waitForURL(`${merchant.url}/success?cs=${cs.id}`, { timeout: LANDING_TIMEOUT_MS });
    await page.close();
  });

  it('an expired session says so and offers no QR code; the cancel link goes to cancel_url', async () => {
    const open1 = await session(seedSessionRequest());
    const page = await open(desktop, pageUrl(open1));
    await page.getByTestId('cancel').click();
    await page.waitForURL(`${merchant.url}/cart`);

    const cs = await session(seedSessionRequest());
    const expired = await api(stack.gateway, 'POST', `/v1/checkout/sessions/${cs.id}/expire`, { key: stack.gateway.secretKey, json: {} });
    assert.equal(expired.status, 200, expired.text);
    await page.goto(pageUrl(cs));
    assert.equal(await page.getByTestId('session-state').getAttribute('data-state'), 'expired');
    assert.match(await page.getByTestId('session-state').innerText(), /付款已过期/);
    assert.equal(await page.getByTestId('qr-code').count(), 0);
    await saveScreenshot(page, 'checkout-expired');

    const unknown = await page.goto(`${stack.gateway.url}/pay/cs_0000000000000000001${new URL(cs.url).search}`);
    assert.equal(unknown?.status(), 404);
    await saveScreenshot(page, 'checkout-unknown');
    const noKey = await page.goto(`${stack.gateway.url}/pay/${cs.id}`);
    assert.equal(noKey?.status(), 401);
    assert.match(await page.getByTestId('session-state').innerText(), /付款链接不完整[\s\S]*Incomplete payment link/);
    await saveScreenshot(page, 'checkout-missing-key');
    await page.close();
  });

  it('speaks Chinese and English: from the locale, from the browser, and by the switch', async () => {
    const cs = await session(seedSessionRequest());
    const page = await open(desktop, pageUrl(cs));
    assert.equal(await page.getAttribute('html', 'lang'), 'zh-CN');
    await page.getByText('打开手机支付宝，扫一扫付款').waitFor();
    await page.getByTestId('lang-en').click();
    await page.getByText('Open Alipay on your phone and scan to pay').waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.match(await page.getByTestId('line-item').first().innerText(), /Qty 1/);
    await saveScreenshot(page, 'checkout-english');
    await page.close();

    const english = await browser.newContext({ ...DESKTOP, locale: 'en-GB' });
    const fromBrowser = await english.newPage();
    await fromBrowser.goto(pageUrl(cs));
    await fromBrowser.getByText('Pay with Alipay').first().waitFor();
    await english.close();

    const zhSession = await session({ ...seedSessionRequest(), locale: 'zh' });
    const enBrowser = await browser.newContext({ ...DESKTOP, locale: 'en-US' });
    const fromLocale = await enBrowser.newPage();
    await fromLocale.goto(pageUrl(zhSession));
    await fromLocale.getByText('合计').waitFor();
    await enBrowser.close();
  });

  it('shows a product named <img src=x onerror=alert(1)> as text and runs none of it', async () => {
    const name = '<img src=x onerror=alert(1)>';
    const cs = await session({ ...seedSessionRequest(), line_items: [inlineItem(name, 100, 1), inlineItem('"><script>alert(2)</script>', 100, 1)] });
    const page = await open(desktop, pageUrl(cs));
    const items = await page.getByTestId('line-item').allInnerTexts();
    assert.match(items[0]!, /<img src=x onerror=alert\(1\)>/);
    assert.match(items[1]!, /"><script>alert\(2\)<\/script>/);
    assert.equal(await page.locator('[data-testid=line-items] img').count(), 0);
    assert.equal(await page.locator('[data-testid=line-items] script').count(), 0);
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, [], 'no script from merchant text ever ran');
    await saveScreenshot(page, 'checkout-escaped');
    await page.close();
  });
});
