import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTEMPT_WORKER_STATUSES, OPEN_ATTEMPT_STATUSES, PAYMENT_ATTEMPT_STATUSES, attemptStatusOf, isFinal, isOpen, transitionAttempt } from '../../src/gateway/domain/payment_attempts.js';
import type { PaymentAttemptInput, PaymentAttemptStatus } from '../../src/gateway/domain/payment_attempts.js';
import { REFUND_STATUSES, transitionRefund } from '../../src/gateway/domain/refunds.js';
import type { RefundInput, RefundState, RefundStatus } from '../../src/gateway/domain/refunds.js';

const ATTEMPT_INPUTS: Record<string, PaymentAttemptInput> = {
  network_accepted: { kind: 'network_accepted' },
  paid: { kind: 'paid' },
  declined: { kind: 'declined' },
  close: { kind: 'close' },
  paid_after_failure: { kind: 'paid_after_failure' },
  closed_awaited: { kind: 'closed', awaited: true },
  closed_unawaited: { kind: 'closed', awaited: false },
  needs_attention: { kind: 'needs_attention' },
};

/** The whole machine as a table: status → input → next status (absent: refused). */
const ATTEMPT_TABLE: Record<PaymentAttemptStatus, Partial<Record<keyof typeof ATTEMPT_INPUTS, PaymentAttemptStatus>>> = {
  sending: { network_accepted: 'pending', paid: 'succeeded', declined: 'failed', close: 'canceling', needs_attention: 'requires_attention' },
  pending: { paid: 'succeeded', declined: 'failed', close: 'canceling', needs_attention: 'requires_attention' },
  canceling: { closed_awaited: 'failed', closed_unawaited: 'canceled', needs_attention: 'requires_attention' },
  succeeded: {},
  failed: { paid_after_failure: 'canceling' },
  canceled: {},
  requires_attention: {},
};

describe('payment attempt status machine', () => {
  it('decides every status × input exactly as the table says', () => {
    assert.deepEqual(Object.keys(ATTEMPT_TABLE).sort(), [...PAYMENT_ATTEMPT_STATUSES].sort());
    let checked = 0;
    for (const status of PAYMENT_ATTEMPT_STATUSES) {
      for (const [name, input] of Object.entries(ATTEMPT_INPUTS)) {
        const expected = ATTEMPT_TABLE[status][name];
        const decided = transitionAttempt(status, input);
        if (expected === undefined) {
          assert.equal(decided.ok, false, `${status} + ${name} must be refused`);
        } else {
          assert.ok(decided.ok, `${status} + ${name} must move`);
          assert.deepEqual({ from: decided.from, to: decided.to }, { from: status, to: expected }, `${status} + ${name}`);
        }
        checked++;
      }
    }
    assert.equal(checked, 7 * 8);
  });

  it('writes payment_intent.requires_attention only on the move to requires_attention', () => {
    for (const status of PAYMENT_ATTEMPT_STATUSES) {
      for (const input of Object.values(ATTEMPT_INPUTS)) {
        const decided = transitionAttempt(status, input);
        if (!decided.ok) continue;
        assert.deepEqual(decided.events, decided.to === 'requires_attention' ? ['payment_intent.requires_attention'] : [], `${status} + ${input.kind}`);
      }
    }
  });

  it('never leaves a final status except a failed attempt later reported paid, and never records a paid one as anything else', () => {
    for (const status of PAYMENT_ATTEMPT_STATUSES.filter(isFinal)) {
      for (const input of Object.values(ATTEMPT_INPUTS)) {
        const decided = transitionAttempt(status, input);
        if (decided.ok) assert.deepEqual([status, input.kind, decided.to], ['failed', 'paid_after_failure', 'canceling']);
      }
    }
    // Once a cancel was requested the order can only end cancelled (alipayplus.md §5): no `paid` from canceling.
    assert.equal(transitionAttempt('canceling', { kind: 'paid' }).ok, false);
    assert.deepEqual(PAYMENT_ATTEMPT_STATUSES.filter(isOpen), ['sending', 'pending']);
    assert.deepEqual([...OPEN_ATTEMPT_STATUSES], PAYMENT_ATTEMPT_STATUSES.filter(isOpen), 'the store lists open attempts by the machine');
    assert.deepEqual([...ATTEMPT_WORKER_STATUSES], PAYMENT_ATTEMPT_STATUSES.filter((status) => !isFinal(status)), 'the worker claims exactly the non-final statuses');
  });

  it('refuses a stored status outside the machine', () => {
    assert.equal(attemptStatusOf('pending'), 'pending');
    assert.throws(() => attemptStatusOf('paid'), /unknown payment attempt status paid/);
  });
});

const REFUND_INPUTS: RefundInput[] = [
  { kind: 'send' },
  { kind: 'network_succeeded' },
  { kind: 'network_failed' },
  { kind: 'network_unknown' },
  { kind: 'cancel' },
  { kind: 'needs_attention' },
];

const key = (state: RefundState) => `${state.status}${state.sent ? '/sent' : '/unsent'}`;

/** state → input → next state and events (absent: refused). */
const REFUND_TABLE: Record<string, Partial<Record<RefundInput['kind'], [string, string[]]>>> = {
  'pending/unsent': {
    send: ['pending/sent', []],
    cancel: ['canceled/unsent', ['refund.updated', 'charge.refund.updated']],
  },
  'pending/sent': {
    network_succeeded: ['succeeded/sent', ['refund.updated', 'charge.refund.updated', 'charge.refunded']],
    network_failed: ['failed/sent', ['refund.failed', 'refund.updated', 'charge.refund.updated']],
    network_unknown: ['pending/sent', []],
    needs_attention: ['requires_attention/sent', ['refund.requires_attention', 'refund.updated']],
  },
};

describe('refund status machine', () => {
  it('decides every status × sent × input exactly as the table says', () => {
    let checked = 0;
    for (const status of REFUND_STATUSES as readonly RefundStatus[]) {
      for (const sent of [false, true]) {
        const from = { status, sent };
        for (const input of REFUND_INPUTS) {
          const expected = REFUND_TABLE[key(from)]?.[input.kind];
          const decided = transitionRefund(from, input);
          if (expected === undefined) {
            assert.equal(decided.ok, false, `${key(from)} + ${input.kind} must be refused`);
          } else {
            assert.ok(decided.ok, `${key(from)} + ${input.kind} must move`);
            assert.deepEqual([key(decided.to), decided.events], expected, `${key(from)} + ${input.kind}`);
          }
          checked++;
        }
      }
    }
    assert.equal(checked, 5 * 2 * 6);
  });

  it('says why a sent refund cannot be canceled', () => {
    const decided = transitionRefund({ status: 'pending', sent: true }, { kind: 'cancel' });
    assert.ok(!decided.ok);
    assert.match(decided.message, /already been sent/);
  });
});
