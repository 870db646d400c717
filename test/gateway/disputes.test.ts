import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api } from '../support/gateway-server.js';
import { startPaymentStack, waitUntil, type PaymentStack } from '../support/e2e-harness.js';
import {
  balanceOf,
  form,
  disputeEventTypes,
  judgeAtSandbox,
  newMerchant,
  onlyDisputeOf,
  openAtSandbox,
  paidPayment,
  sandboxDispute,
} from './disputes-support.js';

/** The sandbox's price for CNY → HKD payments (mid 1.0850 less its 0.3% spread), 8 decimals. */
const CNY_HKD_PAYMENT_PRICE = 1.085 * 0.997;
const hkdOf = (cnyMinor: number) => Math.round(cnyMinor * CNY_HKD_PAYMENT_PRICE);

/**
 * Disputes end to end through the real sandbox over signed HTTP (api.md §7a, alipayplus.md §7):
 * Alipay+ opens a dispute, the gateway records it and moves the money, the merchant answers, and
 * Alipay+'s result settles the balance.
 */
describe('disputes through the real sandbox', () => {
  let stack: PaymentStack;
  let key: string;
  before(async () => {
    stack = await startPaymentStack();
    key = await newMerchant(stack, 'HKD');
  });
  after(async () => {
    await stack.stop();
  });

  it('an escalation withdraws its amount, blocks refunds, is defended with evidence, and when won is reinstated', async () => {
    const payment = await paidPayment(stack, key, 10000);
    const before = await balanceOf(stack, key);
    assert.equal(before, hkdOf(10000) - Math.round(hkdOf(10000) * 0.03), 'the charge settled in HKD less the 3% fee');

    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'escalation', amount: 6000, reasonCode: 'GOODS_NOT_RECEIVED', reasonMessage: 'never arrived' });
    assert.equal(opened.status, 201, opened.text);
    assert.equal(opened.body.deliveries[0].ackStatus, 'S', 'the gateway acknowledged the initiate call');
    assert.equal(opened.body.deliveries[0].ackCode, 'SUCCESS');

    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    assert.match(dispute.id, /^dp_\d{19}$/);
    assert.deepEqual(
      [dispute.object, dispute.amount, dispute.currency, dispute.status, dispute.reason, dispute.network_reason_code, dispute.payment_intent, dispute.is_charge_refundable, dispute.livemode],
      ['dispute', 6000, 'CNY', 'needs_response', 'product_not_received', 'GOODS_NOT_RECEIVED', payment.paymentIntentId, false, false],
    );
    assert.deepEqual(dispute.payment_method_details, { type: 'alipay', alipay: { dispute_type: 'escalation', dispute_request_id: opened.body.disputeRequestId } });
    assert.equal(dispute.evidence_details.due_by, Date.parse(opened.body.responseDeadline));
    assert.deepEqual({ ...dispute.evidence_details, due_by: 0 }, { due_by: 0, has_evidence: false, past_due: false, submission_count: 0 });
    assert.equal(Object.keys(dispute.evidence).length, 27);
    assert.equal(dispute.balance_transactions.length, 1);
    const withdrawal = dispute.balance_transactions[0];
    assert.deepEqual([withdrawal.type, withdrawal.reporting_category, withdrawal.currency, withdrawal.amount, withdrawal.fee, withdrawal.net, withdrawal.source], ['dispute', 'dispute', 'HKD', -hkdOf(6000), 0, -hkdOf(6000), dispute.id]);
    assert.equal(await balanceOf(stack, key), before - hkdOf(6000), 'the escalated amount left the balance');

    const charge = await api(stack.gateway, 'GET', `/v1/charges/${payment.chargeId}`, { key });
    assert.equal(charge.body.disputed, true);
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn']);

    const refused = await api(stack.gateway, 'POST', '/v1/refunds', { key, form: form({ payment_intent: payment.paymentIntentId, amount: '100' }) });
    assert.equal(refused.status, 400, refused.text);
    assert.deepEqual([refused.body.error.type, refused.body.error.code, refused.body.error.param], ['invalid_request_error', 'charge_disputed', 'payment_intent']);

    const submitted = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}`, {
      key,
      form: form({ 'evidence[product_description]': 'Longjing green tea, 250 g', 'evidence[shipping_tracking_number]': 'SF1234567890', 'metadata[case]': 'A-1' }),
    });
    assert.equal(submitted.status, 200, submitted.text);
    assert.deepEqual([submitted.body.status, submitted.body.evidence_details.submission_count, submitted.body.evidence_details.has_evidence], ['under_review', 1, true]);
    assert.equal(submitted.body.evidence.product_description, 'Longjing green tea, 250 g');
    assert.deepEqual(submitted.body.metadata, { case: 'A-1' });

    const atSandbox = await sandboxDispute(stack, opened.body.disputeId);
    assert.equal(atSandbox.state, 'RESPONDED');
    assert.equal(atSandbox.response.api, 'responseEscalation');
    assert.deepEqual(atSandbox.response.body, {
      disputeRequestId: opened.body.disputeRequestId,
      paymentRequestId: payment.paymentRequestId,
      refundType: 'REFUSE_REFUND',
      defenseDocumentation: [
        { documentType: 'PRODUCT_DESCRIPTION', documentContent: 'Longjing green tea, 250 g' },
        { documentType: 'SHIPPING_TRACKING_NUMBER', documentContent: 'SF1234567890' },
      ],
    });

    const judged = await judgeAtSandbox(stack, opened.body.disputeId, 'won');
    assert.equal(judged.status, 200, judged.text);
    const won = await onlyDisputeOf(stack, key, payment.chargeId);
    assert.equal(won.status, 'won');
    assert.deepEqual(won.balance_transactions.map((txn: { amount: number; reporting_category: string }) => [txn.reporting_category, txn.amount]), [['dispute', -hkdOf(6000)], ['dispute_reversal', hkdOf(6000)]]);
    assert.equal(won.is_charge_refundable, true);
    assert.equal(await balanceOf(stack, key), before, 'the reinstatement gave the whole withdrawal back');
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), [
      'charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_reinstated',
    ]);

    const refund = await api(stack.gateway, 'POST', '/v1/refunds', { key, form: form({ payment_intent: payment.paymentIntentId }) });
    assert.equal(refund.status, 200, refund.text);
    assert.deepEqual([refund.body.status, refund.body.amount], ['succeeded', 10000], 'a won escalation leaves the whole payment refundable');
  });

  it('an escalation defended and lost keeps the withdrawal; a refund then gets only what is left', async () => {
    const payment = await paidPayment(stack, key, 5000);
    const before = await balanceOf(stack, key);
    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'escalation', amount: 2000, reasonCode: 'FRAUD' });
    assert.equal(opened.status, 201, opened.text);
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    assert.equal(dispute.reason, 'fraudulent');
    const submitted = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}`, { key, json: { evidence: { uncategorized_text: 'The shopper signed for it' } } });
    assert.equal(submitted.body.status, 'under_review', submitted.text);
    assert.equal((await judgeAtSandbox(stack, opened.body.disputeId, 'lost')).status, 200);
    const lost = await onlyDisputeOf(stack, key, payment.chargeId);
    assert.equal(lost.status, 'lost');
    assert.equal(lost.balance_transactions.length, 1);
    assert.equal(await balanceOf(stack, key), before - hkdOf(2000));
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated', 'charge.dispute.closed']);

    const tooMuch = await api(stack.gateway, 'POST', '/v1/refunds', { key, form: form({ charge: payment.chargeId, amount: '3001' }) });
    assert.equal(tooMuch.body.error?.code, 'amount_too_large', tooMuch.text);
    const rest = await api(stack.gateway, 'POST', '/v1/refunds', { key, form: form({ charge: payment.chargeId }) });
    assert.deepEqual([rest.body.status, rest.body.amount], ['succeeded', 3000], rest.text);
    const after = await api(stack.gateway, 'GET', `/v1/disputes/${dispute.id}`, { key });
    assert.equal(after.body.is_charge_refundable, false, 'paid 5000 = refunded 3000 + lost 2000: nothing is left');
  });

  it('closing an escalation accepts it: lost at once, ACCEPT_REFUND of the whole amount sent', async () => {
    const payment = await paidPayment(stack, key, 3000);
    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'escalation' });
    assert.equal(opened.status, 201, opened.text);
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    assert.equal(dispute.amount, 3000, 'by default the sandbox escalates all that is disputable');
    const closed = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}/close`, { key });
    assert.equal(closed.status, 200, closed.text);
    assert.deepEqual([closed.body.status, closed.body.evidence_details.submission_count], ['lost', 1]);
    const atSandbox = await sandboxDispute(stack, opened.body.disputeId);
    assert.equal(atSandbox.state, 'ACCEPTED');
    assert.deepEqual(atSandbox.response.body, {
      disputeRequestId: opened.body.disputeRequestId,
      paymentRequestId: payment.paymentRequestId,
      refundType: 'ACCEPT_REFUND',
      refundAmount: { currency: 'CNY', value: '3000' },
    });
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.closed']);
    const again = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}/close`, { key });
    assert.equal(again.status, 400);
    assert.equal(again.body.error.code, 'dispute_not_updatable');
    assert.match(again.body.error.message, /closed/);
  });

  it('a retrieval moves no money and does not block refunds; answered with the evidence, then closed by Alipay+', async () => {
    const payment = await paidPayment(stack, key, 4000);
    const before = await balanceOf(stack, key);
    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'retrieval', reasonCode: 'TRANSACTION_INFORMATION_REQUEST' });
    assert.equal(opened.status, 201, opened.text);
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    assert.deepEqual([dispute.status, dispute.amount, dispute.reason, dispute.balance_transactions.length, dispute.is_charge_refundable], ['warning_needs_response', 4000, 'general', 0, true]);
    assert.equal(await balanceOf(stack, key), before);
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created']);

    const staged = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}`, { key, form: form({ 'evidence[receipt]': 'Receipt #88', submit: 'false' }) });
    assert.deepEqual([staged.body.status, staged.body.evidence.receipt, staged.body.evidence_details.submission_count], ['warning_needs_response', 'Receipt #88', 0], staged.text);
    assert.equal((await sandboxDispute(stack, opened.body.disputeId)).response, null, 'staged evidence is not sent');

    const partial = await api(stack.gateway, 'POST', '/v1/refunds', { key, form: form({ charge: payment.chargeId, amount: '1000' }) });
    assert.equal(partial.body.status, 'succeeded', partial.text);

    const submitted = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}`, { key, form: form({ submit: 'true' }) });
    assert.deepEqual([submitted.body.status, submitted.body.evidence_details.submission_count], ['warning_under_review', 1], submitted.text);
    const atSandbox = await sandboxDispute(stack, opened.body.disputeId);
    assert.equal(atSandbox.response.api, 'responseRetrieval');
    assert.deepEqual(atSandbox.response.body, {
      disputeRequestId: opened.body.disputeRequestId,
      paymentRequestId: payment.paymentRequestId,
      responseCode: '0001',
      otherDocumentation: [{ documentType: 'RECEIPT', documentContent: 'Receipt #88' }],
    });
    assert.equal((await judgeAtSandbox(stack, opened.body.disputeId, 'closed')).status, 200);
    const closed = await api(stack.gateway, 'GET', `/v1/disputes/${dispute.id}`, { key });
    assert.equal(closed.body.status, 'warning_closed');
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.updated', 'charge.dispute.closed']);
  });

  it('closing a retrieval closes it without sending anything', async () => {
    const payment = await paidPayment(stack, key, 1500);
    const opened = await openAtSandbox(stack, payment.paymentId, { type: 'retrieval' });
    const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
    const closed = await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}/close`, { key });
    assert.deepEqual([closed.status, closed.body.status, closed.body.evidence_details.submission_count], [200, 'warning_closed', 0], closed.text);
    assert.equal((await sandboxDispute(stack, opened.body.disputeId)).response, null);
    assert.deepEqual(await disputeEventTypes(stack, dispute.id), ['charge.dispute.created', 'charge.dispute.closed']);
  });

  it('webhooks carry the dispute events to a subscribed endpoint', async () => {
    const received: { type: string; object: { id: string; status: string } }[] = [];
    const { createServer } = await import('node:http');
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const event = JSON.parse(body) as { type: string; data: { object: { id: string; status: string } } };
        received.push({ type: event.type, object: event.data.object });
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const endpoint = await api(stack.gateway, 'POST', '/v1/webhook_endpoints', { key, form: form({ url: `http://127.0.0.1:${port}/hook`, 'enabled_events[0]': '*' }) });
      assert.equal(endpoint.status, 200, endpoint.text);
      const payment = await paidPayment(stack, key, 2500);
      const opened = await openAtSandbox(stack, payment.paymentId, { type: 'escalation' });
      const dispute = await onlyDisputeOf(stack, key, payment.chargeId);
      await api(stack.gateway, 'POST', `/v1/disputes/${dispute.id}`, { key, form: form({ 'evidence[customer_name]': 'Li Wei' }) });
      await judgeAtSandbox(stack, opened.body.disputeId, 'won');
      await waitUntil(() => received.filter((event) => event.object.id === dispute.id).length >= 5, 'five dispute webhooks', 10_000);
      const types = received.filter((event) => event.object.id === dispute.id).map((event) => event.type).sort();
      assert.deepEqual(types, ['charge.dispute.closed', 'charge.dispute.created', 'charge.dispute.funds_reinstated', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
