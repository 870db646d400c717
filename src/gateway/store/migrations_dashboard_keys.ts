import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Indexes the dashboard's Balance and API keys pages read by (issue 11): the balance transactions
 * of one account and mode filtered by type, newest first (a rare type such as `dispute` must not
 * scan every charge of a busy account), and the API keys of one account and mode.
 */
export const dashboardKeys: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('balance_transactions_by_type').on('balance_transactions').columns(['account_id', 'livemode', 'type', 'created', 'id']).execute();
    await db.schema.createIndex('api_keys_by_account').on('api_keys').columns(['account_id', 'livemode', 'created']).execute();
  },
};
