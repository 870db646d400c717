import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { request } from 'undici';
import type { PayRequest } from '../../src/alipayplus/index.js';
import { launchChromium, saveScreenshot, startSandbox, type SandboxHarness } from '../support/browser-harness.js';
import { DisputeReceiver } from '../sandbox/dispute-receiver.js';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

/** The shopper disputes a paid payment from the wallet page, in Debian's Chromium. */
describe('sandbox wallet: dispute a paid payment in Chromium', () => {
  let browser: Browser;
  let phone: BrowserContext;
  let harness: SandboxHarness;
  let acquirer: DisputeReceiver;

  before(async () => {
    browser = await launchChromium();
    phone = await browser.newContext(PHONE);
    phone.setDefaultTimeout(15_000);
    harness = await startSandbox();
    acquirer = await DisputeReceiver.start();
  });

  after(async () => {
    await browser?.close();
    await harness?.close();
    await acquirer?.close();
  });

  /** A WAP payment the acquirer stand-in is notified about, paid by the default shopper. */
  async function paidWapPayment(amountMinor: number): Promise<{ paymentId: string; normalUrl: string }> {
    const amount = { currency: 'CNY', value: String(amountMinor) };
    const payRequest: PayRequest = {
      paymentRequestId: `browser-${randomUUID()}`,
      paymentAmount: amount,
      order: {
        referenceOrderId: `order-${randomUUID().slice(0, 8)}`,
        orderDescription: 'Green tea 绿茶 ×1',
        orderAmount: amount,
        merchant: { referenceMerchantId: 'M0001', merchantName: '茶馆 Tea House' },
        env: { terminalType: 'WAP', osType: 'IOS' },
      },
      paymentMethod: { paymentMethodType: 'ALIPAY_CN' },
      paymentNotifyUrl: acquirer.notifyUrl(),
      settlementStrategy: { settlementCurrency: 'HKD' },
    };
    const created = await harness.client.pay(payRequest);
    const paid = await request(`${harness.url}/sandbox/v1/wallet/pay`, { method: 'POST', body: JSON.stringify({ paymentId: created.paymentId, outcome: 'success' }) });
    assert.equal(paid.statusCode, 200);
    await paid.body.dump();
    return { paymentId: created.paymentId as string, normalUrl: created.normalUrl as string };
  }

  async function submitDispute(page: Page, type: 'retrieval' | 'escalation', reasonCode: string, message: string): Promise<number | undefined> {
    await page.check(`input[name=type][value=${type}]`);
    await page.selectOption('[data-testid=dispute-reason]', reasonCode);
    await page.fill('#dispute-message', message);
    const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith('/wallet/dispute')), page.getByTestId('dispute-submit').click()]);
    await page.waitForLoadState();
    return response.status();
  }

  it('offers "Dispute this payment / 申请争议" on a paid order only, and sends the escalation for the whole amount', async () => {
    const { paymentId, normalUrl } = await paidWapPayment(8800);
    const page = await phone.newPage();
    await page.goto(normalUrl);
    await page.getByRole('heading', { name: '申请争议 Dispute this payment' }).waitFor();
    assert.equal(await page.locator('input[name=type]').count(), 2);
    assert.equal(await page.locator('[data-testid=dispute-reason] option').count(), 9);
    await saveScreenshot(page, 'wallet-dispute-form');

    // Untrusted text goes through as text: on the page escaped, on the wire as typed.
    const message = '<img src=x onerror=alert(1)> 茶叶没有收到';
    assert.equal(await submitDispute(page, 'escalation', 'GOODS_NOT_RECEIVED', message), 201);
    const result = page.getByTestId('dispute-result');
    assert.equal(await result.getAttribute('data-type'), 'ESCALATION');
    assert.equal(await result.getAttribute('data-state'), 'OPEN');
    assert.equal(await page.getByTestId('dispute-amount').innerText(), 'CNY 88.00');
    assert.equal(await page.getByTestId('dispute-message').innerText(), message);
    assert.equal(await page.locator('img').count(), 0, 'the message was not rendered as markup');
    assert.match(await page.getByTestId('dispute-delivery').innerText(), /Delivered to the merchant’s acquirer/);
    await saveScreenshot(page, 'wallet-dispute-submitted');

    const disputeId = await page.getByTestId('dispute-id').innerText();
    const view = (await (await request(`${harness.url}/sandbox/v1/disputes/${disputeId}`)).body.json()) as { disputeRequestId: string; paymentId: string; amount: unknown; reasonMessage: string };
    assert.deepEqual([view.paymentId, view.amount, view.reasonMessage], [paymentId, { currency: 'CNY', value: '8800' }, message]);
    const [call] = acquirer.forDispute(view.disputeRequestId);
    assert.equal(call?.api, 'initiateEscalation');
    assert.ok(call?.verified);
    assert.deepEqual([call?.body.escalationReasonCode, call?.body.escalationReasonMessage, call?.body.escalationAmount], ['GOODS_NOT_RECEIVED', message, { currency: 'CNY', value: '8800' }]);

    // Back on the order: the dispute is listed; a second escalation while it is ongoing is refused with the reason.
    await page.goto(normalUrl);
    assert.deepEqual(await page.getByTestId('dispute-item').evaluateAll((items) => items.map((item) => item.getAttribute('data-state'))), ['OPEN']);
    assert.equal(await submitDispute(page, 'escalation', 'FRAUD', ''), 409);
    await page.getByRole('heading', { name: '无法申请争议 Cannot dispute: DISPUTE_ONGOING' }).waitFor();
    // Asking for information is another kind of dispute, allowed beside it.
    await page.goto(normalUrl);
    assert.equal(await submitDispute(page, 'retrieval', 'TRANSACTION_INFORMATION_REQUEST', ''), 201);
    assert.equal(await page.getByTestId('dispute-result').getAttribute('data-type'), 'RETRIEVAL');
    await page.close();
  });

  it('shows no dispute form on an order that is not paid', async () => {
    const amount = { currency: 'CNY', value: '100' };
    const created = await harness.client.pay({
      paymentRequestId: `browser-${randomUUID()}`,
      paymentAmount: amount,
      order: { referenceOrderId: 'o-unpaid', orderDescription: 'Tea', orderAmount: amount, merchant: { referenceMerchantId: 'M0001' }, env: { terminalType: 'WAP', osType: 'IOS' } },
      paymentMethod: { paymentMethodType: 'ALIPAY_CN' },
      paymentNotifyUrl: acquirer.notifyUrl(),
    });
    const page = await phone.newPage();
    await page.goto(created.normalUrl as string);
    await page.getByTestId('pay').waitFor();
    assert.equal(await page.getByTestId('dispute-section').count(), 0);
    await page.close();
  });

  it('refuses a dispute form without this page’s token or from another origin (403), and opens nothing', async () => {
    const { paymentId, normalUrl } = await paidWapPayment(500);
    const codeValue = new URL(normalUrl).searchParams.get('codeValue') as string;
    const post = async (body: string, headers: Record<string, string> = {}) => {
      const response = await request(`${harness.url}/wallet/dispute`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
      await response.body.dump();
      return response.statusCode;
    };
    const form = (token: string) => new URLSearchParams({ codeValue, token, type: 'escalation', reasonCode: 'FRAUD' }).toString();
    assert.equal(await post(form('')), 403);
    assert.equal(await post(form(`${Date.now()}.forged`)), 403);

    // A token taken from the real page works only from the sandbox's own origin.
    const page = await phone.newPage();
    await page.goto(normalUrl);
    const token = (await page.locator('input[name=token]').getAttribute('value')) as string;
    await page.close();
    assert.equal(await post(form(token), { origin: 'https://evil.example' }), 403);
    const payment = (await (await request(`${harness.url}/sandbox/v1/payments/${paymentId}`)).body.json()) as { disputes: unknown[] };
    assert.deepEqual(payment.disputes, []);
    assert.equal(await post(form(token), { origin: harness.url }), 201);
  });
});
