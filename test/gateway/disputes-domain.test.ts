import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DISPUTE_STATUSES,
  EVIDENCE_FIELDS,
  canRespond,
  disputableMinor,
  emptyEvidence,
  evidenceLength,
  hasEvidence,
  isFinalDisputeStatus,
  kindOfStatus,
  mergeEvidence,
  stripeReasonOf,
  transitionDispute,
} from '../../src/gateway/domain/disputes.js';
import type { DisputeInput, DisputeStatus } from '../../src/gateway/domain/disputes.js';
import { convertLikePayment } from '../../src/gateway/domain/balance.js';
import { dispositionResult, parseDisputeCallBody, toDisputeResponse } from '../../src/gateway/connector/alipayplus/disputes.js';

const INPUTS: Record<string, DisputeInput> = {
  submit: { kind: 'submit' },
  close: { kind: 'close' },
  past_due: { kind: 'past_due' },
  response_refused: { kind: 'response_refused' },
  result_closed: { kind: 'result', result: 'closed' },
  result_won: { kind: 'result', result: 'won' },
  result_lost: { kind: 'result', result: 'lost' },
};

/** The whole machine as a table: status → input → [next status, events] (absent: refused). */
const TABLE: Record<DisputeStatus, Partial<Record<keyof typeof INPUTS, [DisputeStatus, string[]]>>> = {
  warning_needs_response: {
    submit: ['warning_under_review', ['charge.dispute.updated']],
    close: ['warning_closed', ['charge.dispute.closed']],
    past_due: ['warning_closed', ['charge.dispute.closed']],
    result_closed: ['warning_closed', ['charge.dispute.closed']],
  },
  warning_under_review: {
    response_refused: ['warning_needs_response', ['charge.dispute.updated']],
    result_closed: ['warning_closed', ['charge.dispute.closed']],
  },
  warning_closed: {},
  needs_response: {
    submit: ['under_review', ['charge.dispute.updated']],
    close: ['lost', ['charge.dispute.closed']],
    past_due: ['lost', ['charge.dispute.closed']],
    result_won: ['won', ['charge.dispute.closed', 'charge.dispute.funds_reinstated']],
    result_lost: ['lost', ['charge.dispute.closed']],
  },
  under_review: {
    response_refused: ['needs_response', ['charge.dispute.updated']],
    result_won: ['won', ['charge.dispute.closed', 'charge.dispute.funds_reinstated']],
    result_lost: ['lost', ['charge.dispute.closed']],
  },
  won: {},
  lost: {
    result_won: ['won', ['charge.dispute.updated', 'charge.dispute.funds_reinstated']],
  },
};

describe('dispute status machine', () => {
  it('decides every status × input exactly as the table says', () => {
    assert.deepEqual(Object.keys(TABLE).sort(), [...DISPUTE_STATUSES].sort());
    let checked = 0;
    for (const status of DISPUTE_STATUSES) {
      for (const [name, input] of Object.entries(INPUTS)) {
        const expected = TABLE[status][name];
        const decided = transitionDispute(status, input);
        if (expected === undefined) {
          assert.equal(decided.ok, false, `${status} + ${name} must be refused`);
          if (!decided.ok) assert.match(decided.message, /\S/);
        } else {
          assert.ok(decided.ok, `${status} + ${name} must move`);
          assert.deepEqual([decided.to, decided.events], expected, `${status} + ${name}`);
        }
        checked++;
      }
    }
    assert.equal(checked, 7 * 7);
  });

  it("never crosses between retrieval and escalation, and final statuses refuse everything but Alipay+'s won on a presumed loss", () => {
    for (const status of DISPUTE_STATUSES) {
      for (const input of Object.values(INPUTS)) {
        const decided = transitionDispute(status, input);
        if (decided.ok) assert.equal(kindOfStatus(decided.to), kindOfStatus(status), `${status} + ${input.kind}`);
        const networkOverrules = status === 'lost' && input.kind === 'result' && input.result === 'won';
        if (isFinalDisputeStatus(status)) assert.equal(decided.ok, networkOverrules, `${status} + ${JSON.stringify(input)}`);
      }
    }
  });
});

