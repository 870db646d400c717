import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createIdGenerator, systemClock } from '../../src/gateway/index.js';
import { createOperator } from '../../src/gateway/core/operators.js';
import { signInToDashboard } from '../support/dashboard-browser.js';
import { launchChromium, saveScreenshot } from '../support/browser-harness.js';
import { api, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';
import { createEndpoint, startReceiver } from '../support/webhook-harness.js';
import type { Receiver } from '../support/webhook-harness.js';

/**
 * Developers pages in Debian's Chromium: a receiver that answers 500, its failed delivery found
 * through Webhooks, retried from the page once the receiver is fixed, the new attempt seen; the
 * request logs behind an API error's request_log_url; Chinese ↔ English, remembered across pages.
 */
describe('dashboard Developers pages in Chromium', () => {
  let browser: Browser;
  let gw: TestGateway;
  let receiver: Receiver;
  let failing = true;

  before(async () => {
    browser = await launchChromium();
    gw = await startTestGateway();
    receiver = await startReceiver(() => (failing ? 500 : 200));
    await createOperator({ database: gw.database, clock: systemClock, ids: createIdGenerator(systemClock) }, {
      accountId: gw.accountId, email: 'dev@shop.test', password: 'a long enough secret', role: 'admin', liveAccess: false,
    });
  });
  after(async () => {
    await browser?.close();
    await receiver?.close();
    await gw?.stop();
  });

  it('retries a failed delivery from the delivery log, reads the request log of an error, and switches language', async () => {
    const endpoint = await createEndpoint(gw, { url: receiver.url, enabled_events: ['payment_intent.created'], description: 'Order system' }, gw.secretKey);
    const intent = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 990, currency: 'cny' } });
    assert.equal(intent.status, 200);
    const refused = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 0, currency: 'cny' } });
    assert.equal(refused.status, 400);
    const logUrl = refused.body.error.request_log_url as string;
    for (let i = 0; i < 200 && receiver.received.length === 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(receiver.received[0]?.status, 500, 'the receiver refused the first delivery');

    const { context, page, problems } = await signInToDashboard(browser, gw.url, { email: 'dev@shop.test', password: 'a long enough secret' }, { lang: 'zh' });

    // Developers (its first tab is API keys) → Webhooks (Chinese), then the failing endpoint.
    await page.getByTestId('nav-developers').click();
    await page.getByTestId('tab-webhooks').click();
    await page.getByTestId('webhooks-title').waitFor();
    assert.equal(await page.getByTestId('webhooks-title').textContent(), 'Webhook 端点');
    await saveScreenshot(page, 'dashboard-webhooks');
    await page.getByTestId('endpoint-link').filter({ hasText: receiver.url }).click();
    await page.getByTestId('webhook-title').waitFor();
    assert.equal(await page.getByTestId('endpoint-id').textContent(), endpoint.id);
    const delivery = page.getByTestId('delivery').first();
    assert.equal(await delivery.getAttribute('data-status'), 'pending');
    assert.equal(await delivery.getByTestId('attempt').first().locator('[data-field="status_code"]').textContent(), '500');
    assert.equal(await delivery.getByTestId('attempt').first().locator('[data-field="response_body"]').textContent(), 'receiver says no (500)');

    // Fixed receiver; retry with the keyboard; the new attempt appears after a reload.
    failing = false;
    await delivery.getByTestId('retry-delivery').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('notice').waitFor();
    assert.equal(await page.getByTestId('notice').textContent(), '已安排重新投递，稍后将出现新的尝试记录。');
    for (let i = 0; i < 100; i += 1) {
      if (await page.locator('[data-testid="delivery"][data-status="delivered"]').count() > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
      await page.reload();
    }
    const delivered = page.locator('[data-testid="delivery"][data-status="delivered"]');
    assert.equal(await delivered.count(), 1);
    assert.equal(await delivered.getByTestId('attempt').locator('[data-field="status_code"]').textContent(), '200');
    assert.equal(receiver.acceptedCounts().get(receiver.received[0]!.eventId), 1);
    await saveScreenshot(page, 'dashboard-webhook-deliveries');

    // English, remembered on the next pages.
    await page.getByTestId('lang-en').click();
    await page.getByTestId('webhook-title').waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    assert.equal(await page.locator('#deliveries-title').textContent(), 'Deliveries');
    await page.getByTestId('tab-events').click();
    await page.getByTestId('events-title').waitFor();
    assert.equal(await page.getByTestId('events-title').textContent(), 'Events');
    assert.ok(!page.url().includes('lang='), 'the language comes from the remembered choice');
    assert.ok(await page.getByTestId('event-row').count() >= 1);
    await saveScreenshot(page, 'dashboard-events');

    // The API error's request_log_url opens its entry.
    await page.goto(logUrl);
    await page.getByTestId('log-title').waitFor();
    assert.equal(await page.getByTestId('log-request-id').textContent(), refused.headers.get('request-id'));
    assert.equal(await page.getByTestId('log-status-code').textContent(), '400');
    assert.match(await page.getByTestId('log-response-body').textContent() ?? '', /"amount"/);
    await saveScreenshot(page, 'dashboard-log-entry');
    await page.getByTestId('tab-logs').click();
    await page.getByTestId('logs-title').waitFor();
    assert.equal(await page.getByTestId('logs-title').textContent(), 'Request logs');
    await page.getByLabel('Status').fill('4xx');
    await page.getByLabel('Status').press('Enter');
    await page.getByTestId('log-row').first().waitFor();
    assert.equal(await page.getByTestId('log-row').count(), 1);
    await saveScreenshot(page, 'dashboard-logs');

    // And back to Chinese, remembered too.
    await page.getByTestId('lang-zh').click();
    await page.getByTestId('logs-title').waitFor();
    assert.equal(await page.getByTestId('logs-title').textContent(), '请求日志');
    await page.getByTestId('tab-audit').click();
    await page.getByTestId('audit-title').waitFor();
    assert.equal(await page.getByTestId('audit-title').textContent(), '审计日志');
    assert.ok(await page.locator('[data-testid="audit-row"][data-action="webhook_delivery.retry.succeeded"]').count() === 1);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
