/**
 * Currencies the sandbox accepts for payments (the seed's processing currencies) and for
 * settlement. All have two minor-unit digits, so minor units convert to minor units directly.
 */
export const PAYMENT_CURRENCIES = ['CNY', 'GBP', 'USD', 'EUR', 'HKD'] as const;
export const SETTLEMENT_CURRENCIES = ['GBP', 'HKD', 'EUR'] as const;
/** Our choice: a pay request without settlementStrategy settles in HKD, Alipay+'s Hong Kong clearing currency. */
export const DEFAULT_SETTLEMENT_CURRENCY = 'HKD';

export type PaymentCurrency = (typeof PAYMENT_CURRENCIES)[number];
export type SettlementCurrency = (typeof SETTLEMENT_CURRENCIES)[number];

export function isPaymentCurrency(value: string): value is PaymentCurrency {
  return (PAYMENT_CURRENCIES as readonly string[]).includes(value);
}

export function isSettlementCurrency(value: string): value is SettlementCurrency {
  return (SETTLEMENT_CURRENCIES as readonly string[]).includes(value);
}
