import { InvalidArgumentError, type Command } from 'commander';
import { createAccount, createApiKeys, createIdGenerator, migrate, systemClock, type Database } from '../gateway/index.js';
import { withDatabase } from './database.js';
import { findAccountById } from '../gateway/store/accounts.js';
import { SETTLEMENT_CURRENCIES } from '../gateway/domain/money.js';
import { prohibitedCategoryOf } from '../gateway/domain/prohibited_categories.js';

/** Operator commands over the configured database (ZHIFU_DATABASE_URL / ZHIFU_DATA_DIR). */
export function registerAdminCommands(program: Command): void {
  program
    .command('migrate')
    .description('apply pending database migrations (start does this too)')
    .action(() =>
      withDatabase({ migrateFirst: false }, async (database) => {
        const { results, error } = await migrate(database);
        for (const result of results ?? []) console.log(`${result.status === 'Success' ? 'applied' : result.status}: ${result.migrationName}`);
        if (error) throw error;
        if (!results?.length) console.log('database is up to date');
      }),
    );

  const accounts = program.command('accounts').description('merchant accounts');
  accounts
    .command('create')
    .description('create an account with test-mode keys (and live-mode keys with --live)')
    .option('--name <name>', 'the business name shoppers see')
    .option('--business-category <category>', 'what the business sells (prohibited categories are refused)', businessCategory)
    .option('--settlement-currency <currency>', 'GBP, HKD or EUR', settlementCurrency, 'HKD')
    .option('--live', 'also create live-mode keys')
    .action((options: { name?: string; businessCategory?: string; settlementCurrency: string; live?: boolean }) =>
      withDatabase({ migrateFirst: true }, async (database) => {
        const ids = createIdGenerator(systemClock);
        const account = await createAccount(database.db, systemClock, ids, {
          name: options.name ?? null,
          businessCategory: options.businessCategory ?? null,
          settlementCurrency: options.settlementCurrency,
        });
        console.log(`account: ${account.id} (settles in ${account.settlement_currency})`);
        await printNewKeys(database, account.id, false);
        if (options.live) await printNewKeys(database, account.id, true);
      }),
    );

  program
    .command('keys')
    .description('API keys')
    .command('create')
    .description('create a new secret and publishable key pair for an account')
    .requiredOption('--account <id>', 'the account (acct_…)', accountId)
    .option('--live', 'live-mode keys (default: test mode)')
    .action((options: { account: string; live?: boolean }) =>
      withDatabase({ migrateFirst: true }, async (database) => {
        if (!(await findAccountById(database.db, options.account))) throw new Error(`no such account: ${options.account}`);
        await printNewKeys(database, options.account, options.live === true);
      }),
    );
}

async function printNewKeys(database: Database, account: string, livemode: boolean): Promise<void> {
  const keys = await createApiKeys(database.db, systemClock, createIdGenerator(systemClock), account, livemode);
  // Printed once: only their hashes are stored.
  console.log(`${livemode ? 'live' : 'test'} secret key:      ${keys.secretKey}`);
  console.log(`${livemode ? 'live' : 'test'} publishable key: ${keys.publishableKey}`);
}

function accountId(value: string): string {
  if (!/^acct_\d{19}$/.test(value)) throw new InvalidArgumentError(`${value} is not an account id (acct_ followed by 19 digits)`);
  return value;
}

/** Refuses a category on the prohibited list up front: such an account could never take an Alipay payment. */
function businessCategory(value: string): string {
  const category = value.trim();
  if (category === '') throw new InvalidArgumentError('the business category must not be empty');
  const prohibited = prohibitedCategoryOf(category);
  if (prohibited !== null) throw new InvalidArgumentError(`'${category}' is a prohibited business category (${prohibited.reason}): Alipay+ does not accept such merchants`);
  return category;
}

function settlementCurrency(value: string): string {
  const currency = value.trim().toUpperCase();
  if (!SETTLEMENT_CURRENCIES.includes(currency)) throw new InvalidArgumentError(`settlement currency must be one of ${SETTLEMENT_CURRENCIES.join(', ')}, got ${value}`);
  return currency;
}
