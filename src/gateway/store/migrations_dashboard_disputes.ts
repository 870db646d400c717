import type { Kysely, Migration } from 'kysely';

/* Migrations take Kysely<any>: they describe tables that the typed schema does not know yet. */
/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * Indexes for the dashboard's Disputes and Checkout sessions pages (store/dashboard_disputes.ts,
 * store/checkout_sessions.ts). Without them a status filter would walk the account's whole list
 * index looking for the few rows of that status, and the deadline order would sort every dispute:
 * - disputes by status, newest first (the list filtered by status);
 * - disputes by status and deadline (the open ones, soonest deadline first);
 * - disputes by deadline across statuses (the list ordered by deadline, or "due before");
 * - checkout sessions by status, newest first (the sessions list filtered by status);
 * - a product's prices, newest first (the products list and a product's page).
 */
export const dashboardDisputes: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.createIndex('disputes_status_list').on('disputes').columns(['account_id', 'livemode', 'status', 'created', 'id']).execute();
    await db.schema.createIndex('disputes_status_deadline').on('disputes').columns(['account_id', 'livemode', 'status', 'due_by', 'id']).execute();
    await db.schema.createIndex('disputes_deadline_list').on('disputes').columns(['account_id', 'livemode', 'due_by', 'id']).execute();
    await db.schema.createIndex('prices_product_list').on('prices').columns(['product_id', 'created', 'id']).execute();
    await db.schema.createIndex('checkout_sessions_status_list').on('checkout_sessions').columns(['account_id', 'livemode', 'status', 'created', 'id']).execute();
  },
};
