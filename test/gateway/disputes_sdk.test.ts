import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { startPaymentStack, type PaymentStack } from '../support/e2e-harness.js';
import { EVIDENCE, documentsOf, judge, openDispute, paidCharge, sandboxDispute, sortedDocuments, type PaidCharge } from '../support/dispute-support.js';

/**
 * The unmodified official SDK on disputes of real Alipay+ payments (raised through the sandbox):
 * list (with filters and auto-pagination), retrieve, update with evidence and metadata (staged
 * and submitted), and close.
 */
describe('disputes with the official stripe package', () => {
  let stack: PaymentStack;
  let stripe: Stripe;
  before(async () => {
    stack = await startPaymentStack();
    stripe = new Stripe(stack.gateway.secretKey, { host: '127.0.0.1', port: stack.gateway.port, protocol: 'http', maxNetworkRetries: 0 });
  });
  after(async () => {
    await stack.stop();
  });

  it('lists with auto-pagination and filters, retrieves, updates (stage, then submit) and closes', async () => {
    const paid: PaidCharge[] = [];
    for (let i = 0; i < 7; i++) paid.push(await paidCharge(stack, { amount: 100 + i }));
    const opened = [];
    for (const [i, p] of paid.entries()) opened.push(await openDispute(stack, p.paymentId, { type: i < 4 ? 'retrieval' : 'escalation', reasonCode: i % 2 === 0 ? 'GOODS_NOT_RECEIVED' : 'FRAUD' }));

    const seen: Stripe.Dispute[] = [];
    for await (const dispute of stripe.disputes.list({ limit: 3 })) seen.push(dispute);
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen.map((d) => d.id)).size, 7, 'no duplicates across pages');
    assert.deepEqual(seen.map((d) => d.payment_intent), paid.map((p) => p.intentId).reverse(), 'newest first');
    const firstPage = await stripe.disputes.list({ limit: 3 });
    assert.deepEqual([firstPage.object, firstPage.data.length, firstPage.has_more, firstPage.url], ['list', 3, true, '/v1/disputes']);

    const target = paid[5]!;
    const byIntent = await stripe.disputes.list({ payment_intent: target.intentId });
    assert.deepEqual(byIntent.data.map((d) => [d.charge, d.amount, d.status, d.reason]), [[target.chargeId, target.amount, 'needs_response', 'fraudulent']]);
    const byCharge = await stripe.disputes.list({ charge: paid[0]!.chargeId });
    assert.deepEqual(byCharge.data.map((d) => [d.payment_intent, d.status, d.reason]), [[paid[0]!.intentId, 'warning_needs_response', 'product_not_received']]);

    const retrieved = await stripe.disputes.retrieve(byIntent.data[0]!.id);
    assert.match(retrieved.id, /^dp_\d{19}$/);
    assert.deepEqual([retrieved.object, retrieved.currency, retrieved.livemode, retrieved.is_charge_refundable], ['dispute', 'HKD', false, false]);
    assert.equal(retrieved.balance_transactions.length, 1);
    assert.deepEqual([retrieved.balance_transactions[0]!.type, retrieved.balance_transactions[0]!.amount], ['dispute', -target.amount]);
    assert.equal(retrieved.evidence_details.submission_count, 0);
    assert.equal(typeof retrieved.evidence_details.due_by, 'number');
    assert.match(retrieved.lastResponse.requestId, /^req_/);

    const staged = await stripe.disputes.update(retrieved.id, { evidence: { product_description: EVIDENCE.product_description, customer_name: EVIDENCE.customer_name }, metadata: { ticket: 'T-9' }, submit: false });
    assert.deepEqual([staged.status, staged.metadata, staged.evidence.product_description, staged.evidence_details.has_evidence], ['needs_response', { ticket: 'T-9' }, EVIDENCE.product_description, true]);
    assert.equal((await sandboxDispute(stack, opened[5].disputeId)).response, null, 'staged: nothing sent');
    const submitted = await stripe.disputes.update(retrieved.id, { evidence: { receipt: EVIDENCE.receipt, shipping_tracking_number: EVIDENCE.shipping_tracking_number } });
    assert.deepEqual([submitted.status, submitted.evidence_details.submission_count, submitted.metadata], ['under_review', 1, { ticket: 'T-9' }]);
    const atAlipay = await sandboxDispute(stack, opened[5].disputeId);
    assert.deepEqual([atAlipay.state, atAlipay.response.body.refundType], ['RESPONDED', 'REFUSE_REFUND']);
    assert.deepEqual(sortedDocuments(atAlipay.response.body.defenseDocumentation), documentsOf(EVIDENCE));
    await assert.rejects(stripe.disputes.update(retrieved.id, { evidence: { uncategorized_text: 'again' } }), (error: Stripe.errors.StripeError) => error.code === 'dispute_not_updatable' && error.statusCode === 400 && error.type === 'StripeInvalidRequestError');
    await judge(stack, opened[5].disputeId, 'won');
    const won = await stripe.disputes.retrieve(retrieved.id);
    assert.deepEqual([won.status, won.balance_transactions.map((t) => t.amount)], ['won', [-target.amount, target.amount]]);

    const accepted = await stripe.disputes.close(seen.find((d) => d.payment_intent === paid[6]!.intentId)!.id);
    assert.equal(accepted.status, 'lost');
    assert.equal((await sandboxDispute(stack, opened[6].disputeId)).response.body.refundType, 'ACCEPT_REFUND');
    const inquiry = await stripe.disputes.close(byCharge.data[0]!.id);
    assert.equal(inquiry.status, 'warning_closed');
    await assert.rejects(stripe.disputes.close(inquiry.id), (error: Stripe.errors.StripeError) => error.code === 'dispute_not_updatable');
    await assert.rejects(stripe.disputes.retrieve('dp_1666729870215872512'), (error: Stripe.errors.StripeError) => error.code === 'resource_missing' && error.statusCode === 404);
  });
});
