import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Crash recovery of idempotent requests (core/recovery.ts). An in-progress claim carries its
 * `owner` (the gateway process) and a lease, `locked_until`, renewed while the request runs: a
 * claim whose lease ran out belongs to a request that died, and a retry takes it over. The
 * `recovery_point` (JSON) names what the request durably started — the PaymentIntent it created
 * to confirm, the attempt it sent, the refund it created — written in the same transaction that
 * started it, so the retry finishes that instead of starting anything new.
 *
 * `pending_confirms` holds the PaymentIntents created with `confirm: true` whose first attempt
 * has not been started: the row is deleted by the transaction that starts it, and the worker
 * confirms what a dead request left behind.
 */
export const recovery: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('idempotency_keys').addColumn('owner', 'text').execute();
    await db.schema.alterTable('idempotency_keys').addColumn('locked_until', 'bigint').execute();
    await db.schema.alterTable('idempotency_keys').addColumn('recovery_point', 'text').execute();
    await db.schema
      .createTable('pending_confirms')
      .addColumn('payment_intent_id', 'text', (c) => c.primaryKey().references('payment_intents.id'))
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      // The creating request's key, if it had one: the worker then finishes that request.
      .addColumn('idempotency_key', 'text')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('due_at', 'bigint', (c) => c.notNull())
      .addColumn('tries', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.createIndex('pending_confirms_due').on('pending_confirms').column('due_at').execute();
  },
};
