import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { CSV_COLUMNS, buildSettlementReport, reportCsv, reportText } from '../../src/cli/report-command.js';
import { createAccount, createApiKeys, createIdGenerator } from '../../src/gateway/index.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { payInWallet, waitUntil, type PaymentStack } from '../support/e2e-harness.js';
import { startWorkerStack, type WorkerStack } from '../gateway/worker-support.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/**
 * `zhifu report settlement --date`: a day with payments and refunds in two settlement
 * currencies, one payment still open, and one whose state the gateway got wrong.
 */
describe('settlement report', () => {
  let ws: WorkerStack;
  let stack: PaymentStack;
  before(async () => {
    ws = await startWorkerStack();
    stack = ws.stack;
  });
  after(async () => {
    await stack.stop();
  });

  async function account(currency: string): Promise<string> {
    const ids = createIdGenerator(ws.clock);
    const row = await createAccount(stack.gateway.database.db, ws.clock, ids, { name: `Shop ${currency}`, settlementCurrency: currency });
    return (await createApiKeys(stack.gateway.database.db, ws.clock, ids, row.id, false)).secretKey;
  }

  async function paid(key: string, amount: number): Promise<{ id: string; latest_charge: string }> {
    const created = await api(stack.gateway, 'POST', '/v1/payment_intents', { key, json: { ...seedWebRequest(), amount } });
    assert.equal((await payInWallet(stack, { codeValue: created.body.next_action.alipay_handle_redirect.qr_code.data })).status, 200);
    return waitUntil(async () => {
      const intent = (await api(stack.gateway, 'GET', `/v1/payment_intents/${created.body.id}`, { key })).body;
      return intent.status === 'succeeded' ? intent : null;
    }, 'the payment to succeed');
  }

  it('lists the day\'s balance transactions with Alipay+ ids, totals per currency, and payments that differ from Alipay+', async () => {
    const gbp = await account('GBP');
    const eur = await account('EUR');
    const first = await paid(gbp, 10000); // GBP 1087, fee 33
    const second = await paid(gbp, 2000); // 2000 × 0.108673 = 217.346 → 217, fee 6.51 → 7
    const refund = await api(stack.gateway, 'POST', '/v1/refunds', { key: gbp, json: { payment_intent: first.id, amount: 5000 } }); // −547
    assert.equal(refund.body.status, 'succeeded', refund.text);
    const third = await paid(eur, 10000); // EUR 1286, fee 39
    const open = await api(stack.gateway, 'POST', '/v1/payment_intents', { key: eur, json: seedWebRequest() });
    assert.equal(open.body.status, 'requires_action');
    // The gateway's record of `second` is corrupted: the report must catch it against Alipay+.
    await stack.gateway.database.db.updateTable('payment_attempts').set({ status: 'failed' }).where('payment_request_id', '=', `${second.id}_1`).execute();

    const report = await buildSettlementReport(stack.gateway.database, (livemode, expected) => stack.alipayPlus.inquire(livemode, expected), '2026-11-26');
    assert.deepEqual(
      report.transactions.map((t) => [t.type, t.source, t.amount, t.currency, t.fee, t.net, t.alipay_request_id]),
      [
        ['charge', first.latest_charge, 1087, 'GBP', 33, 1054, `${first.id}_1`],
        ['charge', second.latest_charge, 217, 'GBP', 7, 210, `${second.id}_1`],
        ['refund', refund.body.id, -547, 'GBP', 0, -547, refund.body.id],
        ['charge', third.latest_charge, 1286, 'EUR', 39, 1247, `${third.id}_1`],
      ],
    );
    for (const txn of report.transactions) assert.match(txn.alipay_id ?? '', /\S/, `${txn.id} carries Alipay+'s paymentId or refundId`);
    assert.deepEqual(report.totals, [
      { livemode: false, currency: 'EUR', count: 1, amount: 1286, fee: 39, net: 1247 },
      { livemode: false, currency: 'GBP', count: 3, amount: 757, fee: 40, net: 717 },
    ]);
    assert.equal(report.paymentsChecked, 4);
    assert.deepEqual(report.mismatches.map((m) => [m.paymentRequestId, m.gatewayStatus, m.alipayPlus]), [[`${second.id}_1`, 'failed', 'succeeded']]);

    const csv = reportCsv(report).trimEnd().split('\r\n');
    assert.equal(csv[0], CSV_COLUMNS.join(','));
    assert.equal(csv.length, 5);
    const refundLine = csv[3]!.split(',');
    assert.deepEqual([refundLine[4], refundLine[5], refundLine[9], refundLine[10], refundLine[15]], ['refund', refund.body.id, '-547', 'GBP', refund.body.id]);
    const text = reportText(report);
    assert.match(text, /test GBP: 3 transaction\(s\), amount 757, fee 40, net 717/);
    assert.match(text, /differing: 1/);

    const empty = await buildSettlementReport(stack.gateway.database, null, '2026-11-25');
    assert.deepEqual([empty.transactions, empty.totals, empty.mismatches], [[], [], []]);
    await assert.rejects(buildSettlementReport(stack.gateway.database, null, '2026-02-30'), /calendar date/);
  });

  it('runs as `zhifu report settlement --date` and writes the CSV', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-report-'));
    try {
      const env = { ...process.env, ZHIFU_DATA_DIR: dir, ZHIFU_DATABASE_URL: `sqlite:${path.join(dir, 'zhifu.db')}` };
      const out = path.join(dir, 'day.csv');
      const run = spawnSync(process.execPath, [CLI, 'report', 'settlement', '--date', '2026-11-26', '--no-inquiry', '--out', out], { env, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /Settlement report for 2026-11-26 \(UTC\): 0 balance transaction/);
      assert.equal(readFileSync(out, 'utf8'), CSV_COLUMNS.join(',') + '\r\n');
      const bad = spawnSync(process.execPath, [CLI, 'report', 'settlement', '--date', '26/11/2026'], { env, encoding: 'utf8' });
      assert.notEqual(bad.status, 0);
      assert.match(bad.stderr, /calendar date YYYY-MM-DD/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
