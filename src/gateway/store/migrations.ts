import { Migrator, sql } from 'kysely';
import type { Kysely, Migration, MigrationProvider, MigrationResultSet } from 'kysely';
import type { Database } from './database.js';
import { webhooks } from './migrations_webhooks.js';
import { checkout } from './migrations_checkout.js';
import { refunds } from './migrations_refunds.js';
import { attention } from './migrations_attention.js';
import { recovery } from './migrations_recovery.js';
import { disputes } from './migrations_disputes.js';
import { dashboard } from './migrations_dashboard.js';
import { requestLogs } from './migrations_request_logs.js';
import { dashboardPayments } from './migrations_dashboard_payments.js';
import { dashboardDisputes } from './migrations_dashboard_disputes.js';
import { dashboardKeys } from './migrations_dashboard_keys.js';
import { dashboardWebhooks } from './migrations_dashboard_webhooks.js';
import { chargeBillingDetails } from './migrations_charge_billing.js';
import { webhookClaimCovering, webhookClaimOrder } from './migrations_workers.js';
import { rateLimitWindows } from './migrations_rate_limits.js';
import { apiKeyReveals } from './migrations_key_reveals.js';
import { balanceTotals, lookupIndexes, metadataIndexNoPendingList, metadataSearch } from './migrations_lookups.js';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

const accountsAndKeys: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('accounts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('name', 'text')
      .addColumn('business_category', 'text')
      .addColumn('settlement_currency', 'text', (c) => c.notNull())
      .addColumn('is_default', 'integer')
      .execute();
    await db.schema.createIndex('accounts_single_default').on('accounts').column('is_default').unique().where(sql.ref('is_default'), '=', 1).execute();
    await db.schema
      .createTable('api_keys')
      .addColumn('key_hash', 'text', (c) => c.primaryKey())
      .addColumn('id', 'text', (c) => c.notNull().unique())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('last4', 'text', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema
      .createTable('idempotency_keys')
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('request_method', 'text', (c) => c.notNull())
      .addColumn('request_path', 'text', (c) => c.notNull())
      .addColumn('params_hash', 'text', (c) => c.notNull())
      .addColumn('request_id', 'text', (c) => c.notNull())
      .addColumn('response_status', 'integer')
      .addColumn('response_body', 'text')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      // The primary key is what makes concurrent first uses of one key produce one execution.
      .addPrimaryKeyConstraint('idempotency_keys_pk', ['account_id', 'livemode', 'idempotency_key'])
      .execute();
  },
};

const payments: Migration = {
  async up(db: Kysely<any>) {
    await createPaymentMethods(db);
    await createPaymentIntents(db);
    await createPaymentAttempts(db);
    await createCharges(db);
    await createEvents(db);
  },
};

