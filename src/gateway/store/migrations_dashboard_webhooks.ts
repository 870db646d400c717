import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The dashboard's delivery log shows what each attempt's receiver answered (issue 11): the start
 * of the response body as received, whatever the status. Attempts made before this migration
 * have none (null); a failed one's text is still in `error`.
 */
export const dashboardWebhooks: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('webhook_delivery_attempts').addColumn('response_body', 'text').execute();
  },
};
