import { PostgresAdapter, sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

const isPostgres = (db: Kysely<any>) => db.getExecutor().adapter instanceof PostgresAdapter;

/**
 * Lookups that walked an account's whole history (bench/lookups.ts, issue 13): each filter gets
 * an index whose leading equalities are the filter and whose tail (created, id) is the list's
 * order, so both databases seek to the match and read it already sorted, whatever planner
 * statistics they have (SQLite has none): with fewer equality columns SQLite preferred the
 * account's (created, id) index for its order and filtered every row.
 * - search by merchant_order_id: replaces payment_intents_order (same leading columns, so every
 *   query that used it uses this one);
 * - list PaymentIntents by customer;
 * - list charges and refunds by PaymentIntent (charges_intent and refunds_intent stay: the
 *   workers and the detail page look them up by it alone).
 */
export const lookupIndexes: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.dropIndex('payment_intents_order').execute();
    await db.schema.createIndex('payment_intents_order_list').on('payment_intents').columns(['account_id', 'livemode', 'merchant_order_id', 'created', 'id']).execute();
    await db.schema.createIndex('payment_intents_customer_list').on('payment_intents').columns(['account_id', 'livemode', 'customer', 'created', 'id']).execute();
    await db.schema.createIndex('refunds_intent_list').on('refunds').columns(['account_id', 'livemode', 'payment_intent_id', 'created', 'id']).execute();
    await db.schema.createIndex('charges_intent_list').on('charges').columns(['account_id', 'livemode', 'payment_intent_id', 'created', 'id']).execute();
  },
};

/**
 * SQLite: metadata search read every PaymentIntent of the account through json_extract (PostgreSQL
 * answers it from the GIN index of migration 0070). A side table holds one row per metadata key
 * with a text value, kept by triggers, so it is written in the very statement (and transaction)
 * that writes the PaymentIntent's metadata, whichever code path writes it. Its index leads with
 * (account, mode, key, value) and ends in the PaymentIntent's (created, id), so a search reads
 * the matches newest first and stops at the page, for a rare value and a common one alike. Its
 * columns are named apart from payment_intents' so a search joining the two can keep naming
 * PaymentIntent columns unqualified. Only text values: json_extract of a number is a number,
 * which the search's text never equals, and the side table keeps that answer.
 */
export const metadataSearch: Migration = {
  async up(db: Kysely<any>) {
    if (isPostgres(db)) return;
    await sql`create table payment_intent_metadata (
      payment_intent_id text not null,
      key text not null,
      value text not null,
      intent_account_id text not null,
      intent_livemode integer not null,
      intent_created integer not null,
      primary key (payment_intent_id, key)
    ) without rowid`.execute(db);
    await sql`create index payment_intent_metadata_search on payment_intent_metadata
      (intent_account_id, intent_livemode, key, value, intent_created, payment_intent_id)`.execute(db);
    const rowsOf = (p: string) => sql.raw(`select ${p}.id, j.key, j.value, ${p}.account_id, ${p}.livemode, ${p}.created from json_each(${p}.metadata) as j where j.type = 'text'`);
    const columns = sql.raw('payment_intent_metadata (payment_intent_id, key, value, intent_account_id, intent_livemode, intent_created)');
    await sql`create trigger payment_intent_metadata_insert after insert on payment_intents begin
      insert into ${columns} ${rowsOf('new')};
    end`.execute(db);
    await sql`create trigger payment_intent_metadata_update after update of metadata on payment_intents when new.metadata is not old.metadata begin
      delete from payment_intent_metadata where payment_intent_id = new.id;
      insert into ${columns} ${rowsOf('new')};
    end`.execute(db);
    await sql`create trigger payment_intent_metadata_delete after delete on payment_intents begin
      delete from payment_intent_metadata where payment_intent_id = old.id;
    end`.execute(db);
    await sql`insert into ${columns} select p.id, j.key, j.value, p.account_id, p.livemode, p.created
      from payment_intents as p, json_each(p.metadata) as j where j.type = 'text'`.execute(db);
  },
};

/**
 * `GET /v1/balance` summed every balance transaction of the account per call. Two running sums
 * now answer it, both updated in the transaction that records each balance transaction
 * (store/balance_transactions.ts) and backfilled here:
 * - balance_totals: the net per account, mode and settlement currency;
 * - balance_available_on: the same net split by `available_on` (always the start of a UTC+8
 *   day, domain/balance.ts), so what is still pending is the few rows of days not yet reached.
 * available = total − pending: two index reads, whatever the history and the daily volume.
 * balance_transactions_available served only the summing query and goes with it.
 */
export const balanceTotals: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('balance_totals')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('net', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('balance_totals_pk', ['account_id', 'livemode', 'currency'])
      .execute();
    await db.schema
      .createTable('balance_available_on')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('available_on', 'bigint', (c) => c.notNull())
      .addColumn('net', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('balance_available_on_pk', ['account_id', 'livemode', 'currency', 'available_on'])
      .execute();
    await sql`insert into balance_totals (account_id, livemode, currency, net)
      select account_id, livemode, currency, sum(net) from balance_transactions group by account_id, livemode, currency`.execute(db);
    await sql`insert into balance_available_on (account_id, livemode, currency, available_on, net)
      select account_id, livemode, currency, available_on, sum(net) from balance_transactions group by account_id, livemode, currency, available_on`.execute(db);
    await db.schema.dropIndex('balance_transactions_available').execute();
  },
};

/**
 * PostgreSQL: the GIN index of metadata search (migration 0070) took new entries into its pending
 * list (fastupdate), which every search reads through in full until a vacuum merges it: up to
 * gin_pending_list_limit (4 MB) per search, 4–9 ms with a million payments against 0.04 ms from
 * the index proper. Without fastupdate each write files its entries at once (measured in
 * bench/lookups.ts --write-cost); the list already pending is merged here.
 */
export const metadataIndexNoPendingList: Migration = {
  async up(db: Kysely<any>) {
    if (!isPostgres(db)) return;
    await sql`alter index payment_intents_metadata set (fastupdate = off)`.execute(db);
    await sql`select gin_clean_pending_list('payment_intents_metadata'::regclass)`.execute(db);
  },
};
