import type { AttentionItemRow, Executor } from './schema.js';

/** Lists what awaits an operator, oldest first. */
export function insertAttentionItem(ex: Executor, row: AttentionItemRow): Promise<unknown> {
  return ex.insertInto('attention_items').values(row).onConflict((oc) => oc.column('id').doNothing()).execute();
}

export function listAttentionItems(ex: Executor, limit: number): Promise<AttentionItemRow[]> {
  return ex.selectFrom('attention_items').selectAll().orderBy('created').orderBy('id').limit(limit).execute();
}
