import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { DOCS_CSP } from '../../src/gateway/http/openapi/routes.js';
import { launchChromium, saveScreenshot } from '../support/browser-harness.js';
import { api, startTestGateway, type TestGateway } from '../support/gateway-server.js';

/**
 * The API reference at /docs in Debian's Chromium: swagger-ui renders /openapi.json from this
 * gateway alone (every request that would leave it is blocked and recorded: there must be none),
 * the operations and Zhifu's examples show, and the page runs under its own CSP without errors.
 */
describe('API reference page (/docs) in Chromium', () => {
  let browser: Browser;
  let gw: TestGateway;

  before(async () => {
    browser = await launchChromium();
    gw = await startTestGateway();
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('is served without an API key under its own CSP', async () => {
    const page = await api(gw, 'GET', '/docs');
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-security-policy'), DOCS_CSP);
    assert.match(page.text, /swagger-ui-bundle\.js/);
    assert.doesNotMatch(page.text, /https?:\/\//, 'the page references no other host');
    const bundle = await api(gw, 'GET', '/docs/static/swagger-ui-bundle.js');
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('content-type') ?? '', /javascript/);
  });

  it('renders the operations and the examples from this gateway alone', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
    const page = await context.newPage();
    const local = new URL(gw.url);
    const requested: string[] = [];
    const leaving: string[] = [];
    const problems: string[] = [];
    await context.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      requested.push(url.pathname);
      if (url.host !== local.host) {
        leaving.push(url.href);
        await route.abort();
      } else await route.continue();
    });
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });

    await page.goto(`${gw.url}/docs`);
    await page.locator('.opblock').first().waitFor({ timeout: 20_000 });
    assert.equal(await page.locator('.info .title').first().textContent().then((text) => text?.startsWith('Zhifu API')), true);
    const operations = await page.locator('.opblock-summary-path').allTextContents();
    for (const path of ['/v1/payment_intents', '/v1/payment_intents/{id}/confirm', '/v1/refunds', '/v1/checkout/sessions', '/v1/checkout/sessions/{id}/line_items']) {
      assert.ok(operations.some((text) => text.replace(/\u200b/g, '') === path), `${path} is listed (${operations.length} operations shown)`);
    }
    assert.ok(operations.length >= 40, `${operations.length} operations shown`);

    // The Direct API example: open "Create a PaymentIntent" and find its curl, Node and Python samples.
    const create = page.locator('#operations-PaymentIntents-CreatePaymentIntent');
    await create.locator('.opblock-summary').click();
    const description = create.locator('.opblock-description-wrapper').first();
    await description.waitFor();
    const text = (await description.textContent()) ?? '';
    for (const snippet of ['curl "$ZHIFU_URL/v1/payment_intents"', 'stripe.paymentIntents.create(', 'stripe.PaymentIntent.create(', 'confirm=True']) {
      assert.ok(text.includes(snippet), `the example shows ${snippet}`);
    }
    await create.scrollIntoViewIfNeeded();
    await saveScreenshot(page, 'docs-reference');

    assert.deepEqual(leaving, [], 'no request leaves the gateway');
    assert.ok(requested.includes('/openapi.json') || requested.includes('/docs/json'), 'the page loaded the document from this gateway');
    assert.deepEqual(problems, []);
    await context.close();
  });
});
