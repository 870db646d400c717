import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAccount, createApiKeys, createIdGenerator } from '../../src/gateway/index.js';
import { createOperator } from '../../src/gateway/core/operators.js';
import { CSV_COLUMNS } from '../../src/gateway/core/settlement_report.js';
import { api } from '../support/gateway-server.js';
import { startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { DashboardClient } from '../support/dashboard-client.js';
import { form, judgeAtSandbox, onlyDisputeOf, openAtSandbox, paidPayment } from './disputes-support.js';

interface Txn { id: string; type: string; reporting_category: string; source: string; amount: number; fee: number; net: number; currency: string }

/** The `<tr>` of a page whose data-testid is `testId`, or undefined. */
function rowOf(page: string, testId: string): string | undefined {
  return new RegExp(`<tr data-testid="${testId}"[^>]*>([\\s\\S]*?)</tr>`).exec(page)?.[1];
}

function minorIn(row: string, field: string): number {
  const match = new RegExp(`data-field="${field}" data-minor="(-?\\d+)"`).exec(row);
  assert.ok(match, `no ${field} in ${row}`);
  return Number(match[1]);
}

function countIn(row: string): number {
  return Number(/data-field="count">(\d+)</.exec(row)?.[1]);
}

/** Every balance transaction row of a page: its id and the row's markup. */
function txnRows(page: string): Map<string, string> {
  return new Map([...page.matchAll(/<tr data-testid="txn-row" data-id="([^"]+)"[^>]*>([\s\S]*?)<\/tr>/g)].map((m) => [m[1]!, m[2]!]));
}

/**
 * Balance (api.md §8 `/dashboard/balance`): balances equal to `/v1/balance`, the balance
 * transactions linked to their payment or dispute, the daily settlement report and its CSV (the
 * CLI's report, scoped to the operator's account and mode), against the real sandbox.
 */
describe('dashboard balance page', () => {
  let stack: PaymentStack;
  let key: string;
  let otherKey: string;
  let accountId: string;
  let otherAccountId: string;
  let browser: DashboardClient;
  let otherBrowser: DashboardClient;
  let transactions: Txn[];
  let disputeId: string;
  const today = new Date().toISOString().slice(0, 10);

  before(async () => {
    stack = await startPaymentStack();
    const { database, clock } = stack.gateway;
    const ids = createIdGenerator(clock);
    const deps = { database, clock, ids };
    const account = await createAccount(database.db, clock, ids, { name: 'Balance Tea Shop', settlementCurrency: 'GBP' });
    const other = await createAccount(database.db, clock, ids, { name: 'Other Shop', settlementCurrency: 'EUR' });
    accountId = account.id;
    otherAccountId = other.id;
    key = (await createApiKeys(database.db, clock, ids, account.id, false)).secretKey;
    otherKey = (await createApiKeys(database.db, clock, ids, other.id, false)).secretKey;
    await createOperator(deps, { accountId, email: 'finance@tea.test', password: 'a long enough secret', role: 'viewer', liveAccess: false });
    await createOperator(deps, { accountId: otherAccountId, email: 'ops@other.test', password: 'a long enough secret', role: 'admin', liveAccess: false });

    // A day of the account: two payments, a partial refund, and a lost escalation.
    const first = await paidPayment(stack, key, 10000);
    const second = await paidPayment(stack, key, 2000);
    const refund = await api(stack.gateway, 'POST', '/v1/refunds', { key, json: { payment_intent: first.paymentIntentId, amount: 5000 } });
    assert.equal(refund.body.status, 'succeeded', refund.text);
    const opened = await openAtSandbox(stack, second.paymentId, { type: 'escalation', amount: 1000 });
    assert.equal(opened.status, 201, opened.text);
    disputeId = (await onlyDisputeOf(stack, key, second.chargeId)).id;
    await api(stack.gateway, 'POST', `/v1/disputes/${disputeId}`, { key, form: form({ 'evidence[receipt]': 'R' }) });
    assert.equal((await judgeAtSandbox(stack, opened.body.disputeId, 'lost')).status, 200);
    await paidPayment(stack, otherKey, 3000);

    transactions = (await api(stack.gateway, 'GET', '/v1/balance_transactions?limit=100', { key })).body.data;
    assert.deepEqual(transactions.map((t) => t.reporting_category).sort(), ['charge', 'charge', 'dispute', 'refund']);

    browser = new DashboardClient(stack.gateway);
    assert.equal((await browser.signIn('finance@tea.test', 'a long enough secret')).status, 303);
    otherBrowser = new DashboardClient(stack.gateway);
    assert.equal((await otherBrowser.signIn('ops@other.test', 'a long enough secret')).status, 303);
  });
  after(async () => {
    await stack.stop();
  });

  it('shows available and pending per settlement currency exactly as /v1/balance does', async () => {
    const balance = (await api(stack.gateway, 'GET', '/v1/balance', { key })).body;
    const page = await browser.get('/dashboard/balance');
    assert.equal(page.status, 200, page.text);
    assert.equal(balance.pending.length, 1);
    for (const side of ['available', 'pending'] as const) {
      for (const line of balance[side] as { amount: number; currency: string }[]) {
        const row = rowOf(page.text, `balance-${line.currency}`);
        assert.ok(row, `a balance row for ${line.currency}`);
        assert.equal(minorIn(row, side), line.amount, `${side} ${line.currency}`);
      }
    }
    assert.equal(rowOf(page.text, 'balance-EUR'), undefined, 'the other account\'s currency is not shown');
    // Pending is the sum of the nets (nothing is available on the day it happened).
    assert.equal(minorIn(rowOf(page.text, 'balance-GBP')!, 'pending'), transactions.reduce((sum, t) => sum + t.net, 0));
  });

  it('lists the account\'s balance transactions, each linked to its payment or dispute, and filters by type', async () => {
    const page = await browser.get('/dashboard/balance');
    const rows = txnRows(page.text);
    assert.deepEqual([...rows.keys()], transactions.map((t) => t.id), 'newest first, as the API lists them');
    const charge = transactions.find((t) => t.type === 'charge')!;
    const intentOf = async (chargeId: string) => (await api(stack.gateway, 'GET', `/v1/charges/${chargeId}`, { key })).body.payment_intent as string;
    assert.match(rows.get(charge.id)!, new RegExp(`href="/dashboard/payments/${await intentOf(charge.source)}"`));
    const refund = transactions.find((t) => t.type === 'refund')!;
    const refundObject = (await api(stack.gateway, 'GET', `/v1/refunds/${refund.source}`, { key })).body;
    assert.match(rows.get(refund.id)!, new RegExp(`href="/dashboard/payments/${refundObject.payment_intent}"`));
    const dispute = transactions.find((t) => t.type === 'dispute')!;
    assert.equal(dispute.source, disputeId);
    assert.match(rows.get(dispute.id)!, new RegExp(`href="/dashboard/disputes/${disputeId}"`));
    assert.equal(minorIn(rows.get(refund.id)!, 'amount'), refund.amount);

    const refunds = await browser.get('/dashboard/balance?type=refund');
    assert.deepEqual([...txnRows(refunds.text).keys()], [refund.id]);
    assert.match(refunds.text, /<option value="refund" selected>/);

    const paged = await browser.get(`/dashboard/balance?starting_after=${transactions[1]!.id}`);
    assert.deepEqual([...txnRows(paged.text).keys()], transactions.slice(2).map((t) => t.id));
    const previous = /data-testid="page-previous" href="([^"]+)"/.exec(paged.text)?.[1]?.replaceAll('&amp;', '&');
    assert.ok(previous, 'a way back to the newer transactions');
    assert.deepEqual([...txnRows((await browser.get(previous)).text).keys()], transactions.slice(0, 2).map((t) => t.id));

    const bad = await browser.get('/dashboard/balance?type=payout');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /type must be one of charge, refund, dispute, adjustment/);
  });

  it('never shows another account\'s transactions, even by cursor', async () => {
    const others = (await api(stack.gateway, 'GET', '/v1/balance_transactions', { key: otherKey })).body.data as Txn[];
    assert.equal(others.length, 1);
    const mine = await browser.get('/dashboard/balance');
    assert.ok(!mine.text.includes(others[0]!.id));
    const theirs = await otherBrowser.get('/dashboard/balance');
    assert.deepEqual([...txnRows(theirs.text).keys()], [others[0]!.id]);
    for (const t of transactions) assert.ok(!theirs.text.includes(t.id), `${t.id} is not on the other account's page`);
    const cursor = await otherBrowser.get(`/dashboard/balance?starting_after=${transactions[0]!.id}`);
    assert.equal(cursor.status, 400, 'another account\'s transaction is no cursor');
    const csv = await otherBrowser.get(`/dashboard/balance/report.csv?date=${today}`);
    assert.deepEqual(csv.text.trimEnd().split('\r\n').slice(1).map((line) => line.split(',')[0]), [others[0]!.id]);
  });

  it('shows the day\'s settlement report: totals per currency, dispute money, and the day\'s transactions', async () => {
    const page = await browser.get(`/dashboard/balance?date=${today}`);
    assert.equal(page.status, 200);
    const totals = rowOf(page.text, 'report-total-GBP')!;
    const sum = (field: 'amount' | 'fee' | 'net') => transactions.reduce((total, t) => total + t[field], 0);
    assert.equal(countIn(totals), 4);
    assert.equal(minorIn(totals, 'amount'), sum('amount'));
    assert.equal(minorIn(totals, 'fee'), sum('fee'));
    assert.equal(minorIn(totals, 'net'), sum('net'));
    assert.equal(rowOf(page.text, 'report-total-EUR'), undefined, 'only this account\'s currencies');
    const dispute = transactions.find((t) => t.type === 'dispute')!;
    const disputes = rowOf(page.text, 'report-dispute-GBP')!;
    assert.equal(minorIn(disputes, 'withdrawn'), dispute.amount);
    assert.ok(dispute.amount < 0);
    assert.equal(minorIn(disputes, 'reinstated'), 0);
    assert.equal(minorIn(disputes, 'net'), dispute.amount);
    assert.match(page.text, /data-testid="transactions-title">[^<]*\d{4}-\d{2}-\d{2}</);
    assert.deepEqual([...txnRows(page.text).keys()], transactions.map((t) => t.id));
    assert.match(page.text, new RegExp(`href="/dashboard/balance/report.csv\\?date=${today}"`));
    assert.match(page.text, /data-testid="report-inquiry-note"/, 'the page says the Alipay+ check is the CLI\'s');

    const empty = await browser.get('/dashboard/balance?date=2020-01-01');
    assert.equal(empty.status, 200);
    assert.equal(rowOf(empty.text, 'report-total-GBP'), undefined);
    assert.deepEqual([...txnRows(empty.text).keys()], []);
    assert.equal(minorIn(rowOf(empty.text, 'balance-GBP')!, 'pending'), sum('net'), 'the balance does not depend on the report\'s day');
  });

  it('downloads the day\'s CSV with the CLI\'s columns, scoped to the account and mode', async () => {
    const csv = await browser.get(`/dashboard/balance/report.csv?date=${today}`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(csv.headers.get('content-disposition'), `attachment; filename="settlement-${today}-test.csv"`);
    assert.equal(csv.headers.get('cache-control'), 'no-store');
    const [header, ...lines] = csv.text.trimEnd().split('\r\n');
    assert.equal(header, CSV_COLUMNS.join(','));
    const byId = new Map(lines.map((line) => [line.split(',')[0], line.split(',')]));
    assert.deepEqual([...byId.keys()].sort(), transactions.map((t) => t.id).sort());
    for (const t of transactions) {
      const cells = byId.get(t.id)!;
      const at = (column: (typeof CSV_COLUMNS)[number]) => cells[CSV_COLUMNS.indexOf(column)];
      assert.deepEqual([at('account'), at('livemode'), at('type'), at('source'), Number(at('amount')), at('currency'), Number(at('fee')), Number(at('net')), at('reporting_category')],
        [accountId, 'false', t.type, t.source, t.amount, 'GBP', t.fee, t.net, t.reporting_category]);
    }
    const emptyDay = await browser.get('/dashboard/balance/report.csv?date=2020-01-01');
    assert.equal(emptyDay.text, CSV_COLUMNS.join(',') + '\r\n');
  });

  it('answers a malformed date with a 400 page, never a 500', async () => {
    for (const path of ['/dashboard/balance?date=2026-02-30', '/dashboard/balance?date=yesterday', '/dashboard/balance/report.csv?date=26%2F11%2F2026', '/dashboard/balance/report.csv']) {
      const answer = await browser.get(path);
      assert.equal(answer.status, 400, path);
      assert.match(answer.text, /date/, path);
      assert.match(answer.headers.get('content-type') ?? '', /text\/html/);
    }
  });

  it('shows live data only in live mode, and only to operators allowed it', async () => {
    const live = await browser.get('/dashboard/balance?mode=live');
    assert.equal(live.status, 403, 'this viewer has no live access');
    const liveCsv = await browser.get(`/dashboard/balance/report.csv?date=${today}&mode=live`);
    assert.equal(liveCsv.status, 403);
  });
});
