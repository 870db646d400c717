#!/usr/bin/env node
import { Command } from 'commander';
import { registerSandboxCommand } from './sandbox-command.js';

/** `npx zhifu …`: the operator's command line. */
const program = new Command('zhifu').description('Zhifu 支付 — self-hosted Alipay payment gateway with an embedded Alipay+ sandbox');
registerSandboxCommand(program);

await program.parseAsync(process.argv);
