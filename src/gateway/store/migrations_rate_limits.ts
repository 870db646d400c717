import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The rate limit's shared counter (http/rate_limit.ts): one row per API key and one-second
 * window, counting the requests granted to all gateway processes together. Rows are short-lived:
 * `deleteRateLimitWindowsBefore` drops those of windows long past.
 */
export const rateLimitWindows: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('rate_limit_windows')
      .addColumn('key_hash', 'text', (c) => c.notNull())
      .addColumn('window_start', 'bigint', (c) => c.notNull())
      .addColumn('granted', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('rate_limit_windows_pk', ['key_hash', 'window_start'])
      .execute();
    await db.schema.createIndex('rate_limit_windows_start').on('rate_limit_windows').column('window_start').execute();
  },
};
