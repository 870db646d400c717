import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { WalGroupCommit } from '../gateway/store/durability.js';
import { createSandbox, SANDBOX_PORT_DEFAULT, type Sandbox } from '../sandbox/server.js';
import { ensureKeyPair } from './keyring.js';
import { serveGatewayParent, startedByGateway, type SandboxProcessOptions } from './sandbox-process.js';

/** The Client-Id the embedded sandbox gives the local gateway (an Alipay+ client id is 16 digits). */
export const SANDBOX_CLIENT_ID_DEFAULT = '2026000000000001';

/** The `zhifu sandbox` options; `zhifu start` forks the command with the same ones. */
export type SandboxCommandOptions = SandboxProcessOptions;

export function registerSandboxCommand(program: Command): void {
  program
    .command('sandbox')
    .description('run the Alipay+ sandbox alone: protocol API, cashier and wallet pages, notifier, control API')
    .option('--port <port>', 'port to listen on (ZHIFU_SANDBOX_PORT)', parsePort, envPort('ZHIFU_SANDBOX_PORT', SANDBOX_PORT_DEFAULT))
    .option('--host <host>', 'interface to listen on (ZHIFU_HOST)', process.env.ZHIFU_HOST ?? '127.0.0.1')
    .option('--data-dir <dir>', 'where keys and the sandbox database live (ZHIFU_DATA_DIR)', process.env.ZHIFU_DATA_DIR ?? './data')
    .option('--public-url <url>', 'base URL shoppers use to reach the sandbox (ZHIFU_SANDBOX_PUBLIC_URL); default http://<host>:<port>', process.env.ZHIFU_SANDBOX_PUBLIC_URL)
    .option('--database <file>', 'SQLite file of the sandbox state (default <data dir>/sandbox.db)')
    .option('--client-id <id>', 'Client-Id of the local gateway, whose public key is <data dir>/keys/gateway-public.pem', process.env.ZHIFU_ALIPAYPLUS_CLIENT_ID ?? SANDBOX_CLIENT_ID_DEFAULT)
    .option('--client <id=publicKeyFile>', 'accept another acquirer: its Client-Id and X.509 PEM public key file (repeatable)', collect, [])
    .action(async (options: SandboxCommandOptions) => {
      const sandbox = startSandboxFromOptions(options);
      // Started by `zhifu start`: the gateway prints the address; the child reports to it over IPC.
      const parent = startedByGateway() ? serveGatewayParent(sandbox) : null;
      const url = await sandbox.listen();
      onShutdown(() => sandbox.close());
      if (parent) return parent.listening(url);
      console.log(`Alipay+ sandbox listening on ${url}`);
      console.log(`  sandbox public key (give it to your Alipay+ client): ${join(resolve(options.dataDir), 'keys', 'alipayplus-sandbox-public.pem')}`);
    });
}

export function startSandboxFromOptions(options: SandboxCommandOptions): Sandbox {
  const sandboxKeys = ensureKeyPair(options.dataDir, 'alipayplus-sandbox');
  const gatewayKeys = ensureKeyPair(options.dataDir, 'gateway');
  const clients: Record<string, string> = { [options.clientId]: gatewayKeys.publicKey };
  for (const entry of options.client) {
    const [id, file] = entry.split('=', 2) as [string, string];
    clients[id] = readFileSync(file, 'utf8');
  }
  return createSandbox({
    databasePath: options.database ?? join(options.dataDir, 'sandbox.db'),
    privateKey: sandboxKeys.privateKey,
    clients,
    host: options.host,
    port: options.port,
    publicUrl: options.publicUrl,
    logger: { level: process.env.ZHIFU_LOG_LEVEL ?? 'info' },
    // The gateway's group commit, on the sandbox's own file: its commits share one fsync off the
    // event loop instead of one inside each COMMIT, and every answer and notification awaits it.
    groupCommit: (file, writtenSince) => new WalGroupCommit(file, writtenSince),
  });
}

export function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`${value} is not a port number (0-65535)`);
  return port;
}

export function envPort(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === '') return fallback;
  try {
    return parsePort(value);
  } catch {
    console.error(`${name}=${value} is not a port number (0-65535)`);
    process.exit(2);
  }
}

function collect(value: string, previous: string[]): string[] {
  if (!/^[^=]+=.+$/.test(value)) throw new InvalidArgumentError(`--client takes <clientId>=<publicKeyFile>, got ${value}`);
  return [...previous, value];
}

/** Closes cleanly on Ctrl-C / SIGTERM so in-flight notifications and the database are finished. */
export function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`${signal}: shutting down`);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}
