/**
 * Time rules of an Alipay+ cashier payment (docs/alipayplus.md §3, §5, §6).
 */
import { CHINA_OFFSET_MINUTES } from '../../alipayplus/index.js';

/** Default time a shopper has to pay when the request names no paymentExpiryTime. */
export const PAYMENT_EXPIRY_MS_DEFAULT = 14 * 60 * 1000;
/** Longest expiry the sandbox accepts in a pay request (our choice, matches Antom's cashier). */
export const PAYMENT_EXPIRY_MS_MAX = 48 * 60 * 60 * 1000;
/** Refunds are accepted for one year after payment. */
export const REFUND_WINDOW_MS = 365 * 24 * 60 * 60 * 1000;

const DAY_MS = 24 * 60 * 60 * 1000;
const OFFSET_MS = CHINA_OFFSET_MINUTES * 60 * 1000;
const CANCEL_CUTOFF_MS = 15 * 60 * 1000;

/** A payment can be cancelled from creation until 00:15 (UTC+8) of the next day. */
export function cancelWindowEnd(createdAtMs: number): number {
  const localMidnight = Math.floor((createdAtMs + OFFSET_MS) / DAY_MS) * DAY_MS - OFFSET_MS;
  return localMidnight + DAY_MS + CANCEL_CUTOFF_MS;
}

export function isWithinCancelWindow(createdAtMs: number, nowMs: number): boolean {
  return nowMs < cancelWindowEnd(createdAtMs);
}

export function isWithinRefundWindow(paidAtMs: number, nowMs: number): boolean {
  return nowMs <= paidAtMs + REFUND_WINDOW_MS;
}
