import cluster from 'node:cluster';
import type { Command } from 'commander';
import { AlipayPlusGateway, type AlipayPlusEndpoint } from '../gateway/connector/alipayplus/modes.js';
import { ConfigError, databaseKind, loadConfig, startGateway, type GatewayConfig } from '../gateway/index.js';
import { SANDBOX_PORT_DEFAULT } from '../sandbox/server.js';
import { endpointFromEnv } from './alipayplus-endpoints.js';
import { parseProcessCount, printsStartBanner, runClusterPrimary } from './cluster.js';
import { ensureKeyPair } from './keyring.js';
import { envPort, onShutdown, SANDBOX_CLIENT_ID_DEFAULT } from './sandbox-command.js';
import { spawnSandboxProcess, type SandboxHandle } from './sandbox-process.js';

export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description('run the gateway (ZHIFU_PORT, default 4242) with its database and, for test mode, the embedded Alipay+ sandbox (ZHIFU_SANDBOX_PORT, default 4343)')
    .option('--processes <n>', 'gateway processes sharing the port, the database and its workers (ZHIFU_PROCESSES; default 1; more than 1 needs PostgreSQL)')
    .action(async (options: { processes?: string }) => {
      const config = loadConfig();
      if (cluster.isPrimary) {
        const processes = parseProcessCount(options.processes, process.env.ZHIFU_PROCESSES);
        if (processes > 1) return startCluster(config, processes);
      }
      const { test, sandbox } = await testModeEndpoint(config);
      const live = endpointFromEnv(process.env, 'ZHIFU_ALIPAYPLUS_');
      const alipayPlus = new AlipayPlusGateway({ test, live }, config.publicUrl, config.alipayPlusTimeoutMs === undefined ? {} : { timeoutMs: config.alipayPlusTimeoutMs });
      const running = await startGateway({ config, connector: alipayPlus, alipayPlus });
      if (!printsStartBanner()) {
        onShutdown(async () => {
          await running.stop();
          await alipayPlus.close();
        });
        return;
      }
      console.log(`Zhifu gateway listening on ${running.url} (public URL ${config.publicUrl}, database ${config.databaseUrl.split('://')[0]})`);
      console.log(sandbox ? `Alipay+ sandbox (test mode) on ${sandbox.url()} — wallet: ${sandbox.url()}/wallet` : `Alipay+ test mode: ${test.baseUrl}`);
      console.log(`Dashboard: ${config.publicUrl}/dashboard${config.admin ? ` (admin ${config.admin.email} from ZHIFU_ADMIN_EMAIL)` : ' (create an operator: zhifu users create --email E --role admin)'}`);
      console.log(live ? `Alipay+ live mode: ${live.baseUrl}` : 'Alipay+ live mode: not configured (ZHIFU_ALIPAYPLUS_*)');
      if (running.generatedKeys) {
        // Shown once, on the first start only: the gateway stores nothing but their hashes.
        console.log('Default test account created. Its keys (shown only now; pin them with ZHIFU_TEST_SECRET_KEY / ZHIFU_TEST_PUBLISHABLE_KEY):');
        console.log(`  secret key:      ${running.generatedKeys.secretKey}`);
        console.log(`  publishable key: ${running.generatedKeys.publishableKey}`);
      }
      onShutdown(async () => {
        await running.stop();
        await alipayPlus.close();
        await sandbox?.close();
      });
    });
}

/**
 * `--processes N` (N > 1): the embedded sandbox, if test mode uses it, runs once, here in the
 * primary; the gateways reach it as the external test endpoint (ZHIFU_ALIPAYPLUS_TEST_*).
 */
async function startCluster(config: GatewayConfig, processes: number): Promise<never> {
  if (databaseKind(config.databaseUrl) === 'sqlite') {
    // SQLite takes one writer at a time: more processes would queue on its lock, not add throughput.
    throw new ConfigError(`--processes ${processes} (or ZHIFU_PROCESSES) needs PostgreSQL: set ZHIFU_DATABASE_URL=postgres://… — SQLite allows one writer at a time, so extra gateway processes would only wait on its lock`);
  }
  const { test, sandbox } = await testModeEndpoint(config);
  const env: Record<string, string> = sandbox === null ? {} : {
    ZHIFU_ALIPAYPLUS_TEST_BASE_URL: test.baseUrl,
    ZHIFU_ALIPAYPLUS_TEST_CLIENT_ID: test.clientId,
    ZHIFU_ALIPAYPLUS_TEST_PRIVATE_KEY_FILE: ensureKeyPair(config.dataDir, 'gateway').privateKeyPath,
    ZHIFU_ALIPAYPLUS_TEST_PUBLIC_KEY_FILE: ensureKeyPair(config.dataDir, 'alipayplus-sandbox').publicKeyPath,
  };
  if (sandbox !== null) console.log(`Alipay+ sandbox (test mode) on ${sandbox.url()} — wallet: ${sandbox.url()}/wallet, shared by the gateway processes`);
  return runClusterPrimary({ processes, env, afterStop: async () => await sandbox?.close() });
}

/**
 * Test mode talks to a real Alipay+ test endpoint when ZHIFU_ALIPAYPLUS_TEST_* is set, and
 * otherwise to the embedded sandbox, with key pairs generated on first start under the data dir.
 * The sandbox runs in its own child process (its own event loop; it exits with the gateway, even
 * one killed by SIGKILL); its log lines go to the gateway's stdout and stderr.
 */
export async function testModeEndpoint(config: GatewayConfig): Promise<{ test: AlipayPlusEndpoint; sandbox: SandboxHandle | null }> {
  const external = endpointFromEnv(process.env, 'ZHIFU_ALIPAYPLUS_TEST_');
  if (external) return { test: external, sandbox: null };
  const clientId = process.env.ZHIFU_SANDBOX_CLIENT_ID?.trim() || SANDBOX_CLIENT_ID_DEFAULT;
  // Generated here, before the child starts, so the two never race to create them.
  const gatewayKeys = ensureKeyPair(config.dataDir, 'gateway');
  const sandboxKeys = ensureKeyPair(config.dataDir, 'alipayplus-sandbox');
  const sandbox = await spawnSandboxProcess({
    port: envPort('ZHIFU_SANDBOX_PORT', SANDBOX_PORT_DEFAULT),
    host: config.host,
    dataDir: config.dataDir,
    ...(process.env.ZHIFU_SANDBOX_PUBLIC_URL ? { publicUrl: process.env.ZHIFU_SANDBOX_PUBLIC_URL } : {}),
    clientId,
    client: [],
  });
  return { test: { baseUrl: sandbox.url(), clientId, privateKey: gatewayKeys.privateKey, alipayPublicKey: sandboxKeys.publicKey }, sandbox };
}
