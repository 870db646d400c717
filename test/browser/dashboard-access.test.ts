import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createIdGenerator } from '../../src/gateway/index.js';
import { createOperator } from '../../src/gateway/core/operators.js';
import { signInToDashboard } from '../support/dashboard-browser.js';
import { launchChromium, saveScreenshot } from '../support/browser-harness.js';
import { api, seedWebRequest, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

const PASSWORD = 'a long enough secret';

/**
 * Issue 11's refusals, seen from a real browser (Debian's Chromium): a viewer gets no refund form
 * and a refund posted with the viewer's own valid session and CSRF token is refused; an admin's
 * refund form stripped of its CSRF token is refused; another account's payment is not reachable
 * by URL. Each time, nothing is refunded.
 */
describe('dashboard refusals in Chromium', () => {
  let browser: Browser;
  let gw: TestGateway;
  let paidId: string;
  let otherId: string;

  async function refundCount(): Promise<number> {
    const rows = await gw.database.db.selectFrom('refunds').select('id').where('payment_intent_id', '=', paidId).execute();
    return rows.length;
  }

  before(async () => {
    browser = await launchChromium();
    gw = await startTestGateway();
    gw.connector.nextPay = async (request) => ({ kind: 'succeeded', externalPaymentId: `ext_${request.paymentRequestId}`, buyerId: 'b', wallet: 'ALIPAY_CN' });
    const paid = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { ...seedWebRequest(), amount: 4200, merchant_order_id: 'ACCESS-1' } });
    assert.equal(paid.body.status, 'succeeded', paid.text);
    paidId = paid.body.id;
    const other = await gw.newAccount();
    const foreign = await api(gw, 'POST', '/v1/payment_intents', { key: other.test.secretKey, json: { amount: 900, currency: 'CNY', merchant_order_id: 'ACCESS-OTHER' } });
    assert.equal(foreign.status, 200, foreign.text);
    otherId = foreign.body.id;
    const deps = { database: gw.database, clock: gw.clock, ids: createIdGenerator(gw.clock) };
    await createOperator(deps, { accountId: gw.accountId, email: 'admin@shop.test', password: PASSWORD, role: 'admin', liveAccess: false });
    await createOperator(deps, { accountId: gw.accountId, email: 'desk@shop.test', password: PASSWORD, role: 'viewer', liveAccess: false });
  });
  after(async () => {
    await browser?.close();
    await gw?.stop();
  });

  it('shows a viewer no refund form and refuses the refund they post anyway', async () => {
    const { context, page } = await signInToDashboard(browser, gw.url, { email: 'desk@shop.test', password: PASSWORD });
    await page.goto(`${gw.url}/dashboard/payments/${paidId}`);
    await page.getByTestId('payment-title').waitFor();
    assert.equal(await page.getByTestId('role').textContent(), 'Viewer');
    assert.equal(await page.locator(`form[action*="/refund"]`).count(), 0, 'no refund form for a viewer');
    await saveScreenshot(page, 'dashboard-payment-viewer');

    // The same POST an admin's form makes, with the viewer's own session cookie and valid CSRF token.
    const csrf = await page.locator('input[name="csrf_token"]').first().inputValue();
    const answer = await page.request.post(`${gw.url}/dashboard/payments/${paidId}/refund`, {
      form: { csrf_token: csrf, amount: '1.00', reason: 'requested_by_customer', idempotency_key: 'viewer-try-1' }, maxRedirects: 0,
    });
    assert.equal(answer.status(), 403);
    assert.match(await answer.text(), /Only an admin may do this\./);
    assert.equal(await refundCount(), 0);
    await context.close();
  });

  it('refuses an admin\'s refund form without its CSRF token, and another account\'s payment by URL', async () => {
    const { context, page } = await signInToDashboard(browser, gw.url, { email: 'admin@shop.test', password: PASSWORD });
    await page.goto(`${gw.url}/dashboard/payments/${paidId}`);
    const form = page.locator('form[action*="/refund"]');
    assert.equal(await form.count(), 1);
    // What a forged or stale form amounts to: the token field gone (DevTools; the page runs no script of its own).
    await form.locator('input[name="csrf_token"]').evaluate((input) => input.remove());
    await form.locator('input[name="amount"]').fill('5.00');
    await form.locator('button[type="submit"]').click();
    await page.getByTestId('message').waitFor();
    assert.match(await page.getByTestId('message').textContent() ?? '', /The form has expired or is not valid/);
    assert.equal(await refundCount(), 0, 'nothing refunded');
    await saveScreenshot(page, 'dashboard-csrf-refused');

    // Another account's PaymentIntent: the id is well-formed and exists, but not for this operator.
    const response = await page.goto(`${gw.url}/dashboard/payments/${otherId}`);
    assert.equal(response?.status(), 404);
    assert.doesNotMatch(await page.content(), /ACCESS-OTHER/);
    // Nor is it found by searching for its order id.
    await page.goto(`${gw.url}/dashboard/payments?q=ACCESS-OTHER`);
    assert.equal(await page.getByTestId('payment-row').count(), 0);
    await context.close();
  });
});
