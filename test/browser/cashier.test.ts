import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { actInWallet } from '../../src/sandbox/core/wallet.js';
import {
  codeValueOf,
  createPayment,
  decodeQrFrom,
  launchChromium,
  ManualClock,
  saveScreenshot,
  startMerchantSite,
  startSandbox,
  type MerchantSite,
  type SandboxHarness,
} from '../support/browser-harness.js';

const DESKTOP = { width: 1024, height: 900 };
/** The cashier polls every 2 s; allow a few polls before calling the switch missing. */
const STATE_SWITCH_TIMEOUT_MS = 10_000;

describe('sandbox cashier page in Chromium', () => {
  let browser: Browser;
  let harness: SandboxHarness;
  let merchant: MerchantSite;

  before(async () => {
    browser = await launchChromium();
    harness = await startSandbox();
    merchant = await startMerchantSite();
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
    await merchant?.close();
  });

  async function openPage(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: DESKTOP });
    page.setDefaultTimeout(15_000);
    const response = await page.goto(url);
    assert.equal(response?.status(), 200);
    return page;
  }

  it('shows amount, merchant, description and a running countdown, and its QR code decodes to the code value', async () => {
    const response = await createPayment(harness.client, { terminalType: 'WEB', amountMinor: 123456, redirectUrl: `${merchant.url}/return` });
    const codeValue = codeValueOf(response);
    assert.equal(response.normalUrl, `${harness.url}/api/open/v1/ac/cashier/self/codevalue/checkout.htm?codeValue=${encodeURIComponent(codeValue)}`);
    const page = await openPage(response.normalUrl as string);

    assert.equal(await page.getByTestId('amount').innerText(), 'CNY 1,234.56');
    assert.equal(await page.getByTestId('merchant').innerText(), '茶馆 Tea House');
    assert.equal(await page.getByTestId('description').innerText(), 'Green tea 绿茶 ×1');
    const countdown = await page.getByTestId('countdown').innerText();
    assert.match(countdown, /^1[34]:[0-5]\d$/, 'a fresh payment has about 14 minutes left');
    await page.waitForFunction((first) => document.getElementById('countdown')?.textContent !== first, countdown);
    await saveScreenshot(page, 'cashier-awaiting');

    assert.equal(await decodeQrFrom(page.getByTestId('qr-code'), 'cashier-qr-code'), codeValue);
    const walletHref = await page.getByTestId('open-in-wallet').getAttribute('href');
    assert.equal(walletHref, `/wallet/order?codeValue=${encodeURIComponent(codeValue)}`);
    await page.close();
  });

  it('switches to the paid state by polling once the shopper pays in the wallet', async () => {
    const response = await createPayment(harness.client, { terminalType: 'WEB', redirectUrl: `${merchant.url}/return?order=42` });
    const cashier = await openPage(response.normalUrl as string);

    // The shopper's phone "scans" the code: the cashier's own wallet link, in a separate phone-sized context.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const wallet = await phone.newPage();
    await wallet.goto(new URL((await cashier.getByTestId('open-in-wallet').getAttribute('href')) as string, harness.url).href);
    await wallet.getByTestId('pay').click();
    await wallet.waitForURL(`${merchant.url}/return?order=42`);
    await phone.close();

    await cashier.getByText('支付成功 Paid').waitFor({ timeout: STATE_SWITCH_TIMEOUT_MS });
    assert.equal(await cashier.getByTestId('qr-code').count(), 0, 'a paid cashier no longer shows the code');
    assert.equal(await cashier.getByTestId('outcome').getAttribute('data-state'), 'paid');
    assert.equal(harness.sandbox.context.payments.findByPaymentId(response.paymentId as string)?.status, 'SUCCESS');
    await saveScreenshot(cashier, 'cashier-paid');
    await cashier.close();
  });

  it('shows an already settled payment in its final state instead of the QR code', async () => {
    const paid = await createPayment(harness.client, { terminalType: 'WEB' });
    assert.equal(actInWallet(harness.sandbox.context, { codeValue: codeValueOf(paid), outcome: 'success', shopperId: 'alice' }).ok, true);
    const page = await openPage(paid.normalUrl as string);
    assert.equal(await page.getByTestId('outcome').getAttribute('data-state'), 'paid');
    assert.equal(await page.getByTestId('qr-code').count(), 0);

    const declined = await createPayment(harness.client, { terminalType: 'WEB' });
    actInWallet(harness.sandbox.context, { codeValue: codeValueOf(declined), outcome: 'success', shopperId: 'carol' });
    await page.goto(declined.normalUrl as string);
    assert.equal(await page.getByRole('heading', { level: 2 }).innerText(), '支付失败 Payment failed: RISK_REJECT');
    assert.equal(await page.getByTestId('qr-code').count(), 0);
    await saveScreenshot(page, 'cashier-declined');

    const cancelled = await createPayment(harness.client, { terminalType: 'WEB' });
    assert.equal(harness.sandbox.context.payments.markCancelled(cancelled.paymentId as string, Date.now()), true);
    await page.goto(cancelled.normalUrl as string);
    assert.equal(await page.getByTestId('outcome').getAttribute('data-state'), 'closed');
    await page.getByText('已关闭 Closed').waitFor();
    assert.equal(await page.getByTestId('qr-code').count(), 0);
    await page.close();
  });

  it('answers an unknown code with a 404 page and the status endpoint with JSON', async () => {
    const page = await browser.newPage({ viewport: DESKTOP });
    const response = await page.goto(`${harness.url}/api/open/v1/ac/cashier/self/codevalue/checkout.htm?codeValue=2816NoSuchCode`);
    assert.equal(response?.status(), 404);
    await page.getByText('找不到订单 Order not found').waitFor();
    await saveScreenshot(page, 'cashier-not-found');
    await page.close();

    const missing = await fetch(`${harness.url}/api/open/v1/ac/cashier/status?codeValue=2816NoSuchCode`);
    assert.equal(missing.status, 404);
    const created = await createPayment(harness.client, { terminalType: 'WEB' });
    const status = await fetch(`${harness.url}/api/open/v1/ac/cashier/status?codeValue=${codeValueOf(created)}`);
    assert.deepEqual(await status.json(), { status: 'PROCESSING', resultCode: null });
  });

  it('shows a hostile merchant name and description as text, running none of it', async () => {
    const merchantName = '<img src=x onerror=alert(1)>';
    const description = '"><script>alert(2)</script>';
    const response = await createPayment(harness.client, { terminalType: 'WEB', merchantName, description });
    const page = await browser.newPage({ viewport: DESKTOP });
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(response.normalUrl as string);
    assert.equal(await page.getByTestId('merchant').innerText(), merchantName);
    assert.equal(await page.getByTestId('description').innerText(), description);
    assert.equal(await page.locator('main img').count(), 0, 'no element was injected');
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, []);
    await saveScreenshot(page, 'cashier-hostile-merchant');
    await page.close();
  });
});

describe('sandbox cashier page with an injected clock', () => {
  let browser: Browser;
  let harness: SandboxHarness;
  const clock = new ManualClock();

  before(async () => {
    browser = await launchChromium();
    harness = await startSandbox(clock);
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
  });

  it('counts down from the payment expiry and switches to expired when it passes', async () => {
    const response = await createPayment(harness.client, { terminalType: 'WEB', expiresAtMs: clock.now() + 90_000 });
    const page = await browser.newPage({ viewport: DESKTOP });
    await page.goto(response.normalUrl as string);
    assert.match(await page.getByTestId('countdown').innerText(), /^01:(30|29|28)$/);

    clock.advance(91_000);
    await page.getByText('已过期 Expired').waitFor({ timeout: STATE_SWITCH_TIMEOUT_MS });
    assert.equal(await page.getByTestId('qr-code').count(), 0);
    const stored = harness.sandbox.context.payments.findByPaymentId(response.paymentId as string);
    assert.equal(stored?.status, 'FAIL');
    assert.equal(stored?.result_code, 'ORDER_IS_CLOSED');
    await saveScreenshot(page, 'cashier-expired');
    await page.close();
  });
});
