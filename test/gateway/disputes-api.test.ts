import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { buildSettlementReport, reportCsv, reportText } from '../../src/cli/report-command.js';
import { toDisputeResponse } from '../../src/gateway/connector/alipayplus/disputes.js';
import type { ConnectorDisputeResponseOutcome, ConnectorStoredDisputeResponse } from '../../src/gateway/connector/types.js';
import { applyDisputeCall } from '../../src/gateway/core/dispute_inbound.js';
import { IDEMPOTENCY_LEASE_MS } from '../../src/gateway/core/idempotency.js';
import { recordAttemptSucceeded } from '../../src/gateway/core/payment_attempts.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { startCrashHarness, type CrashHarness } from './idempotency-recovery-support.js';
import { DAY_MS, disputeEventTypes, form, judgeAtSandbox, newMerchant, onlyDisputeOf, openAtSandbox, paidPayment } from './disputes-support.js';

/** The merchant API of disputes (api.md §7a): parameters, errors, lists, the stripe SDK, and the settlement report. */
describe('dispute API', () => {
  let stack: PaymentStack;
  let key: string;
  before(async () => {
    stack = await startPaymentStack();
    key = await newMerchant(stack, 'EUR');
  });
  after(async () => {
    await stack.stop();
  });

  it('refuses bad parameters with the offending param, and other accounts\' disputes are 404', async () => {
    const payment = await paidPayment(stack, key, 1000);
    assert.equal((await openAtSandbox(stack, payment.paymentId, { type: 'retrieval' })).status, 201);
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    const post = (body: string | object) => api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}`, typeof body === 'string' ? { key, form: body } : { key, json: body });

    const unknown = await post(form({ 'evidence[favourite_colour]': 'red' }));
    assert.deepEqual([unknown.status, unknown.body.error.code, unknown.body.error.param], [400, 'parameter_unknown', 'evidence[favourite_colour]']);
    const top = await post({ amount: 5 });
    assert.deepEqual([top.body.error.code, top.body.error.param], ['parameter_unknown', 'amount']);
    const notBoolean = await post(form({ submit: 'maybe' }));
    assert.deepEqual([notBoolean.body.error.code, notBoolean.body.error.param], ['parameter_invalid', 'submit']);
    const tooLong = await post({ evidence: { uncategorized_text: 'x'.repeat(100_000), product_description: 'y'.repeat(50_001) }, submit: false });
    assert.deepEqual([tooLong.status, tooLong.body.error.code, tooLong.body.error.param], [400, 'parameter_invalid', 'evidence'], tooLong.text);
    const missing = await api(stack.gateway, 'GET', '/v1/disputes/dp_0000000000000000001', { key });
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'resource_missing']);
    const badId = await api(stack.gateway, 'GET', '/v1/disputes/ch_123', { key });
    assert.deepEqual([badId.status, badId.body.error.param], [400, 'id']);
    const other = await newMerchant(stack, 'EUR');
    assert.equal((await api(stack.gateway, 'GET', `/v1/disputes/${dispute.id}`, { key: other })).status, 404);
    assert.equal((await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}/close`, { key: other })).status, 404);
    const publishable = await api(stack.gateway, 'GET', '/v1/disputes', { key: stack.gateway.publishableKey });
    assert.equal(publishable.status, 403);
    const closeWithBody = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}/close`, { key, form: form({ evidence: 'x' }) });
    assert.deepEqual([closeWithBody.body.error.code, closeWithBody.body.error.param], ['parameter_unknown', 'evidence']);
    assert.equal((await api(stack.gateway, 'GET', `/v1/disputes/${dispute.id}`, { key })).body.status, 'warning_needs_response', 'nothing changed');
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created']);
  });

  it('lists newest first with filters and keyset pages, also as /v1/disputes/list', async () => {
    const merchant = await newMerchant(stack, 'EUR');
    const payments = [await paidPayment(stack, merchant, 1100), await paidPayment(stack, merchant, 1200), await paidPayment(stack, merchant, 1300)];
    for (const payment of payments) assert.equal((await openAtSandbox(stack, payment.paymentId, { type: 'escalation' })).status, 201);
    const all = await api(stack.gateway, 'GET', '/v1/disputes', { key: merchant });
    assert.deepEqual([all.body.object, all.body.url, all.body.has_more], ['list', '/v1/disputes', false]);
    assert.deepEqual(all.body.data.map((d: { amount: number }) => d.amount), [1300, 1200, 1100]);
    const alias = await api(stack.gateway, 'GET', '/v1/disputes/list?limit=2', { key: merchant });
    assert.deepEqual([alias.body.data.map((d: { amount: number }) => d.amount), alias.body.has_more], [[1300, 1200], true]);
    const next = await api(stack.gateway, 'GET', `/v1/disputes?limit=2&starting_after=${alias.body.data[1].id}`, { key: merchant });
    assert.deepEqual([next.body.data.map((d: { amount: number }) => d.amount), next.body.has_more], [[1100], false]);
    const byIntent = await api(stack.gateway, 'GET', `/v1/disputes?payment_intent=${payments[1]!.paymentIntentId}`, { key: merchant });
    assert.deepEqual(byIntent.body.data.map((d: { amount: number }) => d.amount), [1200]);
    const created = all.body.data[1].created as number;
    const since = await api(stack.gateway, 'GET', `/v1/disputes?created[gte]=${created}`, { key: merchant });
    assert.ok(since.body.data.every((d: { created: number }) => d.created >= created) && since.body.data.length >= 2);
    const wrong = await api(stack.gateway, 'GET', '/v1/disputes?status=won', { key: merchant });
    assert.deepEqual([wrong.status, wrong.body.error.code, wrong.body.error.param], [400, 'parameter_unknown', 'status']);
  });

  it('the unmodified stripe SDK lists, retrieves, updates and closes disputes', async () => {
    const merchant = await newMerchant(stack, 'EUR');
    const stripe = new Stripe(merchant, { host: '127.0.0.1', port: stack.gateway.port, protocol: 'http', maxNetworkRetries: 0 });
    const payment = await paidPayment(stack, merchant, 2000);
    assert.equal((await openAtSandbox(stack, payment.paymentId, { type: 'escalation', reasonCode: 'DUPLICATE_TRANSACTION' })).status, 201);
    const listed = await stripe.disputes.list({ limit: 3, charge: payment.chargeId });
    assert.equal(listed.data.length, 1);
    const dispute = await stripe.disputes.retrieve(listed.data[0]!.id);
    assert.deepEqual([dispute.object, dispute.amount, dispute.status, dispute.reason, dispute.charge], ['dispute', 2000, 'needs_response', 'duplicate', payment.chargeId]);
    const staged = await stripe.disputes.update(dispute.id, { evidence: { duplicate_charge_explanation: 'Two different orders', duplicate_charge_id: 'ch_other' }, metadata: { agent: 'sdk' }, submit: false });
    assert.deepEqual([staged.status, staged.evidence.duplicate_charge_id, staged.metadata], ['needs_response', 'ch_other', { agent: 'sdk' }]);
    const closed = await stripe.disputes.close(dispute.id);
    assert.equal(closed.status, 'lost');
    await assert.rejects(stripe.disputes.update(dispute.id, { evidence: { receipt: 'late' } }), (error: Stripe.errors.StripeError) => error.code === 'dispute_not_updatable' && error.statusCode === 400);
  });

  it('the settlement report lists dispute withdrawals and reinstatements with their own totals', async () => {
    const merchant = await newMerchant(stack, 'GBP');
    const winning = await paidPayment(stack, merchant, 10000);
    const losing = await paidPayment(stack, merchant, 10000);
    const won = await openAtSandbox(stack, winning.paymentId, { type: 'escalation', amount: 4000 });
    const lost = await openAtSandbox(stack, losing.paymentId, { type: 'escalation', amount: 2000 });
    const wonDispute = await onlyDisputeOf(stack, merchant, winning.chargeId);
    await api(stack.gateway, 'POST', `/v1/disputes/${wonDispute.id}`, { key: merchant, form: form({ 'evidence[receipt]': 'R' }) });
    assert.equal((await judgeAtSandbox(stack, won.body.disputeId, 'won')).status, 200);
    assert.equal((await judgeAtSandbox(stack, lost.body.disputeId, 'lost')).status, 200);

    const today = new Date(Date.now()).toISOString().slice(0, 10);
    const report = await buildSettlementReport(stack.gateway.database, null, today);
    const lines = report.transactions.filter((txn) => txn.type === 'dispute' && txn.currency === 'GBP');
    // CNY → GBP at 0.1090 × 0.997 = 0.108673: 4000 → 434.692 → 435; 2000 → 217.346 → 217.
    assert.deepEqual(lines.map((txn) => [txn.reporting_category, txn.amount, txn.source_amount, txn.source_currency]), [
      ['dispute', -435, -4000, 'CNY'],
      ['dispute', -217, -2000, 'CNY'],
      ['dispute_reversal', 435, 4000, 'CNY'],
    ]);
    assert.deepEqual(report.disputes.find((total) => total.currency === 'GBP'), { livemode: false, currency: 'GBP', withdrawals: { count: 2, amount: -652 }, reinstatements: { count: 1, amount: 435 }, net: -217 });
    assert.match(reportText(report), /test GBP: withdrawn 2 \(-652\), reinstated 1 \(435\), net -217/);
    assert.match(reportCsv(report), /,dispute_reversal\r\n/);
    const listed = await api(stack.gateway, 'GET', '/v1/balance_transactions?type=dispute', { key: merchant });
    assert.deepEqual(listed.body.data.map((txn: { amount: number; reporting_category: string }) => [txn.reporting_category, txn.amount]), [['dispute_reversal', 435], ['dispute', -217], ['dispute', -435]]);
  });
});

describe('a dispute submit cut off by a crash', () => {
  let h: CrashHarness;
  const sent: ConnectorStoredDisputeResponse[] = [];
  let answer: (response: ConnectorStoredDisputeResponse) => Promise<ConnectorDisputeResponseOutcome> = async () => ({ kind: 'accepted' });
  before(async () => {
    h = await startCrashHarness();
    // The crash harness's scripted connector, given the real Alipay+ response builder and a scripted send.
    Object.assign(h.connector, {
      buildDisputeResponse: toDisputeResponse,
      sendDisputeResponse: async (_livemode: boolean, response: ConnectorStoredDisputeResponse) => {
        sent.push(response);
        return answer(response);
      },
    });
  });
  after(async () => {
    await h.stop();
  });

  /** A paid PaymentIntent (as a notification would report it) with an escalation opened on it. */
  async function escalated(): Promise<string> {
    const created = await h.post('/v1/payment_intents', null, seedWebRequest());
    const id = created.body.id as string;
    assert.equal((await recordAttemptSucceeded(h.process().deps, `${id}_1`, { externalPaymentId: `ext_${id}`, buyerId: null, wallet: null })).kind, 'recorded');
    const disposition = await applyDisputeCall(h.process().deps, {
      kind: 'opened', livemode: false, type: 'escalation', disputeRequestId: `DRQ_${id}`, paymentRequestId: `${id}_1`, externalPaymentId: `ext_${id}`,
      amount: { currency: 'CNY', amountMinor: 20 }, reasonCode: 'FRAUD', reasonMessage: null, occurredAtMs: h.clock.now(), dueByMs: h.clock.now() + 10 * DAY_MS,
    });
    assert.equal(disposition.ack, true);
    const row = await h.database.db.selectFrom('disputes').select('id').where('dispute_request_id', '=', `DRQ_${id}`).executeTakeFirstOrThrow();
    return row.id;
  }

  it('died after storing the response: the retry with the same key sends that stored body and answers', async () => {
    const id = await escalated();
    sent.length = 0;
    h.process().handle.crashAfterCommits(1);
    const body = { evidence: { receipt: 'R-77' } };
    assert.equal((await h.post(`/v1/disputes/${id}`, 'dp-1', body)).status, 500);
    const stored = await h.database.db.selectFrom('disputes').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual([stored.status, stored.response_state, sent.length], ['under_review', 'sending', 0], 'committed, never sent');
    await h.restart();
    h.clock.advance(IDEMPOTENCY_LEASE_MS + 1);
    const retry = await h.post(`/v1/disputes/${id}`, 'dp-1', body);
    assert.deepEqual([retry.status, retry.body.status, retry.body.evidence_details.submission_count], [200, 'under_review', 1], retry.text);
    assert.deepEqual(sent.map((r) => r.body), [stored.response_body]);
    const replay = await h.post(`/v1/disputes/${id}`, 'dp-1', body);
    assert.deepEqual([replay.headers.get('idempotent-replayed'), replay.body.evidence_details.submission_count], ['true', 1]);
    assert.equal((await h.eventTypes(id)).filter((type) => type === 'charge.dispute.updated').length, 1);
  });

  it('died with Alipay+\'s answer unrecorded: the retry re-sends the same body, counted once', async () => {
    const id = await escalated();
    sent.length = 0;
    answer = async () => {
      h.process().handle.crash();
      return { kind: 'accepted' };
    };
    assert.equal((await h.post(`/v1/disputes/${id}/close`, 'dp-2', {})).status, 500);
    answer = async () => ({ kind: 'accepted' });
    await h.restart();
    h.clock.advance(IDEMPOTENCY_LEASE_MS + 1);
    const retry = await h.post(`/v1/disputes/${id}/close`, 'dp-2', {});
    assert.deepEqual([retry.status, retry.body.status, retry.body.evidence_details.submission_count], [200, 'lost', 1], retry.text);
    assert.equal(sent.length, 2);
    assert.equal(sent[0]!.body, sent[1]!.body, 'the same ACCEPT_REFUND body, the same disputeRequestId');
    assert.equal(JSON.parse(sent[0]!.body).refundType, 'ACCEPT_REFUND');
  });
});
