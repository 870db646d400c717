import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Issue 13: the webhook worker claims due deliveries in `(next_attempt_at, id)` order (one order
 * for every process). The index on `(status, next_attempt_at)` alone made both databases sort
 * every due row for the id tie-break on each claim, so a claim cost grew with the backlog; with
 * `id` in the index a claim reads only the rows it returns (plus the ones leased in flight).
 */
export const webhookClaimOrder: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.createIndex('webhook_deliveries_due_order').on('webhook_deliveries').columns(['status', 'next_attempt_at', 'id']).execute();
    await db.schema.dropIndex('webhook_deliveries_due').execute();
  },
};

/**
 * Issue 13 (drain): the claim's scan of the due order also tests `lease_until` (rows in flight
 * are still pending and due) and `endpoint_id` (endpoints at their bound are left out). With both
 * in the index the scan never reads the table: the leased rows at the head of the order, and a
 * busy endpoint's backlog when it is skipped, cost an index entry each instead of a row lookup.
 */
export const webhookClaimCovering: Migration = {
  async up(db: Kysely<any>): Promise<void> {
    await db.schema.createIndex('webhook_deliveries_due_claim').on('webhook_deliveries').columns(['status', 'next_attempt_at', 'id', 'endpoint_id', 'lease_until']).execute();
    await db.schema.dropIndex('webhook_deliveries_due_order').execute();
  },
};
