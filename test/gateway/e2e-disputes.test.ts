import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { ON_POSTGRES, api } from '../support/gateway-server.js';
import { startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { startReceiver, type Receiver } from '../support/webhook-harness.js';
import {
  DISPUTE_EVENTS,
  EVIDENCE,
  assertEventsAndWebhooks as assertWebhooks,
  balanceIn,
  closeDispute,
  disputeEventTypes,
  disputeEvents,
  disputeTransactions,
  documentsOf,
  gatewayDispute,
  judge,
  listDisputeTransactions,
  openDispute,
  paidCharge,
  retrieveDispute,
  sandboxDispute,
  settlementReport,
  sortedDocuments,
  subscribeToDisputes,
  updateDispute,
  utcDate,
  type PaidCharge,
} from '../support/dispute-support.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/**
 * Every answered path of a dispute through the real sandbox over signed HTTP (issue 10): the
 * sandbox's control API raises it as Alipay+ would, the merchant answers through the API, the
 * sandbox judges, and the money, the events, the webhooks and the settlement report follow.
 * The default account settles in HKD and the payments are in HKD, so amounts are exact.
 */
describe('disputes end to end: retrievals and escalations answered, judged, accepted', () => {
  let stack: PaymentStack;
  let receiver: Receiver;
  let webhookSecret = '';
  let key = '';

  before(async () => {
    stack = await startPaymentStack();
    key = stack.gateway.secretKey;
    receiver = await startReceiver();
    webhookSecret = await subscribeToDisputes(stack, key, receiver);
  });
  after(async () => {
    await stack.stop();
    await receiver.close();
  });

  const assertEventsAndWebhooks = (disputeId: string, expected: readonly string[]) => assertWebhooks(stack, key, receiver, webhookSecret, disputeId, expected);

  /** The report of today lists the dispute's balance transactions as `dispute` lines, and its totals equal the balance. */
  async function assertReport(disputeId: string, amounts: number[]): Promise<void> {
    const report = await settlementReport(stack, utcDate(Date.now()));
    const lines = report.transactions.filter((t) => t.source === disputeId);
    assert.deepEqual(lines.map((t) => [t.type, t.amount, t.currency, t.fee, t.net]), amounts.map((a) => ['dispute', a, 'HKD', 0, a]), 'dispute lines in the report');
    const hkd = report.totals.find((t) => t.currency === 'HKD' && !t.livemode);
    assert.equal(hkd?.net, await balanceIn(stack, key, 'HKD'), 'the day\'s HKD total equals the balance (every transaction of this account is today)');
    // The dispute totals: withdrawals are the day's negative dispute lines, reinstatements the positive ones.
    const disputeLines = report.transactions.filter((t) => t.type === 'dispute' && t.currency === 'HKD' && t.livemode === 0);
    const out = disputeLines.filter((t) => t.amount < 0);
    const back = disputeLines.filter((t) => t.amount > 0);
    const sum = (lines: { amount: number }[]) => lines.reduce((total, t) => total + t.amount, 0);
    const expected = disputeLines.length === 0 ? [] : [{ livemode: false, currency: 'HKD', withdrawals: { count: out.length, amount: sum(out) }, reinstatements: { count: back.length, amount: sum(back) }, net: sum(disputeLines) }];
    assert.deepEqual(report.disputes.filter((t) => t.currency === 'HKD'), expected, 'dispute withdrawals and reinstatements totalled on their own');
  }

  it('retrieval answered with evidence → warning_under_review, the sandbox holds the documents; judged closed → warning_closed; no money moves', async () => {
    const paid = await paidCharge(stack, { amount: 1000 });
    const balanceBefore = await balanceIn(stack, key, 'HKD');
    const opened = await openDispute(stack, paid.paymentId, { type: 'retrieval', reasonCode: 'TRANSACTION_INFORMATION_REQUEST', reasonMessage: 'what was bought?' });
    assert.deepEqual([opened.type, opened.state, opened.paymentId, opened.paymentRequestId], ['RETRIEVAL', 'OPEN', paid.paymentId, paid.paymentRequestId]);
    assert.deepEqual(opened.deliveries.map((d: { api: string; ackStatus: string }) => [d.api, d.ackStatus]), [['initiateRetrieval', 'S']]);

    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    assert.match(dispute.id, /^dp_\d{19}$/);
    assert.deepEqual(
      [dispute.object, dispute.amount, dispute.currency, dispute.charge, dispute.payment_intent, dispute.reason, dispute.status, dispute.livemode, dispute.network_reason_code],
      ['dispute', 1000, 'HKD', paid.chargeId, paid.intentId, 'general', 'warning_needs_response', false, 'TRANSACTION_INFORMATION_REQUEST'],
    );
    assert.deepEqual(dispute.evidence_details, { due_by: Date.parse(opened.responseDeadline), has_evidence: false, past_due: false, submission_count: 0 });
    assert.deepEqual(dispute.payment_method_details, { type: 'alipay', alipay: { dispute_type: 'retrieval', dispute_request_id: opened.disputeRequestId } });
    assert.deepEqual(dispute.balance_transactions, []);
    assert.equal(dispute.is_charge_refundable, true, 'a retrieval does not block refunds');
    assert.equal(dispute.evidence.product_description, null);
    const charge = await api(stack.gateway, 'GET', `/v1/charges/${paid.chargeId}`, { key });
    assert.equal(charge.body.disputed, true);

    const submitted = await updateDispute(stack, key, dispute.id, { evidence: EVIDENCE });
    assert.equal(submitted.status, 200, submitted.text);
    assert.equal(submitted.body.status, 'warning_under_review');
    assert.deepEqual([submitted.body.evidence_details.has_evidence, submitted.body.evidence_details.submission_count], [true, 1]);
    for (const [field, text] of Object.entries(EVIDENCE)) assert.equal(submitted.body.evidence[field], text, field);

    const responded = await sandboxDispute(stack, opened.disputeId);
    assert.equal(responded.state, 'RESPONDED');
    assert.equal(responded.response.api, 'responseRetrieval');
    assert.deepEqual([responded.response.body.disputeRequestId, responded.response.body.paymentRequestId, responded.response.body.responseCode], [opened.disputeRequestId, paid.paymentRequestId, '0001']);
    assert.deepEqual(sortedDocuments(responded.response.body.otherDocumentation), documentsOf(EVIDENCE));

    const again = await updateDispute(stack, key, dispute.id, { evidence: { uncategorized_text: 'more' } });
    assert.deepEqual([again.status, again.body.error?.type, again.body.error?.code], [400, 'invalid_request_error', 'dispute_not_updatable'], again.text);
    assert.match(again.body.error.message, /review/i);
    const tagged = await updateDispute(stack, key, dispute.id, { metadata: { case: 'R-1' } });
    assert.deepEqual([tagged.status, tagged.body.metadata, tagged.body.status], [200, { case: 'R-1' }, 'warning_under_review'], tagged.text);

    const closed = await judge(stack, opened.disputeId, 'closed');
    assert.deepEqual([closed.state, closed.deliveries.at(-1).api, closed.deliveries.at(-1).ackStatus], ['CLOSED', 'notifyDisputeResult', 'S']);
    const final = await retrieveDispute(stack, key, dispute.id);
    assert.deepEqual([final.status, final.evidence_details.past_due, final.balance_transactions], ['warning_closed', false, []]);
    assert.equal(await balanceIn(stack, key, 'HKD'), balanceBefore, 'a retrieval moves no money');
    assert.deepEqual(await disputeTransactions(stack, key, dispute.id), []);
    await assertEventsAndWebhooks(dispute.id, ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.updated', 'charge.dispute.closed']);
    await assertReport(dispute.id, []);
  });

  it('a retrieval closed by the merchant → warning_closed, nothing sent to Alipay+', async () => {
    const paid = await paidCharge(stack, { amount: 300 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'retrieval' });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    const closed = await closeDispute(stack, key, dispute.id);
    assert.deepEqual([closed.status, closed.body.status], [200, 'warning_closed'], closed.text);
    const view = await sandboxDispute(stack, opened.disputeId);
    assert.deepEqual([view.state, view.response], ['OPEN', null], 'closing an inquiry sends nothing');
    const twice = await closeDispute(stack, key, dispute.id);
    assert.deepEqual([twice.status, twice.body.error?.code], [400, 'dispute_not_updatable']);
    await assertEventsAndWebhooks(dispute.id, ['charge.dispute.created', 'charge.dispute.closed']);
  });

  /** Opens an escalation for `amount` (default all) and checks the withdrawal; the gateway dispute and the balance before. */
  async function escalated(paid: PaidCharge, amount?: number, reasonCode = 'GOODS_NOT_RECEIVED') {
    const balanceBefore = await balanceIn(stack, key, 'HKD');
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation', reasonCode, ...(amount === undefined ? {} : { amount }) });
    const disputed = amount ?? paid.amount;
    assert.deepEqual([opened.type, opened.state, opened.amount], ['ESCALATION', 'OPEN', { currency: paid.currency, value: String(disputed) }]);
    assert.deepEqual(opened.deliveries.map((d: { api: string; ackStatus: string }) => [d.api, d.ackStatus]), [['initiateEscalation', 'S']]);
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    assert.deepEqual([dispute.status, dispute.amount, dispute.currency, dispute.is_charge_refundable], ['needs_response', disputed, 'HKD', false]);
    assert.equal(dispute.payment_method_details.alipay.dispute_type, 'escalation');
    const [withdrawal, ...rest] = dispute.balance_transactions;
    assert.deepEqual(rest, []);
    assert.deepEqual([withdrawal.object, withdrawal.type, withdrawal.amount, withdrawal.currency, withdrawal.fee, withdrawal.net, withdrawal.source], ['balance_transaction', 'dispute', -disputed, 'HKD', 0, -disputed, dispute.id]);
    assert.deepEqual((await disputeTransactions(stack, key, dispute.id)).map((t) => t.id), [withdrawal.id]);
    assert.equal(await balanceIn(stack, key, 'HKD'), balanceBefore - disputed, 'GET /v1/balance drops by the disputed amount');
    return { opened, dispute, balanceBefore, disputed };
  }

  it('escalation answered and won: withdrawn at open, refunds refused while open, under_review, reinstated when won', async () => {
    const paid = await paidCharge(stack, { amount: 1000 });
    const { opened, dispute, balanceBefore } = await escalated(paid);
    assert.equal(dispute.reason, 'product_not_received');

    for (const [param, body] of [['payment_intent', { payment_intent: paid.intentId }], ['charge', { charge: paid.chargeId, amount: 100 }]] as const) {
      const refused = await api(stack.gateway, 'POST', '/v1/refunds', { key, json: body });
      assert.deepEqual([refused.status, refused.body.error?.type, refused.body.error?.code, refused.body.error?.param], [400, 'invalid_request_error', 'charge_disputed', param], refused.text);
    }
    const submitted = await updateDispute(stack, key, dispute.id, { evidence: EVIDENCE, metadata: { order: '42' } });
    assert.deepEqual([submitted.status, submitted.body.status, submitted.body.evidence_details.submission_count, submitted.body.metadata], [200, 'under_review', 1, { order: '42' }], submitted.text);
    const responded = await sandboxDispute(stack, opened.disputeId);
    assert.deepEqual([responded.state, responded.response.api, responded.response.body.refundType], ['RESPONDED', 'responseEscalation', 'REFUSE_REFUND']);
    assert.deepEqual(sortedDocuments(responded.response.body.defenseDocumentation), documentsOf(EVIDENCE));
    assert.equal((await api(stack.gateway, 'POST', '/v1/refunds', { key, json: { payment_intent: paid.intentId } })).body.error?.code, 'charge_disputed', 'still refused under review');

    const won = await judge(stack, opened.disputeId, 'won');
    assert.deepEqual([won.state, won.deliveries.at(-1).api, won.deliveries.at(-1).ackStatus], ['WON', 'notifyDisputeResult', 'S']);
    const final = await retrieveDispute(stack, key, dispute.id);
    assert.deepEqual([final.status, final.is_charge_refundable], ['won', true]);
    assert.deepEqual(final.balance_transactions.map((t: { type: string; amount: number; net: number }) => [t.type, t.amount, t.net]), [['dispute', -1000, -1000], ['dispute', 1000, 1000]]);
    assert.equal(await balanceIn(stack, key, 'HKD'), balanceBefore, 'the balance is back');
    await assertEventsAndWebhooks(dispute.id, DISPUTE_EVENTS.escalationWon);
    const events = await disputeEvents(stack, key, dispute.id);
    assert.equal(events.at(-1).data.object.status, 'won');
    await assertReport(dispute.id, [-1000, 1000]);
  });

  it('escalation of part of a payment answered and lost: the withdrawal stays; the rest is still refundable, no more', async () => {
    const paid = await paidCharge(stack, { amount: 1000 });
    const { opened, dispute, balanceBefore } = await escalated(paid, 400, 'FRAUD');
    assert.equal(dispute.reason, 'fraudulent');
    const submitted = await updateDispute(stack, key, dispute.id, { evidence: { uncategorized_text: 'the shopper signed for it' }, submit: true });
    assert.equal(submitted.body.status, 'under_review', submitted.text);
    const lost = await judge(stack, opened.disputeId, 'lost');
    assert.equal(lost.state, 'LOST');
    const final = await retrieveDispute(stack, key, dispute.id);
    assert.deepEqual([final.status, final.balance_transactions.length, final.is_charge_refundable], ['lost', 1, true]);
    assert.equal(await balanceIn(stack, key, 'HKD'), balanceBefore - 400);
    await assertEventsAndWebhooks(dispute.id, DISPUTE_EVENTS.escalationLost);
    await assertReport(dispute.id, [-400]);

    const tooMuch = await api(stack.gateway, 'POST', '/v1/refunds', { key, json: { payment_intent: paid.intentId, amount: 601 } });
    assert.equal(tooMuch.status, 400, `a lost escalation counts against the charge: ${tooMuch.text}`);
    const rest = await api(stack.gateway, 'POST', '/v1/refunds', { key, json: { payment_intent: paid.intentId } });
    assert.deepEqual([rest.status, rest.body.amount, rest.body.status], [200, 600, 'succeeded'], rest.text);
    const payment = (await stack.control('GET', `/sandbox/v1/payments/${paid.paymentId}`)).body;
    assert.equal(payment.refundedAmount.value, '600');
  });

  it('escalation accepted via close → lost at once, the sandbox receives ACCEPT_REFUND for the whole amount', async () => {
    const paid = await paidCharge(stack, { amount: 800 });
    const { opened, dispute, balanceBefore } = await escalated(paid);
    const closed = await closeDispute(stack, key, dispute.id);
    assert.deepEqual([closed.status, closed.body.status], [200, 'lost'], closed.text);
    const view = await sandboxDispute(stack, opened.disputeId);
    assert.deepEqual([view.state, view.response.api, view.response.body.refundType, view.response.body.refundAmount], ['ACCEPTED', 'responseEscalation', 'ACCEPT_REFUND', { currency: 'HKD', value: '800' }]);
    assert.equal(view.response.body.disputeRequestId, opened.disputeRequestId);
    const submitLater = await updateDispute(stack, key, dispute.id, { evidence: EVIDENCE });
    assert.deepEqual([submitLater.status, submitLater.body.error?.code], [400, 'dispute_not_updatable']);
    assert.match(submitLater.body.error.message, /closed|lost/i);
    assert.equal(await balanceIn(stack, key, 'HKD'), balanceBefore - 800);
    await assertEventsAndWebhooks(dispute.id, DISPUTE_EVENTS.escalationAccepted);
    await assertReport(dispute.id, [-800]);
  });

  it('a staged answer (submit=false) sends nothing and can be submitted later', async () => {
    const paid = await paidCharge(stack, { amount: 500 });
    const { opened, dispute } = await escalated(paid);
    const staged = await updateDispute(stack, key, dispute.id, { evidence: { product_description: 'tea' }, submit: false });
    assert.deepEqual([staged.status, staged.body.status, staged.body.evidence_details.has_evidence, staged.body.evidence_details.submission_count], [200, 'needs_response', true, 0], staged.text);
    assert.equal((await sandboxDispute(stack, opened.disputeId)).response, null);
    const sent = await updateDispute(stack, key, dispute.id, { evidence: { receipt: 'r-1' } });
    assert.equal(sent.body.status, 'under_review', sent.text);
    const view = await sandboxDispute(stack, opened.disputeId);
    assert.deepEqual(sortedDocuments(view.response.body.defenseDocumentation), documentsOf({ product_description: 'tea', receipt: 'r-1' }), 'staged and new evidence together');
    await judge(stack, opened.disputeId, 'won');
    assert.deepEqual(await disputeEventTypes(stack, key, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_reinstated']);
  });

  it('GET /v1/balance_transactions?type=dispute lists the withdrawals and reinstatements, and nothing else', async () => {
    const paid = await paidCharge(stack, { amount: 250 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation' });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    await judge(stack, opened.disputeId, 'won');
    const listed = await listDisputeTransactions(stack, key);
    assert.ok(listed.every((t) => t.type === 'dispute'), 'only dispute transactions');
    assert.deepEqual(listed.filter((t) => t.source === dispute.id).map((t) => t.amount), [250, -250], 'newest first: the reinstatement, then the withdrawal');
  });

  it('`zhifu report settlement` over the gateway\'s database lists the day\'s dispute withdrawals and reinstatements', { skip: ON_POSTGRES && 'the CLI opens a database by URL; the test gateway\'s PostgreSQL schema is private (the report core is checked above on both databases)' }, async () => {
    const paid = await paidCharge(stack, { amount: 450 });
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation' });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    await judge(stack, opened.disputeId, 'won');
    const file = (await sql<{ file: string }>`pragma database_list`.execute(stack.gateway.database.db)).rows.find((row) => row.file)?.file;
    assert.ok(file, 'the gateway\'s SQLite file');
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-dispute-report-'));
    try {
      const out = path.join(dir, 'day.csv');
      const env = { ...process.env, ZHIFU_DATA_DIR: dir, ZHIFU_DATABASE_URL: `sqlite:${file}` };
      const run = spawnSync(process.execPath, [CLI, 'report', 'settlement', '--date', utcDate(Date.now()), '--no-inquiry', '--out', out], { env, encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      const printed = run.stdout.split('\n').filter((line) => line.includes(dispute.id));
      assert.equal(printed.length, 2, run.stdout);
      assert.match(printed[0]!, /\bdispute .*HKD -450 .*net -450/);
      assert.match(printed[1]!, /\bdispute_reversal .*HKD 450 .*net 450/);
      const core = (await settlementReport(stack, utcDate(Date.now()))).disputes.find((t) => t.currency === 'HKD' && !t.livemode);
      assert.ok(core && core.reinstatements.count >= 1);
      assert.ok(
        run.stdout.includes(`test HKD: withdrawn ${core.withdrawals.count} (${core.withdrawals.amount}), reinstated ${core.reinstatements.count} (${core.reinstatements.amount}), net ${core.net}`),
        run.stdout,
      );
      const csv = readFileSync(out, 'utf8').split('\r\n').filter((line) => line.includes(dispute.id));
      assert.deepEqual(csv.map((line) => [line.split(',')[4], line.split(',').at(-1)]), [['dispute', 'dispute'], ['dispute', 'dispute_reversal']]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a CNY payment settled in HKD: the withdrawal converts with the payment\'s own quote', async () => {
    const paid = await paidCharge(stack, { amount: 10000, currency: 'CNY' });
    const charge = await api(stack.gateway, 'GET', `/v1/charges/${paid.chargeId}`, { key });
    const chargeTxn = await api(stack.gateway, 'GET', `/v1/balance_transactions/${charge.body.balance_transaction}`, { key });
    const rate = chargeTxn.body.exchange_rate as number;
    const scaled = BigInt(Math.round(rate * 1e8));
    const converted = Number((3000n * scaled + 50_000_000n) / 100_000_000n);
    const before = await balanceIn(stack, key, 'HKD');
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation', amount: 3000 });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    assert.deepEqual([dispute.amount, dispute.currency], [3000, 'CNY']);
    const [withdrawal] = dispute.balance_transactions;
    assert.deepEqual([withdrawal.amount, withdrawal.currency, withdrawal.exchange_rate], [-converted, 'HKD', rate]);
    assert.equal(await balanceIn(stack, key, 'HKD'), before - converted);
    await judge(stack, opened.disputeId, 'won');
    const final = await retrieveDispute(stack, key, dispute.id);
    assert.deepEqual(final.balance_transactions.map((t: { amount: number }) => t.amount), [-converted, converted]);
    assert.equal(await balanceIn(stack, key, 'HKD'), before);
  });
});
