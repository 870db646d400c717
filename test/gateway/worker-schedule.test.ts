import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AlipayPlusError } from '../../src/alipayplus/index.js';
import { fromCancelError, fromReversalRefundError, fromReversalRefundResponse, reversalRefundRequestId, toReversalRefundRequest } from '../../src/gateway/connector/alipayplus/transformers.js';
import {
  INQUIRY_FIRST_DELAY_MS,
  INQUIRY_INTERVAL_MAX_MS,
  RETRY_BACKOFF_MS,
  SENDING_ATTEMPT_TTL_MS,
  attemptDeadline,
  inquiryIntervalMs,
  nextInquiryAt,
  nextRetryAt,
  firstCheckAfterMove,
} from '../../src/gateway/domain/schedule.js';

const S = 1_000;
const MIN = 60 * S;

describe('worker schedule (pure)', () => {
  it('waits 10 s for the notification, then waits as long as the attempt is old (doubling its age), capped at 5 minutes', () => {
    assert.equal(INQUIRY_FIRST_DELAY_MS, 10 * S);
    assert.equal(firstCheckAfterMove('pending', 7), 7 + INQUIRY_FIRST_DELAY_MS);
    assert.deepEqual(
      [0, 9 * S, 10 * S, 20 * S, 40 * S, 80 * S, 160 * S, 299 * S, 5 * MIN, 10 * MIN, 24 * 60 * MIN].map(inquiryIntervalMs),
      [10 * S, 10 * S, 10 * S, 20 * S, 40 * S, 80 * S, 160 * S, 299 * S, INQUIRY_INTERVAL_MAX_MS, 5 * MIN, 5 * MIN],
    );
  });

  it('an abandoned 14-minute payment is inquired 8 times, the last at its expiry (was ~92 at every 2 s)', () => {
    const created = 1_000_000;
    const deadline = created + 14 * MIN;
    const checks = [firstCheckAfterMove('pending', created)!];
    while (checks.at(-1)! < deadline) checks.push(nextInquiryAt(created, deadline, checks.at(-1)!));
    assert.deepEqual(checks.map((at) => (at - created) / S), [10, 20, 40, 80, 160, 320, 620, 840]);
  });

  it('never schedules an inquiry past the deadline, so expiry is acted on at once; past it, keeps the age-based interval', () => {
    const created = 1_000_000;
    assert.equal(nextInquiryAt(created, created + 14 * MIN, created + 13 * MIN + 50 * S), created + 14 * MIN);
    assert.equal(nextInquiryAt(created, created + 14 * MIN, created + 10 * S), created + 20 * S);
    assert.equal(nextInquiryAt(created, created + 14 * MIN, created + 20 * MIN), created + 25 * MIN);
  });

  it('retries cancels and refunds on a backoff by check count, repeating the last step', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 100].map((checks) => nextRetryAt(checks, 0)), [2 * S, 10 * S, 30 * S, 60 * S, 5 * MIN, 5 * MIN, 5 * MIN]);
    assert.equal(RETRY_BACKOFF_MS.length, 5);
  });

  it('the deadline is the network\'s expiry, or created + 14 min for an attempt that never got one', () => {
    assert.equal(attemptDeadline({ created: 5, expires_at: 99 }), 99);
    assert.equal(attemptDeadline({ created: 5, expires_at: null }), 5 + SENDING_ATTEMPT_TTL_MS);
  });
});

describe('reversal transformers (pure)', () => {
  const request = { accountId: 'acct_1', livemode: false, paymentIntentId: 'pi_1', attemptId: 'pa_1', paymentRequestId: 'pi_0000000000000000001_1', amountMinor: 1234, currency: 'CNY' };

  it('refunds the full amount under a refundRequestId derived from the paymentRequestId', () => {
    assert.equal(reversalRefundRequestId('pi_0000000000000000001_1'), 'pi_0000000000000000001_1_reversal');
    const refund = toReversalRefundRequest(request);
    assert.deepEqual([refund.refundRequestId, refund.paymentRequestId, refund.refundAmount], ['pi_0000000000000000001_1_reversal', request.paymentRequestId, { currency: 'CNY', value: '1234' }]);
    assert.ok(refund.refundRequestId.length <= 64);
    assert.deepEqual(fromReversalRefundResponse(request, { result: { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' }, refundId: 'r1' }), { kind: 'refunded', refundRequestId: refund.refundRequestId, refundId: 'r1' });
  });

  it('classifies failures: F is a refusal with its code, U and transport are unknown (retry the same id)', () => {
    assert.deepEqual(fromReversalRefundError(new AlipayPlusError('F', 'ORDER_IS_CLOSED', 'closed')), { kind: 'refused', code: 'ORDER_IS_CLOSED', reason: 'ORDER_IS_CLOSED: closed' });
    assert.equal(fromReversalRefundError(new AlipayPlusError('U', 'UNKNOWN_EXCEPTION', 'u')).kind, 'unknown');
    assert.equal(fromReversalRefundError(new AlipayPlusError('transport', 'TIMEOUT', 't')).kind, 'unknown');
    const late = fromCancelError(new AlipayPlusError('F', 'CANCEL_WINDOW_EXCEED', 'late'));
    assert.deepEqual([late.kind, late.kind === 'not_canceled' ? late.code : null], ['not_canceled', 'CANCEL_WINDOW_EXCEED']);
  });
});
