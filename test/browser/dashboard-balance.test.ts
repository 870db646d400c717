import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createAccount, createApiKeys, createIdGenerator } from '../../src/gateway/index.js';
import { createOperator } from '../../src/gateway/core/operators.js';
import { CSV_COLUMNS } from '../../src/gateway/core/settlement_report.js';
import { signInToDashboard } from '../support/dashboard-browser.js';
import { launchChromium, saveScreenshot } from '../support/browser-harness.js';
import { startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { api } from '../support/gateway-server.js';
import { paidPayment } from '../gateway/disputes-support.js';

/**
 * Balance and API keys in Debian's Chromium: the balance and the day's settlement report of a
 * real (sandbox) day, its CSV download, and creating an API key whose secret is shown once.
 */
describe('dashboard balance and API keys in Chromium', () => {
  let browser: Browser;
  let stack: PaymentStack;
  let key: string;
  const today = new Date().toISOString().slice(0, 10);

  before(async () => {
    browser = await launchChromium();
    stack = await startPaymentStack();
    const { database, clock } = stack.gateway;
    const ids = createIdGenerator(clock);
    const account = await createAccount(database.db, clock, ids, { name: 'Browser Tea Shop', settlementCurrency: 'HKD' });
    key = (await createApiKeys(database.db, clock, ids, account.id, false)).secretKey;
    await createOperator({ database, clock, ids }, { accountId: account.id, email: 'ops@tea.test', password: 'a long enough secret', role: 'admin', liveAccess: false });
    await paidPayment(stack, key, 10000);
    await paidPayment(stack, key, 2500);
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function signedIn(): Promise<{ page: Page; problems: string[]; close: () => Promise<void> }> {
    const { context, page, problems } = await signInToDashboard(browser, stack.gateway.url, { email: 'ops@tea.test', password: 'a long enough secret' }, { context: { locale: 'en-GB', acceptDownloads: true } });
    return { page, problems, close: () => context.close() };
  }

  it('shows the balance and the day\'s report, and downloads its CSV', async () => {
    const { page, problems, close } = await signedIn();
    const balance = (await api(stack.gateway, 'GET', '/v1/balance', { key })).body;
    const transactions = (await api(stack.gateway, 'GET', '/v1/balance_transactions', { key })).body.data as { id: string; amount: number; net: number }[];
    assert.equal(transactions.length, 2);

    await page.getByTestId('nav-balance').click();
    await page.getByTestId('balance-title').waitFor();
    assert.equal(await page.getByTestId('nav-balance').getAttribute('aria-current'), 'page');
    const hkd = page.getByTestId('balance-HKD');
    assert.equal(Number(await hkd.locator('[data-field="pending"]').getAttribute('data-minor')), balance.pending[0].amount);
    const totals = page.getByTestId('report-total-HKD');
    assert.equal(await totals.locator('[data-field="count"]').textContent(), '2');
    assert.equal(Number(await totals.locator('[data-field="amount"]').getAttribute('data-minor')), transactions[0]!.amount + transactions[1]!.amount);
    assert.equal(await page.getByTestId('report').getAttribute('data-date'), today);
    assert.equal(await page.getByTestId('txn-row').count(), 2);
    await saveScreenshot(page, 'dashboard-balance');

    // The CSV is a download of the same day, for this account only.
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-csv').click()]);
    assert.equal(download.suggestedFilename(), `settlement-${today}-test.csv`);
    const csv = readFileSync((await download.path())!, 'utf8').trimEnd().split('\r\n');
    assert.equal(csv[0], CSV_COLUMNS.join(','));
    assert.deepEqual(csv.slice(1).map((line) => line.split(',')[0]).sort(), transactions.map((t) => t.id).sort());

    // Another day, chosen with the keyboard: nothing happened then.
    await page.getByLabel('Date (UTC)').fill('2020-01-01');
    await page.getByLabel('Date (UTC)').press('Enter');
    await page.waitForURL(/date=2020-01-01/);
    assert.equal(await page.getByTestId('report-totals').getByTestId('empty').count(), 1);
    assert.equal(await page.getByTestId('txn-row').count(), 0);
    assert.match(await page.getByTestId('transactions-title').textContent() ?? '', /2020-01-01/);
    assert.deepEqual(problems, [], 'no script errors or CSP violations');
    await close();
  });

  it('creates an API key and shows its secret once', async () => {
    const { page, problems, close } = await signedIn();
    await page.getByTestId('nav-developers').click();
    await page.getByTestId('api-keys-title').waitFor();
    assert.equal(await page.getByTestId('tab-api_keys').getAttribute('aria-current'), 'page');
    const before = await page.getByTestId('key-row').count();

    await page.getByLabel('Kind of the new key').selectOption('secret');
    await page.getByTestId('create-key').click();
    await page.getByTestId('new-secret').waitFor();
    const secret = await page.getByTestId('new-secret').inputValue();
    assert.match(secret, /^sk_test_[A-Za-z0-9]{32}$/);
    assert.equal(await page.getByTestId('key-row').count(), before + 1);
    assert.equal((await api(stack.gateway, 'GET', '/v1/balance', { key: secret })).status, 200);
    await saveScreenshot(page, 'dashboard-api-keys');

    await page.reload();
    await page.getByTestId('api-keys-title').waitFor();
    assert.equal(await page.getByTestId('new-secret').count(), 0, 'a reload never shows it again');
    assert.equal(await page.getByTestId('notice').count(), 1);
    assert.ok(!(await page.content()).includes(secret));

    // Revoke it with the keyboard: open the disclosure, then confirm.
    const row = page.getByTestId('key-row').filter({ hasText: `sk_test_…${secret.slice(-4)}` });
    const id = await row.getAttribute('data-id');
    await page.getByTestId(`revoke-${id}`).locator('summary').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId(`revoke-confirm-${id}`).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/done=revoked/);
    assert.equal(await page.getByTestId('key-row').filter({ hasText: `sk_test_…${secret.slice(-4)}` }).getAttribute('data-state'), 'revoked');
    assert.equal((await api(stack.gateway, 'GET', '/v1/balance', { key: secret })).status, 401);
    assert.deepEqual(problems, [], 'no script errors or CSP violations');
    await close();
  });
});