describe('dispute rules', () => {
  it('maps Alipay+ reason codes to Stripe reasons, anything unknown to general', () => {
    assert.deepEqual(
      ['FRAUD', 'UNAUTHORIZED_TRANSACTION', 'GOODS_NOT_RECEIVED', 'GOODS_NOT_AS_DESCRIBED', 'DUPLICATE_TRANSACTION', 'REFUND_NOT_PROCESSED', 'UNRECOGNIZED_TRANSACTION', 'INCORRECT_AMOUNT', 'TRANSACTION_INFORMATION_REQUEST', 'SOMETHING_NEW'].map(stripeReasonOf),
      ['fraudulent', 'fraudulent', 'product_not_received', 'product_unacceptable', 'duplicate', 'credit_not_processed', 'unrecognized', 'general', 'general', 'general'],
    );
  });

  it('merges evidence as Stripe does: given fields replace, empty unsets, others stay', () => {
    assert.equal(EVIDENCE_FIELDS.length, 27);
    const stored = mergeEvidence(emptyEvidence(), { receipt: 'R-1', customer_name: 'Li' });
    const merged = mergeEvidence(stored, { receipt: 'R-2', customer_name: null });
    assert.deepEqual([merged.receipt, merged.customer_name, merged.product_description], ['R-2', null, null]);
    assert.equal(hasEvidence(emptyEvidence()), false);
    assert.equal(hasEvidence(merged), true);
    assert.equal(evidenceLength(merged), 3);
  });

  it('counts refunds and escalations not won together against the captured amount', () => {
    assert.equal(disputableMinor({ amountCapturedMinor: 10000, amountRefundReservedMinor: 3000, amountDisputeReservedMinor: 2000 }), 5000);
    assert.equal(disputableMinor({ amountCapturedMinor: 10000, amountRefundReservedMinor: 10000, amountDisputeReservedMinor: 0 }), 0);
  });

  it('lets the merchant respond only while a response is needed and before due_by', () => {
    assert.deepEqual(canRespond('dp_1', 'needs_response', 1000, 1000), { ok: true });
    assert.deepEqual(canRespond('dp_1', 'warning_needs_response', null, 5), { ok: true });
    const late = canRespond('dp_1', 'needs_response', 1000, 1001);
    assert.ok(!late.ok && /past due/.test(late.message));
    const review = canRespond('dp_1', 'under_review', null, 0);
    assert.ok(!review.ok && /under review/.test(review.message));
    const closed = canRespond('dp_1', 'won', null, 0);
    assert.ok(!closed.ok && /closed/.test(closed.message));
  });

  it('converts a disputed amount with the payment\'s quoted price, rounding half up like the settlement', () => {
    // CNY → HKD at 1.08174500: 10000 → 10817.45 → 10817; 6000 → 6490.47 → 6490; 5 → 5.40 → 5
    assert.equal(convertLikePayment(10000, { quotePrice: '1.08174500', settledMinor: 10817, paidMinor: 10000 }), 10817);
    assert.equal(convertLikePayment(6000, { quotePrice: '1.08174500', settledMinor: 10817, paidMinor: 10000 }), 6490);
    assert.equal(convertLikePayment(50, { quotePrice: '0.11', settledMinor: 0, paidMinor: 1 }), 6, '5.5 rounds up');
    assert.equal(convertLikePayment(3000, { quotePrice: null, settledMinor: 1087, paidMinor: 10000 }), 326, 'without a price: the payment\'s own ratio, 326.1 → 326');
  });
});

