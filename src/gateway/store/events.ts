import type { EventRow, Executor } from './schema.js';

/** Written in the same transaction as the state change it records (DESIGN.md). */
export function insertEvent(ex: Executor, row: Omit<EventRow, 'pending_webhooks'>): Promise<unknown> {
  return ex.insertInto('events').values(row).execute();
}
