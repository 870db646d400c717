import { randomBytes, randomInt } from 'node:crypto';
import { formatDateTime } from '../../alipayplus/index.js';

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomDigits(count: number): string {
  let out = '';
  for (let i = 0; i < count; i++) out += String(randomInt(10));
  return out;
}

function randomAlphanumeric(count: number): string {
  const bytes = randomBytes(count);
  let out = '';
  for (const byte of bytes) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return out;
}

/** Alipay+ style ids: the UTC+8 date, then random digits (unguessable, unique in practice). */
function datedId(nowMs: number, digits: number): string {
  return formatDateTime(nowMs).slice(0, 10).replace(/-/g, '') + randomDigits(digits);
}

export const newPaymentId = (nowMs: number) => datedId(nowMs, 20);
export const newRefundId = (nowMs: number) => datedId(nowMs, 20);
export const newDisputeId = (nowMs: number) => 'DSP' + datedId(nowMs, 16);
/** Alipay+ assigns the disputeRequestId, the idempotency key of every dispute call. */
export const newDisputeRequestId = (nowMs: number) => datedId(nowMs, 24);
export const newQuoteId = (nowMs: number) => 'Q' + datedId(nowMs, 12);
/** The value a WEB cashier shows as its QR code, shaped like Alipay's (`2816…`, 36 characters). */
export const newCodeValue = () => '2816' + randomAlphanumeric(32);
