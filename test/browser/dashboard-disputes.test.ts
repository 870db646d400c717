import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createIdGenerator } from '../../src/gateway/index.js';
import { createOperator } from '../../src/gateway/core/operators.js';
import { signInToDashboard } from '../support/dashboard-browser.js';
import { launchChromium, saveScreenshot } from '../support/browser-harness.js';
import { api } from '../support/gateway-server.js';
import { startPaymentStack } from '../support/e2e-harness.js';
import type { PaymentStack } from '../support/e2e-harness.js';
import { createSession, inlineItem } from '../support/checkout-support.js';
import { EVIDENCE, documentsOf, gatewayDispute, openDispute, paidCharge, retrieveDispute, sandboxDispute, sortedDocuments } from '../support/dispute-support.js';

/**
 * Answering a dispute in Debian's Chromium against the real sandbox (issue 11, "answer a dispute
 * with evidence"): Alipay+ raises an escalation on a paid payment, the operator finds it under
 * Disputes, fills the evidence form with the keyboard, submits, and sees it under review — and
 * the sandbox holds the documents. Also screenshots the Checkout sessions and Products pages.
 */
describe('dashboard disputes in Chromium', () => {
  let browser: Browser;
  let stack: PaymentStack;

  before(async () => {
    browser = await launchChromium();
    stack = await startPaymentStack();
    const clock = stack.gateway.clock;
    await createOperator({ database: stack.gateway.database, clock, ids: createIdGenerator(clock) }, {
      accountId: stack.gateway.accountId, email: 'ops@tea.test', password: 'a long enough secret', role: 'admin', liveAccess: true,
    });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('answers an escalation with evidence: under review, and Alipay+ receives the documents', async () => {
    const paid = await paidCharge(stack, { amount: 8800 });
    const other = await paidCharge(stack, { amount: 1200 });
    await openDispute(stack, other.paymentId, { type: 'retrieval', dueInDays: 4 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation', reasonCode: 'GOODS_NOT_RECEIVED', reasonMessage: 'the tea never came', dueInDays: 7 });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);

    const { context, page, problems } = await signInToDashboard(browser, stack.gateway.url, { email: 'ops@tea.test', password: 'a long enough secret' });

    await page.getByTestId('nav-disputes').click();
    await page.getByTestId('disputes-title').waitFor();
    assert.equal(await page.getByTestId('dispute-row').count(), 2);
    // Only the open ones, soonest deadline first: the inquiry (4 days) before the escalation (7).
    await page.getByLabel('Status').selectOption('open');
    await page.getByTestId('apply-filters').click();
    await page.waitForURL(/status=open/);
    const rows = page.getByTestId('dispute-row');
    assert.equal(await rows.count(), 2);
    assert.equal(await rows.nth(1).getAttribute('data-id'), dispute.id);
    assert.match((await rows.nth(1).getByTestId('time-left').textContent()) ?? '', /^6 days left$/);
    await saveScreenshot(page, 'dashboard-disputes');

    await rows.nth(1).getByTestId('dispute-link').click();
    await page.getByTestId('dispute-title').waitFor();
    assert.equal(await page.getByTestId('dispute-amount').textContent(), 'HKD 88.00');
    assert.equal(await page.getByTestId('network-reason').textContent(), 'GOODS_NOT_RECEIVED');
    assert.equal(await page.getByTestId('dispute-status').locator('.badge').getAttribute('data-status'), 'needs_response');

    // The keyboard alone: labels name the fields, Tab moves on.
    await page.getByLabel('Product description').focus();
    await page.keyboard.type(EVIDENCE.product_description);
    await page.keyboard.press('Tab');
    await page.keyboard.type(EVIDENCE.customer_name);
    await page.getByLabel('Receipt').fill(EVIDENCE.receipt);
    await page.getByLabel('Shipping tracking number').fill(EVIDENCE.shipping_tracking_number);
    await saveScreenshot(page, 'dashboard-dispute-detail');
    await page.getByTestId('evidence-submit').focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/done=submitted/);

    assert.equal(await page.getByTestId('notice').textContent(), 'Evidence submitted to Alipay+.');
    const status = page.getByTestId('dispute-status').locator('.badge');
    assert.deepEqual([await status.getAttribute('data-status'), await status.textContent()], ['under_review', 'Under review']);
    assert.equal(await page.getByTestId('response-state').getAttribute('data-state'), 'accepted');
    assert.equal(await page.getByTestId('evidence-form').count(), 0);
    assert.equal(await page.getByTestId('evidence-given').locator('[data-field="receipt"]').textContent(), EVIDENCE.receipt);
    await saveScreenshot(page, 'dashboard-dispute-submitted');

    const atAlipay = await sandboxDispute(stack, opened.disputeId);
    assert.deepEqual([atAlipay.state, atAlipay.response.api], ['RESPONDED', 'responseEscalation']);
    assert.deepEqual(sortedDocuments(atAlipay.response.body.defenseDocumentation), documentsOf(EVIDENCE));
    assert.equal((await retrieveDispute(stack, stack.gateway.secretKey, dispute.id)).status, 'under_review');

    // The payment link leads to the payment's page (its own area of the dashboard).
    assert.equal(await page.getByTestId('dispute-facts').getByTestId('payment-link').getAttribute('href'), `/dashboard/payments/${paid.intentId}`);
    assert.deepEqual(problems, [], 'no script errors or CSP violations');
    await context.close();
  });

  it('shows checkout sessions and products', async () => {
    const key = stack.gateway.secretKey;
    const product = await api(stack.gateway, 'POST', '/v1/products', { key, json: { name: 'Longjing tea', description: '250 g tin' } });
    await api(stack.gateway, 'POST', '/v1/prices', { key, json: { product: product.body.id, unit_amount: 12800, currency: 'hkd' } });
    const session = await createSession(stack.gateway, { mode: 'payment', success_url: 'https://tea.test/ok', customer_email: 'li@tea.test', line_items: [{ price_data: { currency: 'HKD', unit_amount: 12800, product: product.body.id }, quantity: 2 }, inlineItem('Gift box', 1500, 1, 'HKD')] });
    assert.equal(session.status, 200, session.text);

    const { context, page } = await signInToDashboard(browser, stack.gateway.url, { email: 'ops@tea.test', password: 'a long enough secret' }, { lang: 'zh' });
    await page.getByTestId('nav-checkout').click();
    await page.getByTestId('sessions-title').waitFor();
    assert.equal(await page.getByTestId('session-row').first().getAttribute('data-id'), session.body.id);
    await saveScreenshot(page, 'dashboard-checkout-sessions');
    await page.getByTestId('session-link').first().click();
    await page.getByTestId('session-title').waitFor();
    assert.equal(await page.getByTestId('session-total').textContent(), 'HKD 271.00');
    assert.equal(await page.getByTestId('hosted-page-url').textContent(), session.body.url);
    await saveScreenshot(page, 'dashboard-checkout-session');
    await page.getByTestId('nav-checkout').click();
    await page.getByTestId('tab-products').click();
    await page.getByTestId('products-title').waitFor();
    assert.ok(await page.getByTestId('product-row').filter({ hasText: 'Longjing tea' }).count() === 1);
    await saveScreenshot(page, 'dashboard-products');
    await context.close();
  });
});
