import { InvalidArgumentError, type Command } from 'commander';
import { createIdGenerator, systemClock } from '../gateway/index.js';
import { withDatabase } from './database.js';
import { findDefaultAccount } from '../gateway/store/accounts.js';
import { createOperator, listAllOperators, OperatorInputError } from '../gateway/core/operators.js';
import type { OperatorRole } from '../gateway/store/schema.js';

/** `npx zhifu users …`: the dashboard's operators. */
export function registerUsersCommand(program: Command): void {
  const users = program.command('users').description('dashboard operators (sign in at /dashboard)');
  users
    .command('create')
    .description('create an operator; the password is read from standard input (at least 10 characters)')
    .requiredOption('--email <email>', 'the e-mail the operator signs in with')
    .requiredOption('--role <role>', 'admin (may act) or viewer (may only look)', role)
    .option('--account <id>', 'the account (acct_…); default: the default account')
    .option('--live', 'may also see live-mode data')
    .option('--password-stdin', 'read the password from standard input (the default; accepted for scripts that say so)')
    .action((options: { email: string; role: OperatorRole; account?: string; live?: boolean }) =>
      withDatabase({ migrateFirst: true }, async (database) => {
        const accountId = options.account ?? (await findDefaultAccount(database.db))?.id;
        if (accountId === undefined) throw new OperatorInputError('there is no default account yet (run `zhifu start` once) — name one with --account');
        const password = await readPassword();
        const operator = await createOperator({ database, clock: systemClock, ids: createIdGenerator(systemClock) }, {
          accountId, email: options.email, password, role: options.role, liveAccess: options.live === true,
        });
        console.log(`operator: ${operator.id} ${operator.email} (${operator.role}${operator.liveAccess ? ', live access' : ''}) of ${operator.accountId}`);
      }),
    );
  users
    .command('list')
    .description('list the operators of every account')
    .action(() =>
      withDatabase({ migrateFirst: true }, async (database) => {
        const operators = await listAllOperators({ database });
        if (operators.length === 0) console.log('no operators (create one with `zhifu users create`)');
        for (const operator of operators) {
          console.log(`${operator.id}  ${operator.accountId}  ${operator.role.padEnd(6)}  ${operator.liveAccess ? 'live' : 'test'}  ${operator.email}`);
        }
      }),
    );
}

/**
 * The password from standard input: the first line, without its line ending. Never an argument,
 * which other users of the machine could read in the process list and which shells keep in history.
 */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write('Password (input is shown; prefer piping it): ');
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if (process.stdin.isTTY && String(chunk).includes('\n')) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const newline = text.search(/\r?\n/);
  const password = newline === -1 ? text : text.slice(0, newline);
  if (password === '') throw new OperatorInputError('no password on standard input (pipe it in: `echo "$PASSWORD" | zhifu users create …`)');
  return password;
}

function role(value: string): OperatorRole {
  if (value !== 'admin' && value !== 'viewer') throw new InvalidArgumentError(`the role must be admin or viewer, got ${value}`);
  return value;
}