async function createPaymentMethods(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('payment_methods')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('billing_details', 'text', (c) => c.notNull())
    .addColumn('customer', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .execute();
}

async function createPaymentIntents(db: Kysely<any>): Promise<void> {
  let table = db.schema
    .createTable('payment_intents')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('updated', 'bigint', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount >= 1`))
    .addColumn('amount_received', 'bigint', (c) => c.notNull().check(sql`amount_received >= 0 and amount_received <= amount`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('client_secret', 'text', (c) => c.notNull());
  for (const column of ['capture_method', 'confirmation_method', 'payment_method_types', 'payment_method_options', 'metadata']) {
    table = table.addColumn(column, 'text', (c) => c.notNull());
  }
  for (const column of [
    'payment_method', 'return_url', 'description', 'merchant_order_id', 'merchant_user_id', 'shipping', 'receipt_email',
    'statement_descriptor', 'customer', 'next_action', 'last_payment_error', 'latest_charge', 'cancellation_reason', 'checkout_session',
  ]) {
    table = table.addColumn(column, 'text');
  }
  await table.addColumn('canceled_at', 'bigint').execute();
  // Keyset pagination: newest first within one account and mode.
  await db.schema.createIndex('payment_intents_list').on('payment_intents').columns(['account_id', 'livemode', 'created', 'id']).execute();
  await db.schema.createIndex('payment_intents_order').on('payment_intents').columns(['account_id', 'livemode', 'merchant_order_id']).execute();
}

async function createPaymentAttempts(db: Kysely<any>): Promise<void> {
  let table = db.schema
    .createTable('payment_attempts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('payment_intent_id', 'text', (c) => c.notNull().references('payment_intents.id'))
    .addColumn('payment_method_id', 'text', (c) => c.notNull().references('payment_methods.id'))
    .addColumn('payment_request_id', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('terminal_type', 'text', (c) => c.notNull())
    .addColumn('return_url', 'text', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('updated', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint');
  for (const column of ['os_type', 'client_ip', 'external_payment_id', 'failure_code', 'failure_message']) {
    table = table.addColumn(column, 'text');
  }
  await table.execute();
  await db.schema.createIndex('payment_attempts_intent').on('payment_attempts').columns(['payment_intent_id', 'created']).execute();
  // The worker's scan for attempts whose outcome is still open.
  await db.schema.createIndex('payment_attempts_status').on('payment_attempts').columns(['status', 'updated']).execute();
}

async function createCharges(db: Kysely<any>): Promise<void> {
  let table = db.schema
    .createTable('charges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('payment_intent_id', 'text', (c) => c.notNull().references('payment_intents.id'))
    // One charge per successful attempt, however many notifications report it.
    .addColumn('payment_attempt_id', 'text', (c) => c.notNull().unique().references('payment_attempts.id'))
    .addColumn('payment_method_id', 'text', (c) => c.notNull())
    .addColumn('amount', 'bigint', (c) => c.notNull().check(sql`amount >= 1`))
    .addColumn('amount_captured', 'bigint', (c) => c.notNull())
    // Paired with the refund service's check: refunds never exceed what was captured.
    .addColumn('amount_refunded', 'bigint', (c) => c.notNull().check(sql`amount_refunded >= 0 and amount_refunded <= amount_captured`))
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('disputed', 'integer', (c) => c.notNull())
    .addColumn('metadata', 'text', (c) => c.notNull());
  for (const column of ['buyer_id', 'transaction_id', 'wallet', 'balance_transaction', 'description', 'customer']) {
    table = table.addColumn(column, 'text');
  }
  await table.execute();
  await db.schema.createIndex('charges_list').on('charges').columns(['account_id', 'livemode', 'created', 'id']).execute();
  await db.schema.createIndex('charges_intent').on('charges').columns(['payment_intent_id']).execute();
}

async function createEvents(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('livemode', 'integer', (c) => c.notNull())
    .addColumn('created', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .addColumn('idempotency_key', 'text')
    .addColumn('pending_webhooks', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('events_list').on('events').columns(['account_id', 'livemode', 'created', 'id']).execute();
}

/**
 * The worker's bookkeeping on each attempt (src/gateway/workers): when it is next due, how many
 * checks it had in its current status, the lease that keeps two gateway processes from working
 * it at once, and how money taken after a cancel was returned.
 */
const attemptWorker: Migration = {
  async up(db: Kysely<any>) {
    const columns: Array<[string, 'bigint' | 'text']> = [
      ['next_check_at', 'bigint'], ['lease_owner', 'text'], ['lease_until', 'bigint'],
      ['reversal', 'text'], ['reversal_refund_request_id', 'text'], ['reversal_refund_id', 'text'],
    ];
    for (const [name, type] of columns) await db.schema.alterTable('payment_attempts').addColumn(name, type).execute();
    await db.schema.alterTable('payment_attempts').addColumn('checks', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    // Attempts left open before this migration become due at once.
    await db.updateTable('payment_attempts').set({ next_check_at: sql.ref('updated') }).where('status', 'in', ['sending', 'pending', 'canceling']).execute();
    await db.schema.createIndex('payment_attempts_due').on('payment_attempts').columns(['status', 'next_check_at']).execute();
  },
};

/** Every migration, in order. Names sort lexically: never rename or reorder a released one. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_accounts_and_keys': accountsAndKeys,
  '0002_payments': payments,
  '0003_attempt_worker': attemptWorker,
  '0010_webhooks': webhooks,
  '0030_checkout': checkout,
  '0020_refunds': refunds,
  '0040_attention': attention,
  '0045_idempotency_recovery': recovery,
  '0050_disputes': disputes,
  '0060_dashboard_operators': dashboard,
  '0065_request_logs': requestLogs,
  '0070_dashboard_payments': dashboardPayments,
  '0075_dashboard_disputes': dashboardDisputes,
  '0080_dashboard_keys': dashboardKeys,
  '0085_dashboard_webhooks': dashboardWebhooks,
  '0090_charge_billing_details': chargeBillingDetails,
  '0091_lookup_indexes': lookupIndexes,
  '0092_metadata_search': metadataSearch,
  '0093_balance_totals': balanceTotals,
  '0094_metadata_index_no_pending_list': metadataIndexNoPendingList,
  '0095_webhook_claim_order': webhookClaimOrder,
  '0096_webhook_claim_covering': webhookClaimCovering,
  '0100_rate_limit_windows': rateLimitWindows,
  '0105_api_key_reveals': apiKeyReveals,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

/** Brings the schema up to date; safe to run concurrently with itself (Kysely takes a lock). */
export async function migrate(database: Database): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db: database.db, provider, ...(await migrationTableSchema(database)) });
  const result = await migrator.migrateToLatest();
  if (result.error !== undefined) throw result.error;
  return result;
}

/**
 * PostgreSQL: Kysely looks for its bookkeeping tables in every schema unless told which, so a
 * database whose other schema already holds them (side-by-side test schemas, or one deployment per
 * schema) would skip creating its own. Naming the connection's current schema keeps each apart.
 */
async function migrationTableSchema(database: Database): Promise<{ migrationTableSchema?: string }> {
  if (database.kind !== 'postgres') return {};
  const result = await sql<{ schema: string }>`select current_schema() as schema`.execute(database.db);
  const schema = result.rows[0]?.schema;
  return schema === undefined ? {} : { migrationTableSchema: schema };
}
