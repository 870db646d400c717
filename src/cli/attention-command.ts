import type { Command } from 'commander';
import { listAttention } from '../gateway/core/attention.js';
import { loadConfig, migrate, openDatabase } from '../gateway/index.js';
import type { AttentionItemRow } from '../gateway/store/schema.js';

/** One line per item: what to look up at Alipay+ and why the gateway could not settle it alone. */
export function attentionLines(items: AttentionItemRow[]): string[] {
  if (items.length === 0) return ['nothing requires attention'];
  return items.map((item) =>
    [new Date(item.created).toISOString(), item.livemode === 1 ? 'live' : 'test', item.object, item.id, item.payment_intent_id, `request ${item.request_id}`, `${item.currency} ${item.amount}`, item.reason].join('\t'),
  );
}

/**
 * `zhifu attention`: the payment attempts and refunds in requires_attention (README
 * "requires_attention"), oldest first, over the configured database.
 */
export function registerAttentionCommand(program: Command): void {
  program
    .command('attention')
    .description('list payment attempts and refunds that require an operator (amount mismatches, refused reversals, no final answer)')
    .option('--json', 'one JSON object per line')
    .action(async (options: { json?: boolean }) => {
      const database = openDatabase(loadConfig().databaseUrl, { sqliteCommitSync: 'each' });
      try {
        await migrate(database);
        const items = await listAttention({ database });
        for (const line of options.json ? items.map((item) => JSON.stringify(item)) : attentionLines(items)) console.log(line);
      } finally {
        await database.close();
      }
    });
}
