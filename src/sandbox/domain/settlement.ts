import type { Amount, SettlementQuote } from '../../alipayplus/index.js';
import { formatDateTime } from '../../alipayplus/index.js';
import type { PaymentCurrency, SettlementCurrency } from './currencies.js';

/**
 * The sandbox's settlement rate table: mid rates (settlement-currency units per one unit of the
 * payment currency), fixed so tests can check settlement amounts to the minor unit.
 *
 * | from \ to | GBP    | HKD    | EUR    |
 * |-----------|--------|--------|--------|
 * | CNY       | 0.1090 | 1.0850 | 0.1290 |
 * | USD       | 0.7900 | 7.8000 | 0.9300 |
 * | GBP       | 1      | 9.8800 | 1.1700 |
 * | EUR       | 0.8500 | 8.4000 | 1      |
 * | HKD       | 0.1010 | 1      | 0.1190 |
 *
 * The quoted price carries a 0.3% spread against the acquirer: payments convert at
 * mid × 0.997, refunds at mid × 1.003 (same currency: exactly 1, no spread). Prices have 8
 * decimal places (truncated). Settlement amount = payment amount × price, rounded half up to
 * the minor unit, computed in integers.
 */
export const MID_RATES: Record<PaymentCurrency, Record<SettlementCurrency, string>> = {
  CNY: { GBP: '0.1090', HKD: '1.0850', EUR: '0.1290' },
  USD: { GBP: '0.7900', HKD: '7.8000', EUR: '0.9300' },
  GBP: { GBP: '1', HKD: '9.8800', EUR: '1.1700' },
  EUR: { GBP: '0.8500', HKD: '8.4000', EUR: '1' },
  HKD: { GBP: '0.1010', HKD: '1', EUR: '0.1190' },
};

export const SPREAD_BASIS_POINTS = 30n;
const PRICE_SCALE = 100_000_000n;
/** A quote is valid for a day (our choice; real quotes last minutes to hours). */
export const QUOTE_VALIDITY_MS = 24 * 60 * 60 * 1000;

export type QuoteDirection = 'payment' | 'refund';

export interface Settlement {
  settlementAmount: Amount;
  settlementQuote: SettlementQuote;
}

/** Price scaled by 1e8, with the spread applied in the acquirer's disfavour. */
export function quotePriceScaled(from: PaymentCurrency, to: SettlementCurrency, direction: QuoteDirection): bigint {
  const mid = decimalToScaled(MID_RATES[from][to]);
  if ((from as string) === (to as string)) return mid;
  const factor = direction === 'payment' ? 10_000n - SPREAD_BASIS_POINTS : 10_000n + SPREAD_BASIS_POINTS;
  return (mid * factor) / 10_000n;
}

/** Converts minor units with the quoted price, rounding half up. */
export function convertMinor(amountMinor: bigint, priceScaled: bigint): bigint {
  return (amountMinor * priceScaled + PRICE_SCALE / 2n) / PRICE_SCALE;
}

export function settle(
  paid: { currency: PaymentCurrency; amountMinor: bigint },
  to: SettlementCurrency,
  direction: QuoteDirection,
  quoteId: string,
  nowMs: number,
): Settlement {
  const price = quotePriceScaled(paid.currency, to, direction);
  return {
    settlementAmount: { currency: to, value: convertMinor(paid.amountMinor, price).toString() },
    settlementQuote: {
      quoteId,
      quoteCurrencyPair: `${paid.currency}/${to}`,
      quotePrice: scaledToDecimal(price),
      quoteStartTime: formatDateTime(nowMs),
      quoteExpiryTime: formatDateTime(nowMs + QUOTE_VALIDITY_MS),
    },
  };
}

function decimalToScaled(decimal: string): bigint {
  const [whole = '0', fraction = ''] = decimal.split('.');
  return BigInt(whole) * PRICE_SCALE + BigInt((fraction + '00000000').slice(0, 8));
}

function scaledToDecimal(scaled: bigint): string {
  const whole = scaled / PRICE_SCALE;
  const fraction = (scaled % PRICE_SCALE).toString().padStart(8, '0');
  return `${whole}.${fraction}`;
}
