import { PostgresAdapter, sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Disputes (api.md §7a). The `disputes` table holds the Dispute and its outbox: the exact wire
 * body of the merchant's response (`response_body`), whether Alipay+ accepted it, and the worker's
 * lease fields, so a response cut off by a crash or a timeout is re-sent unchanged.
 *
 * On charges, `amount_dispute_reserved` is Σ escalations not won and `open_escalations` counts
 * escalations still `needs_response`/`under_review`. Refunds and escalations both reserve with one
 * conditional UPDATE of the charge row, and the CHECK is the paired guarantee that refunds and
 * disputes together never exceed what was captured.
 *
 * Balance transactions gain the type `dispute`. A dispute has two (the withdrawal and the
 * reinstatement), told apart by `reporting_category` (`dispute` / `dispute_reversal`, Stripe's
 * names), so the one-per-source uniqueness becomes one per (source, category).
 */
export const disputes: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable('charges')
      .addColumn('amount_dispute_reserved', 'bigint', (c) => c.notNull().defaultTo(0).check(sql`amount_dispute_reserved >= 0 and amount_refund_reserved + amount_dispute_reserved <= amount_captured`))
      .execute();
    await db.schema.alterTable('charges').addColumn('open_escalations', 'integer', (c) => c.notNull().defaultTo(0).check(sql`open_escalations >= 0`)).execute();
    await createDisputes(db);
    await widenBalanceTransactions(db);
  },
};

async function createDisputes(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('disputes')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('updated', 'bigint', (c) => c.notNull())
    .addColumn('charge_id', 'text', (c) => c.notNull().references('charges.id'))
    .addColumn('payment_intent_id', 'text', (c) => c.notNull())
    .addColumn('payment_request_id', 'text', (c) => c.notNull())
    .addColumn('payment_id', 'text', (c) => c.notNull())
    // Alipay+'s idempotency field: a second initiate with it records nothing.
    .addColumn('dispute_request_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('retrieval', 'escalation')`))
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('warning_needs_response', 'warning_under_review', 'warning_closed', 'needs_response', 'under_review', 'won', 'lost')`),
    )
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount >= 1`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('network_reason_code', 'text', (c) => c.notNull())
    .addColumn('reason_message', 'text')
    .addColumn('occurred_at', 'bigint')
    .addColumn('due_by', 'bigint')
    .addColumn('past_due', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('submission_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('metadata', 'text', (c) => c.notNull())
    // JSON array of txn_ ids: the withdrawal, then the reinstatement.
    .addColumn('balance_transactions', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    // The outbox: the response as sent on the wire, and what Alipay+ said to it.
    .addColumn('response_api', 'text')
    .addColumn('response_body', 'text')
    .addColumn('response_state', 'text', (c) => c.check(sql`response_state in ('sending', 'accepted', 'refused')`))
    .addColumn('response_code', 'text')
    .addColumn('next_check_at', 'bigint')
    .addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .execute();
  await db.schema.createIndex('disputes_request').on('disputes').columns(['livemode', 'dispute_request_id']).unique().execute();
  await db.schema.createIndex('disputes_list').on('disputes').columns(['account_id', 'livemode', 'created', 'id']).execute();
  await db.schema.createIndex('disputes_charge').on('disputes').columns(['charge_id', 'created']).execute();
  await db.schema.createIndex('disputes_intent').on('disputes').columns(['payment_intent_id', 'created']).execute();
  // The worker's scans: responses to re-send, and disputes whose deadline passed.
  await db.schema.createIndex('disputes_due').on('disputes').columns(['status', 'next_check_at']).execute();
  await db.schema.createIndex('disputes_deadline').on('disputes').columns(['status', 'due_by']).execute();
}

const OLD_TYPE_CHECK = "type in ('charge', 'refund', 'adjustment')";
const NEW_TYPE_CHECK = "type in ('charge', 'refund', 'adjustment', 'dispute')";

async function widenBalanceTransactions(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('balance_transactions').addColumn('reporting_category', 'text').execute();
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // PostgreSQL names an inline column CHECK <table>_<column>_check and a column UNIQUE <table>_<column>_key.
    await sql`alter table balance_transactions drop constraint balance_transactions_type_check`.execute(db);
    await sql.raw(`alter table balance_transactions add constraint balance_transactions_type_check check (${NEW_TYPE_CHECK})`).execute(db);
    await sql`alter table balance_transactions drop constraint balance_transactions_source_key`.execute(db);
  } else {
    // SQLite cannot alter a CHECK or drop a UNIQUE: rebuild the table from its own definition
    // (the documented 12-step procedure, inside the migration's transaction). Nothing references it.
    const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'balance_transactions'`.execute(db);
    const definition = table.rows[0]?.sql ?? '';
    const uniqueSource = /"source" text not null unique/i;
    if (!definition.includes(OLD_TYPE_CHECK) || !uniqueSource.test(definition)) throw new Error('balance_transactions table definition is not the one this migration knows');
    const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'balance_transactions' and sql is not null`.execute(db);
    const widened = definition
      .replace(OLD_TYPE_CHECK, NEW_TYPE_CHECK)
      .replace(uniqueSource, '"source" text not null')
      .replace(/^CREATE TABLE "?balance_transactions"?/i, 'CREATE TABLE "balance_transactions_widened"');
    await sql.raw(widened).execute(db);
    await sql`insert into balance_transactions_widened select * from balance_transactions`.execute(db);
    await sql`drop table balance_transactions`.execute(db);
    await sql`alter table balance_transactions_widened rename to balance_transactions`.execute(db);
    for (const index of indexes.rows) await sql.raw(index.sql).execute(db);
  }
  // One balance transaction per source and category: a charge, a refund, a dispute's withdrawal, its reinstatement.
  await sql`create unique index balance_transactions_source on balance_transactions (source, (coalesce(reporting_category, type)))`.execute(db);
}
