import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DISPUTE_SENDING_CHECK_DELAY_MS } from '../../src/gateway/core/disputes.js';
import { api } from '../support/gateway-server.js';
import { addFault, startWorkerStack, type WorkerStack } from './worker-support.js';
import { DAY_MS, balanceOf, disputeEventTypes, form, newMerchant, onlyDisputeOf, openAtSandbox, paidPayment, sandboxDispute } from './disputes-support.js';
import type { PaymentStack } from '../support/e2e-harness.js';

/**
 * The dispute side of the worker, on one manual clock for the sandbox and the gateway (worker loop
 * off, each pass run by the test): deadlines close disputes as Alipay+ would, and a response left
 * without an answer (U, timeout) is re-sent with the same body — the same disputeRequestId —
 * until Alipay+ answers.
 */
describe('dispute worker: deadlines and re-sends', () => {
  let ws: WorkerStack;
  let stack: PaymentStack;
  let key: string;
  before(async () => {
    ws = await startWorkerStack({ clientTimeoutMs: 300 });
    stack = ws.stack;
    key = await newMerchant(stack, 'GBP');
  });
  after(async () => {
    await stack.stop();
  });

  const row = (id: string) => stack.gateway.database.db.selectFrom('disputes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('closes a retrieval left past due as warning_closed, and an escalation as lost keeping its withdrawal', async () => {
    const retrievalPayment = await paidPayment(stack, key, 1200);
    const escalationPayment = await paidPayment(stack, key, 3400);
    assert.equal((await openAtSandbox(stack, retrievalPayment.paymentId, { type: 'retrieval', dueInDays: 1 })).status, 201);
    assert.equal((await openAtSandbox(stack, escalationPayment.paymentId, { type: 'escalation', amount: 1400, dueInDays: 2 })).status, 201);
    const retrieval = await onlyDisputeOf(stack, key, retrievalPayment.chargeId);
    const escalation = await onlyDisputeOf(stack, key, escalationPayment.chargeId);
    const balance = await balanceOf(stack, key);

    ws.clock.advance(DAY_MS + 1);
    const late = await api(stack.gateway, 'POST', `/v1/disputes/${retrieval.id}`, { key, form: form({ 'evidence[receipt]': 'R-9' }) });
    assert.equal(late.status, 400, late.text);
    assert.deepEqual([late.body.error.type, late.body.error.code], ['invalid_request_error', 'dispute_not_updatable']);
    assert.match(late.body.error.message, /past due/);
    const tagged = await api(stack.gateway, 'POST', `/v1/disputes/${retrieval.id}`, { key, form: form({ 'metadata[ticket]': 'T-1' }) });
    assert.deepEqual([tagged.status, tagged.body.metadata, tagged.body.status], [200, { ticket: 'T-1' }, 'warning_needs_response'], 'metadata alone is always allowed');

    await ws.worker().runOnce();
    const closed = (await api(stack.gateway, 'GET', `/v1/disputes/${retrieval.id}`, { key })).body;
    assert.deepEqual([closed.status, closed.evidence_details.past_due], ['warning_closed', true]);
    assert.equal((await api(stack.gateway, 'GET', `/v1/disputes/${escalation.id}`, { key })).body.status, 'needs_response', 'the escalation is not due yet');

    ws.clock.advance(DAY_MS);
    await ws.worker().runOnce();
    const lost = (await api(stack.gateway, 'GET', `/v1/disputes/${escalation.id}`, { key })).body;
    assert.deepEqual([lost.status, lost.evidence_details.past_due, lost.balance_transactions.length, lost.is_charge_refundable], ['lost', true, 1, true]);
    assert.equal(await balanceOf(stack, key), balance, 'lost keeps the withdrawal, nothing more moves');
    assert.deepEqual(await disputeEventTypes(stack, retrieval.id), ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed']);
    assert.deepEqual(await disputeEventTypes(stack, escalation.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.closed']);

    const refund = await api(stack.gateway, 'POST', '/v1/refunds', { key, form: form({ charge: escalationPayment.chargeId }) });
    assert.deepEqual([refund.body.status, refund.body.amount], ['succeeded', 2000], 'the lost escalation no longer blocks refunds; its amount stays taken');
    await ws.worker().runOnce();
    assert.equal((await row(escalation.id)).status, 'lost', 'a later pass changes nothing');
  });

  it('re-sends a submit left unknown (U) with the same body until Alipay+ takes it', async () => {
    const payment = await paidPayment(stack, key, 2600);
    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'escalation' });
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    await addFault(stack, { target: 'responseEscalation', kind: 'unknown', count: 3 });
    const submitted = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}`, { key, form: form({ 'evidence[customer_communication]': 'Emails of 3 May' }) });
    assert.equal(submitted.status, 200, submitted.text);
    assert.deepEqual([submitted.body.status, submitted.body.evidence_details.submission_count], ['under_review', 0], 'stored and under review, not yet accepted');
    assert.equal((await sandboxDispute(stack, opened.body.disputeId)).response, null, 'U: Alipay+ did not take it');
    const stored = await row(dispute.id);
    assert.equal(stored.response_state, 'sending');

    await ws.worker().runOnce();
    assert.equal((await row(dispute.id)).response_state, 'sending', 'the worker leaves the request path its time first');
    ws.clock.advance(DISPUTE_SENDING_CHECK_DELAY_MS);
    await ws.worker().runOnce();
    const resent = await row(dispute.id);
    assert.deepEqual([resent.response_state, resent.submission_count, resent.status], ['accepted', 1, 'under_review']);
    const atSandbox = await sandboxDispute(stack, opened.body.disputeId);
    assert.equal(atSandbox.state, 'RESPONDED');
    assert.deepEqual(atSandbox.response.body, JSON.parse(stored.response_body!), 'the stored body, unchanged');
  });

  it('a submit whose answer timed out is re-sent and answered S once: the same disputeRequestId is taken once', async () => {
    const payment = await paidPayment(stack, key, 2700);
    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'retrieval' });
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    await addFault(stack, { target: 'responseRetrieval', kind: 'timeout', count: 3, delayMs: 600 });
    const submitted = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}`, { key, form: form({ 'evidence[service_date]': '2026-11-20' }) });
    assert.deepEqual([submitted.body.status, submitted.body.evidence_details.submission_count], ['warning_under_review', 0], submitted.text);
    assert.equal((await sandboxDispute(stack, opened.body.disputeId)).state, 'RESPONDED', 'Alipay+ processed it; only its answer was lost');
    ws.clock.advance(DISPUTE_SENDING_CHECK_DELAY_MS);
    await new Promise((resolve) => setTimeout(resolve, 700));
    await ws.worker().runOnce();
    const resent = await row(dispute.id);
    assert.deepEqual([resent.response_state, resent.submission_count], ['accepted', 1]);
  });

  it('a response Alipay+ refuses (F, delivered after the deadline) returns the dispute to needs_response, and the deadline then closes it', async () => {
    const payment = await paidPayment(stack, key, 2800);
    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'escalation', dueInDays: 1 });
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    await addFault(stack, { target: 'responseEscalation', kind: 'unknown', count: 3 });
    const submitted = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}`, { key, form: form({ 'evidence[receipt]': 'R-1' }) });
    assert.equal(submitted.body.status, 'under_review', submitted.text);
    ws.clock.advance(DAY_MS + 1);
    await ws.worker().runOnce();
    const refused = await row(dispute.id);
    assert.deepEqual([refused.response_state, refused.response_code], ['refused', 'RESPONSE_WINDOW_EXCEED']);
    assert.deepEqual([refused.status, refused.past_due], ['lost', 1], 'back to needs_response, then closed past due in the same pass');
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated', 'charge.dispute.updated', 'charge.dispute.closed']);
    assert.equal((await sandboxDispute(stack, opened.body.disputeId)).state, 'EXPIRED');
  });
});
