import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * The Charge's `billing_details` (issue 12: Stripe's schema requires it): a snapshot of the
 * payment method's billing details when the payment succeeded, as Stripe keeps it. Charges made
 * before this migration have none (null): their view shows every field null.
 */
export const chargeBillingDetails: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable('charges').addColumn('billing_details', 'text').execute();
  },
};
