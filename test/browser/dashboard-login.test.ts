import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createIdGenerator, systemClock } from '../../src/gateway/index.js';
import { createOperator } from '../../src/gateway/core/operators.js';
import { launchChromium, saveScreenshot } from '../support/browser-harness.js';
import { api, seedWebRequest, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

/**
 * The dashboard's sign-in and Home in Debian's Chromium: signing in with the keyboard alone,
 * Home's figures in Chinese and English, sign-out, and no CSP violation on the way.
 */
describe('dashboard sign-in in Chromium', () => {
  let browser: Browser;
  let gw: TestGateway;

  before(async () => {
    browser = await launchChromium();
    gw = await startTestGateway();
    gw.connector.nextPay = async (request) => ({ kind: 'succeeded', externalPaymentId: `ext_${request.paymentRequestId}`, buyerId: 'b', wallet: 'ALIPAY_CN' });
    for (const amount of [1200, 3450]) {
      const paid = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { ...seedWebRequest(), amount } });
      assert.equal(paid.body.status, 'succeeded', paid.text);
    }
    await createOperator({ database: gw.database, clock: systemClock, ids: createIdGenerator(systemClock) }, {
      accountId: gw.accountId, email: 'ops@shop.test', password: 'a long enough secret', role: 'admin', liveAccess: true,
    });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('signs in with the keyboard, shows Home in Chinese and English, and signs out', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    const problems: string[] = [];
    // The failed sign-in's 401 is expected; anything else (a CSP violation, a missing resource) is not.
    page.on('console', (message) => { if (message.type() === 'error' && !/status of 401/.test(message.text())) problems.push(message.text()); });
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${gw.url}/dashboard`);
    assert.match(page.url(), /\/dashboard\/login$/);
    assert.equal(await page.locator('html').getAttribute('lang'), 'zh-CN');
    await saveScreenshot(page, 'dashboard-login-zh');

    // Labels name the fields; Tab moves between them and Enter submits.
    await page.getByLabel('电子邮箱').focus();
    await page.keyboard.type('ops@shop.test');
    await page.keyboard.press('Tab');
    await page.keyboard.type('wrong password!!');
    await page.keyboard.press('Enter');
    await page.getByTestId('sign-in-error').waitFor();
    assert.equal(await page.getByTestId('sign-in-error').textContent(), '邮箱或密码不正确。');

    await page.getByLabel('密码').fill('a long enough secret');
    await page.getByLabel('密码').press('Enter');
    await page.getByTestId('home-title').waitFor();
    assert.match(page.url(), /\/dashboard$/);
    const today = page.getByTestId('currency-CNY').getByTestId('today');
    assert.equal(await today.locator('[data-field="volume"]').textContent(), 'CNY 46.50');
    assert.equal(await today.locator('[data-field="payments"]').textContent(), '2');
    assert.equal(await today.locator('[data-field="success_rate"]').textContent(), '100.0%');
    assert.equal(await page.getByTestId('role').textContent(), '管理员');
    assert.equal(await page.getByTestId('chart-CNY').getAttribute('role'), 'img');
    await saveScreenshot(page, 'dashboard-home-zh');

    await page.getByTestId('lang-en').click();
    await page.getByTestId('home-title').waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal(await page.getByTestId('home-title').textContent(), 'Home');
    assert.equal(await page.getByTestId('currency-CNY').getByTestId('today').locator('th').textContent(), 'Today');
    await saveScreenshot(page, 'dashboard-home-en');

    await page.getByTestId('mode-live').click();
    await page.getByTestId('live-banner').waitFor();
    assert.equal(await page.getByTestId('no-payments').textContent(), 'No payments in the last 30 days.');

    await page.getByTestId('sign-out').click();
    await page.getByTestId('sign-in-form').waitFor();
    assert.match(page.url(), /\/dashboard\/login$/);
    await page.goto(`${gw.url}/dashboard`);
    assert.match(page.url(), /\/dashboard\/login(\?lang=en)?$/, 'signed out');
    assert.deepEqual(problems, [], 'no script errors or CSP violations');
    await context.close();
  });
});
