import type { Database } from '../store/database.js';
import { countAttentionItems, dailyChargeVolume, dailyPaymentOutcomes, dailyRefunds } from '../store/dashboard_home.js';

/** Days shown on Home, today included; days are UTC. */
export const HOME_DAYS = 30;
const DAY_MS = 86_400_000;

export interface PeriodFigures {
  /** Sum of succeeded charges, minor units. */
  volume: number;
  payments: number;
  /** PaymentIntents created in the period that succeeded / failed (open ones in neither). */
  succeeded: number;
  failed: number;
  /** succeeded / (succeeded + failed), or null when nothing reached an outcome. */
  successRate: number | null;
  /** Sum of succeeded refunds, minor units. */
  refunded: number;
  refunds: number;
}

export interface CurrencySummary {
  currency: string;
  today: PeriodFigures;
  last30Days: PeriodFigures;
  /** One entry per day, oldest first, HOME_DAYS long; `day` is the day's start (ms, UTC). */
  daily: Array<{ day: number; volume: number; refunded: number }>;
}

export interface HomeSummary {
  accountId: string;
  livemode: boolean;
  currencies: CurrencySummary[];
  /** Items awaiting an operator (attention_items) of this account and mode. */
  attentionCount: number;
}

function emptyFigures(): PeriodFigures {
  return { volume: 0, payments: 0, succeeded: 0, failed: 0, successRate: null, refunded: 0, refunds: 0 };
}

/** Home's figures for one account and mode: today and the last HOME_DAYS days, per currency. */
export async function homeSummary(database: Database, accountId: string, livemode: boolean, now: number): Promise<HomeSummary> {
  const today = Math.floor(now / DAY_MS);
  const firstDay = today - (HOME_DAYS - 1);
  const since = firstDay * DAY_MS;
  const [charges, refunds, outcomes, attentionCount] = await Promise.all([
    dailyChargeVolume(database.db, accountId, livemode, since),
    dailyRefunds(database.db, accountId, livemode, since),
    dailyPaymentOutcomes(database.db, accountId, livemode, since),
    countAttentionItems(database.db, accountId, livemode),
  ]);
  const byCurrency = new Map<string, CurrencySummary>();
  const summaryOf = (currency: string): CurrencySummary => {
    let summary = byCurrency.get(currency);
    if (summary === undefined) {
      summary = {
        currency, today: emptyFigures(), last30Days: emptyFigures(),
        daily: Array.from({ length: HOME_DAYS }, (_, index) => ({ day: (firstDay + index) * DAY_MS, volume: 0, refunded: 0 })),
      };
      byCurrency.set(currency, summary);
    }
    return summary;
  };
  const periodsOf = (summary: CurrencySummary, day: number) => (day === today ? [summary.today, summary.last30Days] : [summary.last30Days]);
  for (const row of charges) {
    const summary = summaryOf(row.currency);
    for (const period of periodsOf(summary, row.day)) { period.volume += row.amount; period.payments += row.count; }
    const entry = summary.daily[row.day - firstDay];
    if (entry) entry.volume += row.amount;
  }
  for (const row of refunds) {
    const summary = summaryOf(row.currency);
    for (const period of periodsOf(summary, row.day)) { period.refunded += row.amount; period.refunds += row.count; }
    const entry = summary.daily[row.day - firstDay];
    if (entry) entry.refunded += row.amount;
  }
  for (const row of outcomes) {
    if (row.succeeded + row.failed === 0) continue;
    const summary = summaryOf(row.currency);
    for (const period of periodsOf(summary, row.day)) { period.succeeded += row.succeeded; period.failed += row.failed; }
  }
  const currencies = [...byCurrency.values()].sort((a, b) => a.currency.localeCompare(b.currency));
  for (const summary of currencies) {
    for (const period of [summary.today, summary.last30Days]) {
      const decided = period.succeeded + period.failed;
      period.successRate = decided === 0 ? null : period.succeeded / decided;
    }
  }
  return { accountId, livemode, currencies, attentionCount };
}
