import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  codeValueOf,
  createPayment,
  launchChromium,
  ManualClock,
  saveScreenshot,
  startMerchantSite,
  startSandbox,
  type MerchantSite,
  type SandboxHarness,
} from '../support/browser-harness.js';

/** The wallet plays the shopper's phone, so it is tested in a phone-sized, touch context. */
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const SHOPPERS = { alice: '2088102146225135', henry: '2088102146225142' };

describe('sandbox wallet pages in Chromium', () => {
  let browser: Browser;
  let phone: BrowserContext;
  let harness: SandboxHarness;
  let merchant: MerchantSite;

  before(async () => {
    browser = await launchChromium();
    phone = await browser.newContext(PHONE);
    phone.setDefaultTimeout(15_000);
    harness = await startSandbox();
    merchant = await startMerchantSite();
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
    await merchant?.close();
  });

  const stored = (paymentId: string | undefined) => harness.sandbox.context.payments.findByPaymentId(paymentId as string);

  async function openOrder(url: string): Promise<Page> {
    const page = await phone.newPage();
    const response = await page.goto(url);
    assert.equal(response?.status(), 200);
    return page;
  }

  it('opens the WAP normalUrl, pays as the paying shopper and lands on paymentRedirectUrl', async () => {
    const response = await createPayment(harness.client, { terminalType: 'WAP', amountMinor: 8800, redirectUrl: `${merchant.url}/return?order=wap-1` });
    assert.match(response.normalUrl as string, /\/wallet\/order\?codeValue=/);
    const page = await openOrder(response.normalUrl as string);
    assert.equal(await page.getByTestId('amount').innerText(), 'CNY 88.00');
    assert.equal(await page.getByTestId('merchant').innerText(), '茶馆 Tea House');
    assert.match(await page.getByTestId('countdown').innerText(), /^1[34]:[0-5]\d$/);
    assert.equal(await page.locator('input[name=shopper]').count(), 4);
    await saveScreenshot(page, 'wallet-order');

    await page.check('input[name=shopper][value=alice]');
    await page.getByTestId('pay').click();
    await page.waitForURL(`${merchant.url}/return?order=wap-1`);
    assert.ok(merchant.visits.includes('/return?order=wap-1'));
    const payment = stored(response.paymentId);
    assert.equal(payment?.status, 'SUCCESS');
    assert.equal(payment?.customer_id, SHOPPERS.alice);

    // Coming back to the order shows it paid, with nothing left to press.
    await page.goto(response.normalUrl as string);
    assert.equal(await page.getByTestId('outcome').getAttribute('data-state'), 'paid');
    assert.equal(await page.getByTestId('pay').count(), 0);
    await saveScreenshot(page, 'wallet-order-paid');
    await page.close();
  });

  it('opens the APP applinkUrl through the launcher and pays with AlipayHK', async () => {
    const response = await createPayment(harness.client, { terminalType: 'APP', currency: 'HKD', amountMinor: 5000, redirectUrl: `${merchant.url}/return?order=app-1` });
    assert.match(response.applinkUrl as string, /\/p\/s\/i\/\?scheme=alipays%3A%2F%2F/);
    const page = await openOrder(response.applinkUrl as string);
    assert.match(page.url(), /\/wallet\/order\?codeValue=/);
    assert.equal(await page.getByTestId('amount').innerText(), 'HKD 50.00');
    await page.check('input[name=shopper][value=henry]');
    await page.getByTestId('pay').click();
    await page.waitForURL(`${merchant.url}/return?order=app-1`);
    const payment = stored(response.paymentId);
    assert.equal(payment?.status, 'SUCCESS');
    assert.equal(payment?.wallet_brand, 'ALIPAY_HK');
    assert.equal(payment?.customer_id, SHOPPERS.henry);
    await page.close();
  });

  it('shows why a shopper was declined: too little balance, risk', async () => {
    for (const [shopper, code] of [['bob', 'USER_BALANCE_NOT_ENOUGH'], ['carol', 'RISK_REJECT']] as const) {
      const response = await createPayment(harness.client, { terminalType: 'WAP', redirectUrl: `${merchant.url}/return?order=${shopper}` });
      const page = await openOrder(response.normalUrl as string);
      await page.check(`input[name=shopper][value=${shopper}]`);
      await page.getByTestId('pay').click();
      await page.getByRole('heading', { name: `支付失败 Payment failed: ${code}` }).waitFor();
      assert.equal(new URL(page.url()).pathname, '/wallet/order', 'a declined shopper stays in the wallet');
      assert.equal(await page.getByTestId('return-to-merchant').getAttribute('href'), `${merchant.url}/return?order=${shopper}`);
      assert.equal(stored(response.paymentId)?.status, 'FAIL');
      assert.equal(stored(response.paymentId)?.result_code, code);
      await saveScreenshot(page, `wallet-declined-${shopper}`);
      await page.close();
    }
  });

  it('ends the payment as failed when the shopper presses Decline', async () => {
    const response = await createPayment(harness.client, { terminalType: 'WAP', redirectUrl: `${merchant.url}/return?order=decline` });
    const page = await openOrder(response.normalUrl as string);
    await page.getByTestId('decline').click();
    await page.getByRole('heading', { name: '支付失败 Payment failed: PROCESS_FAIL' }).waitFor();
    assert.equal(stored(response.paymentId)?.status, 'FAIL');
    assert.equal(stored(response.paymentId)?.result_code, 'PROCESS_FAIL');
    await saveScreenshot(page, 'wallet-declined-button');
    await page.close();
  });

  it('opens a pasted code, cashier URL or alipays:// URL, and refuses anything else', async () => {
    const web = await createPayment(harness.client, { terminalType: 'WEB' });
    const app = await createPayment(harness.client, { terminalType: 'APP' });
    const page = await phone.newPage();
    await page.goto(`${harness.url}/wallet`);
    await saveScreenshot(page, 'wallet-open');
    const inputs = [
      [codeValueOf(web), codeValueOf(web)],
      [web.normalUrl as string, codeValueOf(web)],
      [app.schemeUrl as string, new URL(app.normalUrl as string).searchParams.get('codeValue')],
    ] as const;
    for (const [pasted, codeValue] of inputs) {
      await page.goto(`${harness.url}/wallet`);
      await page.fill('#link', pasted);
      await page.getByTestId('open').click();
      await page.waitForURL(`${harness.url}/wallet/order?codeValue=${encodeURIComponent(codeValue as string)}`);
      await page.getByTestId('pay').waitFor();
    }

    await page.goto(`${harness.url}/wallet`);
    await page.fill('#link', 'https://example.com/not-a-code');
    const [refused] = await Promise.all([page.waitForResponse((r) => r.url().includes('/wallet/open')), page.getByTestId('open').click()]);
    assert.equal(refused.status(), 400);
    await page.getByTestId('error').waitFor();
    assert.equal(await page.inputValue('#link'), 'https://example.com/not-a-code', 'the form comes back with what was pasted');
    await saveScreenshot(page, 'wallet-open-refused');
    await page.close();
  });

  it('shows a hostile merchant name as text on the order page', async () => {
    const merchantName = '<img src=x onerror=alert(1)>';
    const response = await createPayment(harness.client, { terminalType: 'WAP', merchantName });
    const page = await phone.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    await page.goto(response.normalUrl as string);
    assert.equal(await page.getByTestId('merchant').innerText(), merchantName);
    assert.equal(await page.locator('main img').count(), 0);
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, []);
    await saveScreenshot(page, 'wallet-hostile-merchant');
    await page.close();
  });

  it('answers bad input with 4xx pages, never a 500', async () => {
    const response = await createPayment(harness.client, { terminalType: 'WAP' });
    const codeValue = new URL(response.normalUrl as string).searchParams.get('codeValue') as string;
    const post = (body: string) =>
      fetch(`${harness.url}/wallet/order`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body, redirect: 'manual' });
    const cases: Array<[string, Promise<Response>, number]> = [
      ['unknown code', fetch(`${harness.url}/wallet/order?codeValue=2816NoSuchCode`), 404],
      ['missing code', fetch(`${harness.url}/wallet/order`), 400],
      ['launcher without a scheme', fetch(`${harness.url}/p/s/i/?scheme=nothing`), 400],
      ['unknown shopper', post(new URLSearchParams({ codeValue, shopper: 'mallory', action: 'pay' }).toString()), 400],
      ['bad action', post(new URLSearchParams({ codeValue, shopper: 'alice', action: 'refund' }).toString()), 400],
      ['pay for an unknown code', post(new URLSearchParams({ codeValue: '2816NoSuchCode', shopper: 'alice', action: 'pay' }).toString()), 404],
      ['empty form', post(''), 400],
      ['oversized form', post(`codeValue=${'x'.repeat(10_000)}`), 413],
    ];
    for (const [name, pending, status] of cases) {
      const answer = await pending;
      assert.equal(answer.status, status, name);
      assert.match(answer.headers.get('content-type') ?? '', /^text\/html/, name);
    }
    assert.equal(stored(response.paymentId)?.status, 'PROCESSING', 'no bad request touched the payment');
  });
});

