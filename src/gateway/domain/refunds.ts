/**
 * Pure refund rules (api.md §4, alipayplus.md §6): what may be refunded of a charge, and what a
 * refund's outcome does to it. No I/O: the service loads the charge, asks here, and persists.
 */

/** Alipay+ accepts refunds for one year after payment (alipayplus.md §6). */
export const REFUND_WINDOW_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * Refund statuses (api.md §4) and the refund status machine (diagram in README.md). `pending` has
 * two phases told apart by `sent`: not yet sent (only then can it be canceled) and sent (outcome
 * not final; the worker re-sends it with the same refundRequestId). `requires_attention`: the
 * network answered something the gateway cannot decide alone (a refunded amount that is not the
 * one we sent); terminal, settled by an operator, its reservation kept on the charge.
 */
export const REFUND_STATUSES = ['pending', 'succeeded', 'failed', 'canceled', 'requires_attention'] as const;
export type RefundStatus = (typeof REFUND_STATUSES)[number];

export interface RefundState {
  status: RefundStatus;
  /** Whether it went (or is going) to the network: `sent_at` is set. */
  sent: boolean;
}

export type RefundInput =
  /** About to go to the network: no cancel from now on. */
  | { kind: 'send' }
  | { kind: 'network_succeeded' }
  | { kind: 'network_failed' }
  /** No final answer (timeout, `U`): stays pending for the worker's re-send. */
  | { kind: 'network_unknown' }
  | { kind: 'cancel' }
  | { kind: 'needs_attention' };

export type RefundEventType = 'refund.updated' | 'refund.failed' | 'refund.requires_attention' | 'charge.refund.updated' | 'charge.refunded';

export type RefundMove =
  | { ok: true; from: RefundState; to: RefundState; events: RefundEventType[] }
  | { ok: false; from: RefundState; message: string };

/**
 * Decides a refund's move. The store applies it as a compare-and-set on `from` (status and sent).
 * Every final status refuses every input: a late or repeated report changes nothing.
 */
export function transitionRefund(from: RefundState, input: RefundInput): RefundMove {
  const refuse = (why: string): RefundMove => ({ ok: false, from, message: why });
  const to = (status: RefundStatus, ...events: RefundEventType[]): RefundMove => ({ ok: true, from, to: { status, sent: from.sent || input.kind === 'send' }, events });
  switch (from.status) {
    case 'pending':
      break;
    case 'succeeded':
    case 'failed':
    case 'canceled':
    case 'requires_attention':
      return refuse(`it has a status of ${from.status}`);
  }
  switch (input.kind) {
    case 'send':
      return from.sent ? refuse('it has already been sent to Alipay+') : to('pending');
    case 'cancel':
      return from.sent ? refuse('it has already been sent to Alipay+') : to('canceled', 'refund.updated', 'charge.refund.updated');
    case 'network_succeeded':
    case 'network_failed':
    case 'network_unknown':
    case 'needs_attention':
      // Only a sent refund has a network outcome; the send is recorded before the call.
      if (!from.sent) return refuse('it has not been sent to Alipay+');
      switch (input.kind) {
        case 'network_succeeded':
          return to('succeeded', 'refund.updated', 'charge.refund.updated', 'charge.refunded');
        case 'network_failed':
          return to('failed', 'refund.failed', 'refund.updated', 'charge.refund.updated');
        case 'network_unknown':
          return to('pending');
        case 'needs_attention':
          return to('requires_attention', 'refund.requires_attention', 'refund.updated');
      }
  }
}

export interface RefundableCharge {
  /** Smallest currency unit. */
  amountCapturedMinor: number;
  /** Pending plus succeeded refunds. */
  amountReservedMinor: number;
  /** When the charge was paid, ms since the epoch. */
  createdMs: number;
}

export type RefundDecision =
  | { ok: true; amountMinor: number }
  | { ok: false; code: 'charge_already_refunded' | 'amount_too_large' | 'charge_expired_for_refund'; message: string };

/** The amount a new refund takes: the one asked for, or the whole remainder when omitted. */
export function decideRefundAmount(charge: RefundableCharge, requestedMinor: number | undefined, nowMs: number): RefundDecision {
  if (nowMs > charge.createdMs + REFUND_WINDOW_MS) {
    return { ok: false, code: 'charge_expired_for_refund', message: `Refunds are accepted for one year after payment; this charge was paid at ${new Date(charge.createdMs).toISOString()}.` };
  }
  const remainderMinor = charge.amountCapturedMinor - charge.amountReservedMinor;
  if (remainderMinor <= 0) {
    return { ok: false, code: 'charge_already_refunded', message: `The charge has already been refunded in full (${charge.amountCapturedMinor}, counting pending refunds).` };
  }
  const amountMinor = requestedMinor ?? remainderMinor;
  if (amountMinor > remainderMinor) {
    return { ok: false, code: 'amount_too_large', message: `Refund amount (${amountMinor}) is greater than the charge's unrefunded amount (${remainderMinor}, counting pending refunds).` };
  }
  return { ok: true, amountMinor };
}

/** Stripe's failure_reason vocabulary for a refund the wallet network refused with `code`. */
export function failureReasonOf(code: string): 'declined' | 'unknown' {
  switch (code) {
    case 'REFUND_WINDOW_EXCEED':
    case 'REFUND_AMOUNT_EXCEED':
    case 'ORDER_IS_CLOSED':
    case 'ORDER_NOT_EXIST':
    case 'CURRENCY_NOT_SUPPORT':
    case 'PARAM_ILLEGAL':
    case 'REPEAT_REQ_INCONSISTENT':
      return 'declined';
    default:
      return 'unknown';
  }
}
