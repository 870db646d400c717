import { PostgresAdapter, sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * `requires_attention` (domain/payment_attempts.ts, domain/refunds.ts): a terminal status for
 * what the gateway cannot settle alone, and the operator's list of such rows. Attempt statuses
 * are unchecked text; the refunds table CHECKs its statuses, so the CHECK gains the new one.
 */
export const attention: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('attention_items')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('object', 'text', (c) => c.notNull().check(sql`object in ('payment_attempt', 'refund')`))
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('payment_intent_id', 'text', (c) => c.notNull())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('amount', 'bigint', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('attention_items_list').on('attention_items').columns(['created', 'id']).execute();
    await widenRefundStatusCheck(db);
  },
};

const OLD_CHECK = "status in ('pending', 'succeeded', 'failed', 'canceled')";
const NEW_CHECK = "status in ('pending', 'succeeded', 'failed', 'canceled', 'requires_attention')";

async function widenRefundStatusCheck(db: Kysely<any>): Promise<void> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    // PostgreSQL names an inline column CHECK <table>_<column>_check.
    await sql`alter table refunds drop constraint refunds_status_check`.execute(db);
    await sql.raw(`alter table refunds add constraint refunds_status_check check (${NEW_CHECK})`).execute(db);
    return;
  }
  // SQLite cannot alter a CHECK: rebuild the table from its own definition with the wider CHECK
  // (the documented 12-step procedure, inside the migration's transaction). Nothing references refunds.
  const table = await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = 'refunds'`.execute(db);
  const definition = table.rows[0]?.sql ?? '';
  if (!definition.includes(OLD_CHECK)) throw new Error('refunds table definition is not the one this migration knows');
  const indexes = await sql<{ sql: string }>`select sql from sqlite_master where type = 'index' and tbl_name = 'refunds' and sql is not null`.execute(db);
  await sql.raw(definition.replace(OLD_CHECK, NEW_CHECK).replace(/^CREATE TABLE "?refunds"?/i, 'CREATE TABLE "refunds_widened"')).execute(db);
  await sql`insert into refunds_widened select * from refunds`.execute(db);
  await sql`drop table refunds`.execute(db);
  await sql`alter table refunds_widened rename to refunds`.execute(db);
  for (const index of indexes.rows) await sql.raw(index.sql).execute(db);
}