describe('sandbox wallet pages with an injected clock', () => {
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

  it('shows an expired order without Pay, and refuses a Pay pressed after the expiry', async () => {
    const expired = await createPayment(harness.client, { terminalType: 'WAP', expiresAtMs: clock.now() + 60_000 });
    const late = await createPayment(harness.client, { terminalType: 'WAP', expiresAtMs: clock.now() + 120_000 });
    const page = await browser.newPage(PHONE);
    await page.goto(late.normalUrl as string);
    assert.match(await page.getByTestId('countdown').innerText(), /^0[12]:[0-5]\d$/);

    clock.advance(121_000);
    const other = await browser.newPage(PHONE);
    await other.goto(expired.normalUrl as string);
    assert.equal(await other.getByText('已过期 Expired').count(), 1);
    assert.equal(await other.getByTestId('pay').count(), 0);
    assert.equal(await other.getByTestId('decline').count(), 0);
    await saveScreenshot(other, 'wallet-expired');

    const [answer] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.getByTestId('pay').click()]);
    assert.equal(answer.status(), 409);
    await page.getByText('已过期 Expired').waitFor();
    assert.equal(harness.sandbox.context.payments.findByPaymentId(late.paymentId as string)?.result_code, 'ORDER_IS_CLOSED');
    await page.close();
    await other.close();
  });
});
