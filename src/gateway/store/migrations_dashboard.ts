import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The dashboard's operators (core/operators.ts): users of one account with a scrypt hash whose
 * salt and cost parameters are stored with it (so the cost can be raised for new hashes without
 * invalidating old ones), their sessions (the id is the SHA-256 of the cookie's random token: a
 * leaked table cannot be replayed as cookies), and the audit log every operator action appends to.
 */
export const dashboard: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('operator_users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
      .addColumn('email', 'text', (c) => c.notNull().unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('password_salt', 'text', (c) => c.notNull())
      .addColumn('password_params', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'viewer')`))
      .addColumn('live_access', 'integer', (c) => c.notNull())
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('updated', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('operator_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('operator_users.id'))
      .addColumn('created', 'bigint', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .addColumn('last_seen', 'bigint', (c) => c.notNull())
      .addColumn('csrf_secret', 'text', (c) => c.notNull())
      .addColumn('revoked_at', 'bigint')
      .execute();
    await db.schema.createIndex('operator_sessions_user').on('operator_sessions').column('user_id').execute();
    await db.schema
      .createTable('audit_log')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('account_id', 'text')
      .addColumn('user_id', 'text')
      // Who, as typed: a failed sign-in for an unknown e-mail has no user but names the attempt.
      .addColumn('actor_email', 'text')
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('object_id', 'text')
      .addColumn('livemode', 'integer')
      .addColumn('detail', 'text')
      .addColumn('ip', 'text')
      .addColumn('created', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('audit_log_list').on('audit_log').columns(['account_id', 'created', 'id']).execute();
    await db.schema.createIndex('audit_log_failed_sign_ins').on('audit_log').columns(['action', 'actor_email', 'ip', 'created']).execute();
    // The Home page's per-day sums filter refunds by (account, mode, created): refunds_list covers that.
  },
};
