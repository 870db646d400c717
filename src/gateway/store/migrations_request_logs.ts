import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Request logs (issue 11): one row per answered /v1 request, written in batches off the hot path
 * (workers/request_logs.ts). No foreign key to accounts: a log row must never make an insert
 * batch fail, and rows are pruned by age, not by their account.
 */
export const requestLogs: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('request_logs')
      // The request's own `req_…` id (Request-Id header): unique per request, time-ordered.
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull())
      .addColumn('livemode', 'integer', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('method', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('route', 'text')
      .addColumn('status', 'integer', (c) => c.notNull())
      .addColumn('duration_ms', 'integer', (c) => c.notNull())
      .addColumn('idempotency_key', 'text')
      .addColumn('idempotent_replayed', 'integer', (c) => c.notNull())
      .addColumn('api_key_last4', 'text')
      .addColumn('request_body', 'text')
      .addColumn('response_body', 'text')
      .execute();
    // Keyset pages newest first within one account and mode (core/request_logs.ts).
    await db.schema.createIndex('request_logs_list').on('request_logs').columns(['account_id', 'livemode', 'created', 'id']).execute();
    // Retention deletes the oldest rows in small batches, whatever their account.
    await db.schema.createIndex('request_logs_created').on('request_logs').columns(['created']).execute();
  },
};
