import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../support/gateway-server.js';
import { startWorkerStack, type WorkerStack } from './worker-support.js';
import type { PaymentStack } from '../support/e2e-harness.js';
import { startReceiver, type Receiver } from '../support/webhook-harness.js';
import {
  DISPUTE_EVENTS,
  EVIDENCE,
  assertEventsAndWebhooks,
  balanceIn,
  closeDispute,
  disputesOf,
  gatewayDispute,
  openDispute,
  openDisputeRaw,
  paidCharge,
  retrieveDispute,
  runDisputeWorker,
  sandboxDispute,
  settlementReport,
  subscribeToDisputes,
  updateDispute,
  utcDate,
} from '../support/dispute-support.js';

const DAY = 24 * 3600_000;
/** The gateway signs webhooks with the manual clock's time, which may be days or years from real now. */
const MANUAL_CLOCK_TOLERANCE_SEC = 10 * 365 * 24 * 3600;

/**
 * Deadlines and the Alipay+ limits, on one manual clock for both sides: the sandbox's
 * `responseDeadline` becomes `due_by`, and once the clock passes it the gateway's worker closes
 * the dispute as Alipay+ would (retrieval → warning_closed, escalation → lost); the limits are
 * the sandbox's control API refusing to raise a dispute the network would not.
 */
