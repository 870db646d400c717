import type { Amount } from './wire.js';

/** A natural number in decimal without sign, leading zeros or fraction ("0" allowed). */
const NATURAL = /^(0|[1-9]\d*)$/;
/** Minor-unit amounts above this are refused: they would not round-trip through JSON numbers. */
export const AMOUNT_VALUE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** True when `value` is a wire amount value: a natural-number string no larger than 2^53−1. */
export function isAmountValue(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 16 && NATURAL.test(value) && BigInt(value) <= AMOUNT_VALUE_MAX;
}

/** True when `value` is a well-formed `Amount` with a three-letter upper-case currency. */
export function isAmount(value: unknown): value is Amount {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.currency === 'string' && /^[A-Z]{3}$/.test(candidate.currency) && isAmountValue(candidate.value);
}

export function amount(currency: string, minor: number | bigint): Amount {
  return { currency, value: String(minor) };
}

export function amountsEqual(a: Amount | undefined, b: Amount | undefined): boolean {
  return a !== undefined && b !== undefined && a.currency === b.currency && a.value === b.value;
}
