/**
 * Pure rules of the balance (api.md §7): fees, net amounts and when money becomes available.
 * Everything is integer minor units of the settlement currency; the only division (the fee) is
 * done in BigInt and rounded half up, as the sandbox rounds settlement amounts.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const UTC8_OFFSET_MS = 8 * 60 * 60 * 1000;
const BPS_SCALE = 10_000n;

/**
 * The merchant's processing fee on a payment, taken from the settlement amount: `percent_bps`
 * basis points (rounded half up to the minor unit) plus a fixed amount per settlement currency.
 * Refunds carry no fee, and the payment's fee is not returned (Stripe's rule).
 */
export interface FeeSchedule {
  percent_bps: number;
  fixed_minor: Record<string, number>;
}

/** 3.00% and no fixed part: a typical cross-border Alipay rate. Override with ZHIFU_FEE_SCHEDULE. */
export const DEFAULT_FEE_SCHEDULE: FeeSchedule = { percent_bps: 300, fixed_minor: {} };

/** Parses `{"percent_bps": 300, "fixed_minor": {"GBP": 20}}`; throws a clear error otherwise. */
export function parseFeeSchedule(text: string): FeeSchedule {
  const value = JSON.parse(text) as Partial<FeeSchedule>;
  const bps = value.percent_bps ?? 0;
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new RangeError(`fee schedule percent_bps must be an integer 0–10000, got ${String(bps)}`);
  const fixed = value.fixed_minor ?? {};
  for (const [currency, minor] of Object.entries(fixed)) {
    if (!Number.isSafeInteger(minor) || minor < 0) throw new RangeError(`fee schedule fixed_minor.${currency} must be a natural number of minor units, got ${String(minor)}`);
  }
  return { percent_bps: bps, fixed_minor: Object.fromEntries(Object.entries(fixed).map(([c, m]) => [c.toUpperCase(), m])) };
}

/** The fee on a payment settled at `amountMinor`: round_half_up(amount × bps / 10000) + fixed. */
export function paymentFeeMinor(amountMinor: number, currency: string, schedule: FeeSchedule): number {
  const percent = (BigInt(amountMinor) * BigInt(schedule.percent_bps) * 2n + BPS_SCALE) / (BPS_SCALE * 2n);
  return Number(percent) + (schedule.fixed_minor[currency] ?? 0);
}

/**
 * When a balance transaction becomes available: Alipay+ clears at T+1 08:00 UTC+8 (alipayplus.md
 * §9), so the funds of anything on calendar day D in UTC+8 become available at 08:00 UTC+8 of
 * D+1, which is 00:00 UTC of D+1.
 */
export function availableOnMs(createdMs: number): number {
  return (Math.floor((createdMs + UTC8_OFFSET_MS) / DAY_MS) + 1) * DAY_MS;
}

/** The quoted price as a number, for display only (`exchange_rate`); amounts never use it. */
export function exchangeRateOf(quotePrice: string | null): number | null {
  if (quotePrice === null || !/^\d+(\.\d+)?$/.test(quotePrice)) return null;
  return Number(quotePrice);
}

const PRICE_DECIMALS = 8;
const PRICE_SCALE = 10n ** BigInt(PRICE_DECIMALS);

/**
 * Converts a payment-currency amount into the settlement currency the way the payment itself was
 * converted (a dispute's withdrawal and reinstatement, api.md §7a): with the payment's quoted
 * price, rounded half up to the minor unit, in BigInt — the rounding Alipay+ applies to settlement
 * amounts. Without a readable price, the payment's own ratio (settled ÷ paid) is used.
 */
export function convertLikePayment(amountMinor: number, payment: { quotePrice: string | null; settledMinor: number; paidMinor: number }): number {
  if (payment.quotePrice !== null && /^\d+(\.\d+)?$/.test(payment.quotePrice)) {
    const [whole = '0', fraction = ''] = payment.quotePrice.split('.');
    const scaled = BigInt(whole) * PRICE_SCALE + BigInt((fraction + '0'.repeat(PRICE_DECIMALS)).slice(0, PRICE_DECIMALS));
    return Number((BigInt(amountMinor) * scaled + PRICE_SCALE / 2n) / PRICE_SCALE);
  }
  if (payment.paidMinor <= 0) return 0;
  const paid = BigInt(payment.paidMinor);
  return Number((BigInt(amountMinor) * BigInt(payment.settledMinor) * 2n + paid) / (paid * 2n));
}