describe('disputes left past due, and the limits of raising them', () => {
  let ws: WorkerStack;
  let stack: PaymentStack;
  let key = '';
  let receiver: Receiver;
  let secret = '';
  before(async () => {
    ws = await startWorkerStack();
    stack = ws.stack;
    key = stack.gateway.secretKey;
    receiver = await startReceiver();
    secret = await subscribeToDisputes(stack, key, receiver);
  });
  after(async () => {
    await stack.stop();
    await receiver.close();
  });

  it('a retrieval left past due → warning_closed with past_due; a late answer is refused', async () => {
    const paid = await paidCharge(stack, { amount: 700 });
    const balance = await balanceIn(stack, key, 'HKD');
    const opened = await openDispute(stack, paid.paymentId, { type: 'retrieval', dueInDays: 2 });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    assert.equal(dispute.evidence_details.due_by, Date.parse(opened.responseDeadline));
    assert.ok(Math.abs(dispute.evidence_details.due_by - (ws.clock.now() + 2 * DAY)) < 1000);
    await runDisputeWorker(ws);
    assert.equal((await retrieveDispute(stack, key, dispute.id)).status, 'warning_needs_response', 'not due yet: the worker leaves it');

    ws.clock.advance(2 * DAY + 60_000);
    await runDisputeWorker(ws);
    const closed = await retrieveDispute(stack, key, dispute.id);
    assert.deepEqual([closed.status, closed.evidence_details.past_due, closed.evidence_details.submission_count], ['warning_closed', true, 0]);
    const late = await updateDispute(stack, key, dispute.id, { evidence: EVIDENCE });
    assert.deepEqual([late.status, late.body.error?.type, late.body.error?.code], [400, 'invalid_request_error', 'dispute_not_updatable'], late.text);
    assert.equal((await updateDispute(stack, key, dispute.id, { metadata: { late: 'yes' } })).status, 200, 'metadata is always allowed');
    const view = await sandboxDispute(stack, opened.disputeId);
    assert.deepEqual([view.state, view.response], ['EXPIRED', null]);
    await assertEventsAndWebhooks(stack, key, receiver, secret, dispute.id, ['charge.dispute.created', 'charge.dispute.closed', 'charge.dispute.updated'], MANUAL_CLOCK_TOLERANCE_SEC);
    assert.equal(await balanceIn(stack, key, 'HKD'), balance);
  });

  it('an escalation left past due → lost, the withdrawal kept; a late close is refused', async () => {
    const paid = await paidCharge(stack, { amount: 900 });
    const balance = await balanceIn(stack, key, 'HKD');
    const opened = await openDispute(stack, paid.paymentId, { type: 'escalation', dueInDays: 0.5 });
    const dispute = await gatewayDispute(stack, paid, opened.disputeRequestId);
    assert.equal(await balanceIn(stack, key, 'HKD'), balance - 900);
    ws.clock.advance(DAY);
    const tooLate = await updateDispute(stack, key, dispute.id, { evidence: EVIDENCE });
    assert.deepEqual([tooLate.status, tooLate.body.error?.code], [400, 'dispute_not_updatable'], `past due_by, even before the worker ran: ${tooLate.text}`);
    assert.match(tooLate.body.error.message, /past due|due/i);
    await runDisputeWorker(ws);
    const lost = await retrieveDispute(stack, key, dispute.id);
    assert.deepEqual([lost.status, lost.evidence_details.past_due, lost.balance_transactions.length], ['lost', true, 1]);
    assert.equal(await balanceIn(stack, key, 'HKD'), balance - 900, 'the withdrawal stays');
    assert.deepEqual([(await closeDispute(stack, key, dispute.id)).body.error?.code], ['dispute_not_updatable']);
    assert.equal((await sandboxDispute(stack, opened.disputeId)).state, 'EXPIRED');
    await assertEventsAndWebhooks(stack, key, receiver, secret, dispute.id, DISPUTE_EVENTS.escalationPastDue, MANUAL_CLOCK_TOLERANCE_SEC);
    const report = await settlementReport(stack, utcDate(ws.clock.now() - DAY));
    assert.deepEqual(report.transactions.filter((t) => t.source === dispute.id).map((t) => [t.type, t.amount, t.net]), [['dispute', -900, -900]]);
  });

  it('the limits: 5 retrievals, one ongoing at a time; 2 escalations; no more than is disputable; only paid payments', async () => {
    const paid = await paidCharge(stack, { amount: 1000 });
    for (let n = 1; n <= 5; n++) {
      const opened = await openDispute(stack, paid.paymentId, { type: 'retrieval' });
      const ongoing = await openDisputeRaw(stack, paid.paymentId, { type: 'retrieval' });
      // The fifth is both ongoing and the last allowed: either refusal is right.
      const expected = n < 5 ? ['DISPUTE_ONGOING'] : ['DISPUTE_ONGOING', 'RETRIEVAL_LIMIT_EXCEEDED'];
      assert.equal(ongoing.status, 409, `retrieval ${n}: ${ongoing.text}`);
      assert.ok(expected.includes(ongoing.body.error?.code), `retrieval ${n}: ${ongoing.text}`);
      const judged = await stack.control('POST', `/sandbox/v1/disputes/${opened.disputeId}/judge`, { outcome: 'closed' });
      assert.equal(judged.status, 200, judged.text);
    }
    const sixth = await openDisputeRaw(stack, paid.paymentId, { type: 'retrieval' });
    assert.deepEqual([sixth.status, sixth.body.error?.code], [409, 'RETRIEVAL_LIMIT_EXCEEDED'], sixth.text);
    const retrievals = await disputesOf(stack, key, paid.intentId);
    assert.deepEqual(retrievals.map((d) => d.status), Array(5).fill('warning_closed'), 'the gateway recorded the five, nothing for the refused');

    const first = await openDispute(stack, paid.paymentId, { type: 'escalation', amount: 300 });
    const whileOngoing = await openDisputeRaw(stack, paid.paymentId, { type: 'escalation', amount: 100 });
    assert.deepEqual([whileOngoing.status, whileOngoing.body.error?.code], [409, 'DISPUTE_ONGOING'], whileOngoing.text);
    await stack.control('POST', `/sandbox/v1/disputes/${first.disputeId}/judge`, { outcome: 'lost' });
    const overDisputable = await openDisputeRaw(stack, paid.paymentId, { type: 'escalation', amount: 701 });
    assert.deepEqual([overDisputable.status, overDisputable.body.error?.code], [409, 'DISPUTE_AMOUNT_EXCEED'], `1000 paid − 300 lost leaves 700: ${overDisputable.text}`);
    const second = await openDispute(stack, paid.paymentId, { type: 'escalation' });
    assert.deepEqual(second.amount, { currency: 'HKD', value: '700' }, 'by default all that is disputable');
    await stack.control('POST', `/sandbox/v1/disputes/${second.disputeId}/judge`, { outcome: 'won' });
    const third = await openDisputeRaw(stack, paid.paymentId, { type: 'escalation', amount: 1 });
    assert.deepEqual([third.status, third.body.error?.code], [409, 'ESCALATION_LIMIT_EXCEEDED'], third.text);
    assert.equal((await disputesOf(stack, key, paid.intentId)).length, 7);

    const refunded = await paidCharge(stack, { amount: 1000 });
    const refund = await api(stack.gateway, 'POST', '/v1/refunds', { key, json: { payment_intent: refunded.intentId, amount: 400 } });
    assert.equal(refund.body.status, 'succeeded', refund.text);
    const overRefunded = await openDisputeRaw(stack, refunded.paymentId, { type: 'escalation', amount: 601 });
    assert.deepEqual([overRefunded.status, overRefunded.body.error?.code], [409, 'DISPUTE_AMOUNT_EXCEED'], overRefunded.text);
    const fits = await openDispute(stack, refunded.paymentId, { type: 'escalation' });
    assert.deepEqual(fits.amount, { currency: 'HKD', value: '600' });

    const unpaid = await stack.createPaymentIntent({ amount: 500, currency: 'HKD', confirm: true, payment_method_data: { type: 'alipay' }, payment_method_options: { alipay: { terminal_type: 'WEB' } }, return_url: 'https://shop.example/return' });
    assert.equal(unpaid.body.status, 'requires_action', unpaid.text);
    const attempt = await stack.gateway.database.db.selectFrom('payment_attempts').select('external_payment_id').where('payment_intent_id', '=', unpaid.body.id).executeTakeFirstOrThrow();
    const notPaid = await openDisputeRaw(stack, attempt.external_payment_id as string, { type: 'retrieval' });
    assert.deepEqual([notPaid.status, notPaid.body.error?.code], [409, 'PAYMENT_NOT_PAID'], notPaid.text);
    const badType = await stack.control('POST', `/sandbox/v1/payments/${refunded.paymentId}/disputes`, { type: 'chargeback' });
    assert.deepEqual([badType.status, badType.body.error?.code], [400, 'PARAM_ILLEGAL'], badType.text);
    assert.deepEqual(await disputesOf(stack, key, unpaid.body.id), []);
  });

  it('no dispute more than 360 days after the payment', async () => {
    const paid = await paidCharge(stack, { amount: 100 });
    ws.clock.advance(359 * DAY);
    const inTime = await openDispute(stack, paid.paymentId, { type: 'retrieval' });
    await stack.control('POST', `/sandbox/v1/disputes/${inTime.disputeId}/judge`, { outcome: 'closed' });
    ws.clock.advance(2 * DAY);
    const late = await openDisputeRaw(stack, paid.paymentId, { type: 'retrieval' });
    assert.deepEqual([late.status, late.body.error?.code], [409, 'DISPUTE_WINDOW_EXCEEDED'], late.text);
    assert.equal((await disputesOf(stack, key, paid.intentId)).length, 1);
  });
});
