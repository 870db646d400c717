import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Hosted checkout (api.md §6): Products, Prices, Checkout Sessions with their line items, and the
 * publishable key each account and mode puts in its sessions' `url`.
 */
export const checkout: Migration = {
  async up(db: Kysely<any>) {
    await createProducts(db);
    await createPrices(db);
    await createCheckoutSessions(db);
    await createCheckoutLineItems(db);
    await db.schema
      .createTable('checkout_page_keys')
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('livemode', 'integer', (c) => c.notNull())
      // A publishable key in plaintext: it is public by design (every session URL carries it).
      .addColumn('publishable_key', 'text', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('checkout_page_keys_pk', ['account_id', 'livemode'])
      .execute();
  },
};

async function createProducts(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('products')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('updated', 'bigint', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('images', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('products_list').on('products').columns(['account_id', 'livemode', 'created', 'id']).execute();
}

async function createPrices(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('prices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('active', 'integer', (c) => c.notNull())
    .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('unit_amount', 'bigint', (c) => c.notNull().check(sql`unit_amount >= 0`))
    .addColumn('type', 'text', (c) => c.notNull().check(sql`type in ('one_time', 'recurring')`))
    .addColumn('recurring', 'text')
    .addColumn('billing_scheme', 'text', (c) => c.notNull())
    .addColumn('lookup_key', 'text')
    .addColumn('nickname', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('prices_list').on('prices').columns(['account_id', 'livemode', 'created', 'id']).execute();
  await db.schema.createIndex('prices_product').on('prices').columns(['product_id']).execute();
}

async function createCheckoutSessions(db: Kysely<any>): Promise<void> {
  let table = db.schema
    .createTable('checkout_sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('updated', 'bigint', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('open', 'complete', 'expired')`))
    .addColumn('payment_status', 'text', (c) => c.notNull().check(sql`payment_status in ('unpaid', 'paid')`))
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount_subtotal', 'bigint', (c) => c.notNull().check(sql`amount_subtotal >= 1`))
    .addColumn('amount_total', 'bigint', (c) => c.notNull().check(sql`amount_total >= 1`))
    .addColumn('payment_intent_id', 'text', (c) => c.notNull().unique().references('payment_intents.id'))
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('success_url', 'text', (c) => c.notNull())
    .addColumn('url', 'text', (c) => c.notNull())
    .addColumn('payment_method_types', 'text', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull());
  for (const column of ['cancel_url', 'client_reference_id', 'customer_email', 'locale']) table = table.addColumn(column, 'text');
  await table.execute();
  await db.schema.createIndex('checkout_sessions_list').on('checkout_sessions').columns(['account_id', 'livemode', 'created', 'id']).execute();
  // The worker's scan for open sessions past their expiry.
  await db.schema.createIndex('checkout_sessions_due').on('checkout_sessions').columns(['status', 'expires_at']).execute();
}

async function createCheckoutLineItems(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('checkout_line_items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('checkout_sessions.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('price_id', 'text', (c) => c.notNull().references('prices.id'))
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('quantity', 'bigint', (c) => c.notNull().check(sql`quantity >= 1`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('amount_subtotal', 'bigint', (c) => c.notNull())
    .addColumn('amount_total', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('checkout_line_items_session').on('checkout_line_items').columns(['session_id', 'position']).execute();
}
