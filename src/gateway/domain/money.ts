/**
 * Currencies and amounts. Amounts are integer minor units everywhere; the limits here are the
 * seed's (minimum 0.01 CNY, no maximum) bounded by what a JS number holds exactly.
 */
export interface CurrencyInfo {
  code: string;
  /** Digits after the decimal point: the minor unit is 10^-exponent of the major unit. */
  exponent: number;
  /** Accepted for Alipay payments (the seed's processing currencies). */
  processing: boolean;
  /** Accepted as an account's settlement currency (the seed's settlement currencies). */
  settlement: boolean;
}

export const CURRENCIES: readonly CurrencyInfo[] = [
  { code: 'CNY', exponent: 2, processing: true, settlement: false },
  { code: 'GBP', exponent: 2, processing: true, settlement: true },
  { code: 'USD', exponent: 2, processing: true, settlement: false },
  { code: 'EUR', exponent: 2, processing: true, settlement: true },
  { code: 'HKD', exponent: 2, processing: true, settlement: true },
];

export const PROCESSING_CURRENCIES = CURRENCIES.filter((c) => c.processing).map((c) => c.code);
export const SETTLEMENT_CURRENCIES = CURRENCIES.filter((c) => c.settlement).map((c) => c.code);

/** Smallest chargeable amount in minor units (0.01 CNY). */
export const AMOUNT_MIN_MINOR = 1;
/** Largest amount that round-trips exactly through JSON numbers and the database. */
export const AMOUNT_MAX_MINOR = Number.MAX_SAFE_INTEGER;

export function currencyInfo(code: string): CurrencyInfo | undefined {
  return CURRENCIES.find((c) => c.code === code);
}
