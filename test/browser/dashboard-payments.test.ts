import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { createIdGenerator } from '../../src/gateway/index.js';
import { createOperator } from '../../src/gateway/core/operators.js';
import { launchChromium, saveScreenshot } from '../support/browser-harness.js';
import { seedWebRequest } from '../support/gateway-server.js';
import { attemptsOf, payInWallet, startPaymentStack, waitForIntentStatus } from '../support/e2e-harness.js';
import type { PaymentStack } from '../support/e2e-harness.js';

const PASSWORD = 'a long enough secret';

/**
 * Issue 11's "done when" for Payments, in Debian's Chromium over the REAL sandbox: a paid payment
 * is found by its merchant_order_id, opened, partly refunded from its detail page with the
 * keyboard, the notice and the timeline show the refund, and the sandbox (Alipay+) recorded it.
 */
describe('dashboard payments in Chromium', () => {
  let browser: Browser;
  let stack: PaymentStack;
  let pi: string;

  before(async () => {
    browser = await launchChromium();
    stack = await startPaymentStack();
    for (const [amount, order] of [[8800, 'SHOP-2026-0041'], [12800, 'SHOP-2026-0042'], [500, 'SHOP-2026-0043']] as const) {
      const created = await stack.createPaymentIntent({ ...seedWebRequest(), amount, merchant_order_id: order, description: `Order ${order}`, metadata: { channel: 'web' } });
      assert.equal(created.body.status, 'requires_action', created.text);
      assert.equal((await payInWallet(stack, { codeValue: created.body.next_action.alipay_handle_redirect.qr_code.data })).status, 200);
      await waitForIntentStatus(stack, created.body.id, 'succeeded');
      if (order === 'SHOP-2026-0042') pi = created.body.id;
    }
    const unpaid = await stack.createPaymentIntent({ ...seedWebRequest(), amount: 2300, merchant_order_id: 'SHOP-2026-0044' });
    assert.equal(unpaid.status, 200);
    const clock = stack.gateway.clock;
    await createOperator({ database: stack.gateway.database, clock, ids: createIdGenerator(clock) }, {
      accountId: stack.gateway.accountId, email: 'support@shop.test', password: PASSWORD, role: 'admin', liveAccess: false,
    });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('finds a paid payment by merchant_order_id, refunds part of it with the keyboard, and the refund reaches Alipay+', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => { if (message.type() === 'error') problems.push(message.text()); });
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${stack.gateway.url}/dashboard/login`);
    await page.getByLabel('电子邮箱').fill('support@shop.test');
    await page.getByLabel('密码').fill(PASSWORD);
    await page.getByLabel('密码').press('Enter');
    await page.getByTestId('home-title').waitFor();

    await page.getByTestId('nav-payments').click();
    await page.getByTestId('payments-title').waitFor();
    assert.equal(await page.getByTestId('payment-row').count(), 4);
    await saveScreenshot(page, 'dashboard-payments-list');

    // Search by the order id typed into the labelled search box, submitted with Enter.
    await page.getByLabel('搜索').fill('SHOP-2026-0042');
    await page.getByLabel('搜索').press('Enter');
    await page.waitForURL(/q=SHOP-2026-0042/);
    const rows = page.getByTestId('payment-row');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-id'), pi);
    assert.equal(await rows.first().locator('[data-field="amount"]').textContent(), 'CNY 128.00');
    assert.equal(await rows.first().locator('[data-status]').textContent(), 'succeeded');

    await rows.first().getByTestId('payment-link').click();
    await page.getByTestId('payment-title').waitFor();
    assert.equal(await page.locator('[data-field="merchant_order_id"]').textContent(), 'SHOP-2026-0042');
    assert.equal(await page.locator('[data-field="amount_refundable"]').textContent(), 'CNY 128.00');
    const attempt = (await attemptsOf(stack, pi))[0]!;
    assert.equal(await page.getByTestId('timeline-attempt').locator('[data-field="payment_request_id"]').textContent(), attempt.payment_request_id);
    await saveScreenshot(page, 'dashboard-payment-detail');

    // The refund form with the keyboard alone: focus the amount, type, Tab to the reason, choose, Tab to the button, Enter.
    await page.getByLabel(/退款金额/).focus();
    await page.keyboard.type('28.50');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'refund-reason');
    await page.getByLabel('退款原因').selectOption('requested_by_customer');
    await page.getByLabel('退款原因').focus();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-testid')), 'refund-submit');
    await page.keyboard.press('Enter');
    await page.waitForURL(/done=refunded/);
    assert.equal(await page.getByTestId('notice').textContent(), '已发起退款 CNY 28.50，状态：succeeded。');
    const refund = page.getByTestId('timeline-refund');
    assert.equal(await refund.count(), 1);
    assert.equal(await refund.locator('[data-field="amount"]').textContent(), 'CNY 28.50');
    assert.equal(await refund.locator('[data-status]').textContent(), 'succeeded');
    assert.equal(await page.locator('[data-field="amount_refunded"]').textContent(), 'CNY 28.50');
    assert.equal(await page.locator('[data-field="amount_refundable"]').textContent(), 'CNY 99.50');
    const refundId = await refund.getAttribute('data-id');
    assert.match(refundId ?? '', /^re_/);
    await saveScreenshot(page, 'dashboard-payment-refunded');

    // Alipay+ (the sandbox) has the refund under the payment, for the amount and reason given.
    const atSandbox = await stack.control('GET', `/sandbox/v1/payments/${attempt.external_payment_id}`);
    assert.equal(atSandbox.status, 200, atSandbox.text);
    assert.deepEqual(atSandbox.body.refunds.map((r: { refundRequestId: string; amount: { value: string; currency: string }; reason: string }) => [r.refundRequestId, r.amount.currency, r.amount.value, r.reason]),
      [[refundId, 'CNY', '2850', 'requested_by_customer']]);

    // Reloading the page after the redirect does not refund again (Post/Redirect/Get).
    await page.reload();
    assert.equal(await page.getByTestId('timeline-refund').count(), 1);

    await page.getByTestId('lang-en').click();
    await page.getByTestId('payment-title').waitFor();
    assert.match(await page.getByTestId('payment-title').textContent() ?? '', /^Payment CNY 128\.00$/);
    assert.deepEqual(problems, []);
    await context.close();
  });
});
