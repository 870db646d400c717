#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError } from '../gateway/index.js';
import { registerAdminCommands } from './admin-commands.js';
import { registerAttentionCommand } from './attention-command.js';
import { registerListenCommand } from './listen-command.js';
import { registerReportCommand } from './report-command.js';
import { registerSandboxCommand } from './sandbox-command.js';
import { registerStartCommand } from './start-command.js';
import { registerUsersCommand } from './users-command.js';

/** `npx zhifu …`: the operator's command line. */
const program = new Command('zhifu').description('Zhifu 支付 — self-hosted Alipay payment gateway with an embedded Alipay+ sandbox');
registerStartCommand(program);
registerSandboxCommand(program);
registerAdminCommands(program);
registerListenCommand(program);
registerReportCommand(program);
registerAttentionCommand(program);
registerUsersCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // A misconfiguration is the operator's to fix: say what, without a stack trace.
  if (error instanceof ConfigError || (error instanceof Error && /configuration|must be|needs a|could not register/.test(error.message))) {
    console.error(`zhifu: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
