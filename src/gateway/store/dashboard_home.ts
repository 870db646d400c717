import { sql } from 'kysely';
import type { Executor } from './schema.js';

/** Sums per currency and UTC day (`day` = whole days since the epoch), for the dashboard's Home. */
export interface DailyRow {
  currency: string;
  day: number;
  amount: number;
  count: number;
}

export interface DailyOutcomeRow {
  currency: string;
  day: number;
  succeeded: number;
  failed: number;
}

const DAY_MS = 86_400_000;
/* Integer division on both databases (bigint / integer in PostgreSQL, INTEGER affinity in SQLite). */
const day = sql<number>`created / ${sql.lit(DAY_MS)}`;

/** Succeeded charges: the money taken. Served by charges_list (account_id, livemode, created). */
export async function dailyChargeVolume(ex: Executor, accountId: string, livemode: boolean, since: number): Promise<DailyRow[]> {
  const rows = await ex.selectFrom('charges')
    .select(['currency', day.as('day'), sql<number>`sum(amount)`.as('amount'), sql<number>`count(*)`.as('count')])
    .where('account_id', '=', accountId).where('livemode', '=', livemode ? 1 : 0).where('created', '>=', since).where('status', '=', 'succeeded')
    .groupBy(['currency', day]).execute();
  return rows.map((row) => ({ currency: row.currency, day: Number(row.day), amount: Number(row.amount), count: Number(row.count) }));
}

/** Succeeded refunds. Served by refunds_list (account_id, livemode, created). */
export async function dailyRefunds(ex: Executor, accountId: string, livemode: boolean, since: number): Promise<DailyRow[]> {
  const rows = await ex.selectFrom('refunds')
    .select(['currency', day.as('day'), sql<number>`sum(amount)`.as('amount'), sql<number>`count(*)`.as('count')])
    .where('account_id', '=', accountId).where('livemode', '=', livemode ? 1 : 0).where('created', '>=', since).where('status', '=', 'succeeded')
    .groupBy(['currency', day]).execute();
  return rows.map((row) => ({ currency: row.currency, day: Number(row.day), amount: Number(row.amount), count: Number(row.count) }));
}

/**
 * PaymentIntents created per day that reached an outcome: succeeded, or failed (canceled, or back
 * to requires_payment_method with an error). Open ones count in neither. Served by payment_intents_list.
 */
export async function dailyPaymentOutcomes(ex: Executor, accountId: string, livemode: boolean, since: number): Promise<DailyOutcomeRow[]> {
  const rows = await ex.selectFrom('payment_intents')
    .select([
      'currency', day.as('day'),
      sql<number>`sum(case when status = 'succeeded' then 1 else 0 end)`.as('succeeded'),
      sql<number>`sum(case when status = 'canceled' or (status = 'requires_payment_method' and last_payment_error is not null) then 1 else 0 end)`.as('failed'),
    ])
    .where('account_id', '=', accountId).where('livemode', '=', livemode ? 1 : 0).where('created', '>=', since)
    .groupBy(['currency', day]).execute();
  return rows.map((row) => ({ currency: row.currency, day: Number(row.day), succeeded: Number(row.succeeded), failed: Number(row.failed) }));
}

export async function countAttentionItems(ex: Executor, accountId: string, livemode: boolean): Promise<number> {
  const row = await ex.selectFrom('attention_items').select(sql<number>`count(*)`.as('n'))
    .where('account_id', '=', accountId).where('livemode', '=', livemode ? 1 : 0).executeTakeFirst();
  return Number(row?.n ?? 0);
}
