import { PostgresAdapter, sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Indexes for the dashboard's Payments pages (store/dashboard_payments.ts), so each filter seeks
 * instead of walking an account's whole history with a million payments stored:
 * - status and currency filters: newest first within one status / currency;
 * - "needs attention": attention items of one account and mode (the existing index is global);
 * - the detail page's timeline: events by the id of the object they carry (an expression index:
 *   the events table stores the object as JSON text), for the PaymentIntent and its charges,
 *   refunds and disputes;
 * - metadata search on PostgreSQL: a GIN index over the metadata as jsonb.
 * merchant_order_id already has `payment_intents_order`; charges, refunds, disputes and attempts
 * by PaymentIntent have theirs.
 */
export const dashboardPayments: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('payment_intents_status_list').on('payment_intents').columns(['account_id', 'livemode', 'status', 'created', 'id']).execute();
    await db.schema.createIndex('payment_intents_currency_list').on('payment_intents').columns(['account_id', 'livemode', 'currency', 'created', 'id']).execute();
    await db.schema.createIndex('attention_items_account').on('attention_items').columns(['account_id', 'livemode', 'payment_intent_id']).execute();
    // The same expression text as store/dashboard_payments.ts eventObjectId: only then is it used.
    const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
    const objectId = postgres ? sql`((data)::jsonb -> 'object' ->> 'id')` : sql`json_extract(data, '$.object.id')`;
    await sql`create index events_object on events (account_id, livemode, ${objectId})`.execute(db);
    // Metadata search (`key:value`) for any key: PostgreSQL's GIN answers containment (@>). SQLite has no equivalent.
    if (postgres) await sql`create index payment_intents_metadata on payment_intents using gin (((metadata)::jsonb) jsonb_path_ops)`.execute(db);
  },
};