describe('Alipay+ dispute mappings', () => {
  const ids = { disputeRequestId: 'D1', paymentRequestId: 'pi_1_1', paymentId: 'P1' };

  it('reads initiate calls and results, refusing malformed ones with a reason', () => {
    const escalation = parseDisputeCallBody('initiateEscalation', {
      ...ids, disputeOccurTime: '2026-11-29T10:00:00+08:00', escalationAmount: { currency: 'cny', value: '600' }, escalationReasonCode: 'FRAUD', responseDeadline: '2026-12-14T10:00:00+08:00',
    });
    assert.ok(escalation.ok);
    assert.deepEqual(escalation.call, {
      kind: 'opened', type: 'escalation', disputeRequestId: 'D1', paymentRequestId: 'pi_1_1', externalPaymentId: 'P1', amount: { currency: 'CNY', amountMinor: 600 },
      reasonCode: 'FRAUD', reasonMessage: null, occurredAtMs: Date.parse('2026-11-29T02:00:00Z'), dueByMs: Date.parse('2026-12-14T02:00:00Z'),
    });
    const retrieval = parseDisputeCallBody('initiateRetrieval', { ...ids, retrievalReasonCode: 'TRANSACTION_INFORMATION_REQUEST', responseDeadline: '2026-12-14T10:00:00+08:00' });
    assert.ok(retrieval.ok && retrieval.call.kind === 'opened' && retrieval.call.amount === null);
    const result = parseDisputeCallBody('notifyDisputeResult', { ...ids, disputeType: 'ESCALATION', disputeResult: 'MERCHANT_WON', resultTime: '2026-12-01T10:00:00+08:00' });
    assert.ok(result.ok && result.call.kind === 'decided' && result.call.result === 'won' && result.call.type === 'escalation');

    const malformed: [string, Parameters<typeof parseDisputeCallBody>[0], Record<string, unknown>][] = [
      ['disputeRequestId', 'initiateRetrieval', { ...ids, disputeRequestId: '', retrievalReasonCode: 'X', responseDeadline: '2026-12-14T10:00:00+08:00' }],
      ['responseDeadline', 'initiateRetrieval', { ...ids, retrievalReasonCode: 'X', responseDeadline: '2026-12-14' }],
      ['escalationAmount', 'initiateEscalation', { ...ids, escalationAmount: { currency: 'CNY', value: '6.5' }, escalationReasonCode: 'X', responseDeadline: '2026-12-14T10:00:00+08:00' }],
      ['escalationAmount', 'initiateEscalation', { ...ids, escalationAmount: { currency: 'CNY', value: '0' }, escalationReasonCode: 'X', responseDeadline: '2026-12-14T10:00:00+08:00' }],
      ['escalationReasonCode', 'initiateEscalation', { ...ids, escalationAmount: { currency: 'CNY', value: '1' }, retrievalReasonCode: 'X', responseDeadline: '2026-12-14T10:00:00+08:00' }],
      ['disputeResult', 'notifyDisputeResult', { ...ids, disputeType: 'ESCALATION', disputeResult: 'MAYBE' }],
      ['paymentId', 'notifyDisputeResult', { disputeRequestId: 'D1', paymentRequestId: 'pi_1_1', disputeType: 'ESCALATION', disputeResult: 'MERCHANT_WON' }],
    ];
    for (const [field, call, body] of malformed) {
      const parsed = parseDisputeCallBody(call, body);
      assert.ok(!parsed.ok, `${call} without a valid ${field}`);
      if (!parsed.ok) assert.match(parsed.reason, new RegExp(field));
    }
  });

  it('answers dispositions with the design\'s result codes', () => {
    assert.deepEqual(dispositionResult({ ack: true, note: 'x' }), { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' });
    const codes = (['unknown_payment', 'invalid', 'repeat_inconsistent', 'amount_exceeded'] as const).map((why) => dispositionResult({ ack: false, why, note: 'n' }));
    assert.deepEqual(codes.map((r) => [r.resultCode, r.resultStatus]), [['ORDER_NOT_EXIST', 'F'], ['PARAM_ILLEGAL', 'F'], ['REPEAT_REQ_INCONSISTENT', 'F'], ['DISPUTE_AMOUNT_EXCEED', 'F']]);
  });

  it('builds the wire responses: retrieval 0001/0003, escalation REFUSE_REFUND with documents or ACCEPT_REFUND of the amount', () => {
    const base = { livemode: false, disputeRequestId: 'D1', paymentRequestId: 'pi_1_1', amount: { currency: 'CNY', amountMinor: 600 } };
    const evidence = [{ field: 'product_description', text: 'Tea' }, { field: 'receipt', text: '' }];
    assert.deepEqual(JSON.parse(toDisputeResponse({ ...base, type: 'retrieval', action: 'defend', evidence }).body), {
      disputeRequestId: 'D1', paymentRequestId: 'pi_1_1', responseCode: '0001', otherDocumentation: [{ documentType: 'PRODUCT_DESCRIPTION', documentContent: 'Tea' }],
    });
    assert.deepEqual(JSON.parse(toDisputeResponse({ ...base, type: 'retrieval', action: 'defend', evidence: [] }).body), { disputeRequestId: 'D1', paymentRequestId: 'pi_1_1', responseCode: '0003' });
    assert.deepEqual(JSON.parse(toDisputeResponse({ ...base, type: 'escalation', action: 'defend', evidence }).body), {
      disputeRequestId: 'D1', paymentRequestId: 'pi_1_1', refundType: 'REFUSE_REFUND', defenseDocumentation: [{ documentType: 'PRODUCT_DESCRIPTION', documentContent: 'Tea' }],
    });
    const accept = toDisputeResponse({ ...base, type: 'escalation', action: 'accept', evidence });
    assert.equal(accept.type, 'escalation');
    assert.deepEqual(JSON.parse(accept.body), { disputeRequestId: 'D1', paymentRequestId: 'pi_1_1', refundType: 'ACCEPT_REFUND', refundAmount: { currency: 'CNY', value: '600' } });
  });
});
