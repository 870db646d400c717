import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Refunds (api.md §4) and balance transactions (§7). A charge's `amount_refund_reserved` is the
 * sum of its refunds that are pending or succeeded: the refund service reserves with a
 * conditional UPDATE in the transaction that creates the refund, and the CHECK below is the
 * paired guarantee that no interleaving ever refunds more than was captured.
 */
export const refunds: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('charges')
      .addColumn('amount_refund_reserved', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`amount_refund_reserved >= 0 and amount_refund_reserved <= amount_captured`))
      .execute();
    await createRefunds(db);
    await createBalanceTransactions(db);
  },
};

async function createBalanceTransactions(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('balance_transactions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('charge', 'refund', 'adjustment')`))
    // The ch_ or re_ it records: one balance transaction per source.
    .addColumn('source', 'text', (c) => c.notNull().unique())
    .addColumn('payment_intent_id', 'text')
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('fee', 'bigint', (c) => c.notNull().check(sql`fee >= 0`))
    .addColumn('net', 'bigint', (c) => c.notNull())
    .addColumn('exchange_rate', 'text')
    .addColumn('source_amount', 'bigint', (c) => c.notNull())
    .addColumn('source_currency', 'text', (c) => c.notNull())
    .addColumn('available_on', 'bigint', (c) => c.notNull())
    .addColumn('quote_id', 'text')
    .addColumn('alipay_request_id', 'text')
    .addColumn('alipay_id', 'text')
    .addCheckConstraint('balance_transactions_net', sql`net = amount - fee`)
    .execute();
  await db.schema.createIndex('balance_transactions_list').on('balance_transactions').columns(['account_id', 'livemode', 'created', 'id']).execute();
  await db.schema.createIndex('balance_transactions_available').on('balance_transactions').columns(['account_id', 'livemode', 'currency', 'available_on']).execute();
}

async function createRefunds(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('refunds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('updated', 'bigint', (c) => c.notNull())
    .addColumn('charge_id', 'text', (c) => c.notNull().references('charges.id'))
    .addColumn('payment_intent_id', 'text', (c) => c.notNull())
    .addColumn('payment_request_id', 'text', (c) => c.notNull())
    // Derived from the refund id and reused on every send, so Alipay+ refunds at most once.
    .addColumn('refund_request_id', 'text', (c) => c.notNull().unique())
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount >= 1`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'succeeded', 'failed', 'canceled')`))
    .addColumn('reason', 'text')
    .addColumn('failure_reason', 'text')
    .addColumn('failure_code', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('external_refund_id', 'text')
    .addColumn('sent_at', 'bigint')
    .addColumn('next_check_at', 'bigint')
    .addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('settlement_currency', 'text')
    .addColumn('settlement_amount', 'bigint')
    .addColumn('settlement_quote', 'text')
    .addColumn('balance_transaction', 'text')
    .execute();
  await db.schema.createIndex('refunds_list').on('refunds').columns(['account_id', 'livemode', 'created', 'id']).execute();
  await db.schema.createIndex('refunds_charge').on('refunds').columns(['charge_id', 'created']).execute();
  await db.schema.createIndex('refunds_intent').on('refunds').columns(['payment_intent_id', 'created']).execute();
  // The worker's scan for refunds whose outcome is still open.
  await db.schema.createIndex('refunds_due').on('refunds').columns(['status', 'next_check_at']).execute();
}
