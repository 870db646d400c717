/**
 * Pure refund rules (api.md §4, alipayplus.md §6): what may be refunded of a charge, and what a
 * refund's outcome does to it. No I/O: the service loads the charge, asks here, and persists.
 */

/** Alipay+ accepts refunds for one year after payment (alipayplus.md §6). */
export const REFUND_WINDOW_MS = 365 * 24 * 60 * 60 * 1000;

export type RefundStatus = 'pending' | 'succeeded' | 'failed' | 'canceled';

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
