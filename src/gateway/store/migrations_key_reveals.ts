import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * A new API key's plaintext between the dashboard action that made it and its one showing
 * (core/api_key_reveals.ts), sealed with a key that only the showing's URL holds: shared by every
 * gateway process, so the redirect's GET may land on any of them. Rows live minutes at most.
 */
export const apiKeyReveals: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('api_key_reveals')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('session_id', 'text', (c) => c.notNull())
      .addColumn('key_id', 'text', (c) => c.notNull())
      .addColumn('sealed', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('api_key_reveals_expiry').on('api_key_reveals').column('expires_at').execute();
  },
};
