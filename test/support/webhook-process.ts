import { Writable } from 'node:stream';
import { createGatewayLogger, openDatabase, startGateway, systemClock } from '../../src/gateway/index.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { ScriptedConnector } from './gateway-server.js';
import { TEST_KEYS } from './webhook-harness.js';

/**
 * Test-only: a second gateway process over a database another test process already migrated
 * (WEBHOOK_PROCESS_DATABASE_URL, WEBHOOK_PROCESS_SEARCH_PATH for a PostgreSQL schema). It prints
 * `ready <url>` and delivers webhooks until SIGTERM.
 */
const url = process.env.WEBHOOK_PROCESS_DATABASE_URL ?? '';
const searchPath = process.env.WEBHOOK_PROCESS_SEARCH_PATH;
const database = openDatabase(url, searchPath === undefined ? {} : { searchPath });
const config: GatewayConfig = {
  port: 0, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:0', dataDir: '/nonexistent', databaseUrl: url,
  testSecretKey: TEST_KEYS.secretKey, testPublishableKey: TEST_KEYS.publishableKey,
};
const quiet = new Writable({ write(_chunk, _enc, done) { done(); } });
const running = await startGateway({
  config, connector: new ScriptedConnector(), clock: systemClock, logger: createGatewayLogger({ level: 'info' }, quiet), database,
  webhooks: { pollIntervalMs: 5, endpointConcurrency: 4 },
});
process.stdout.write(`ready ${running.url}\n`);
process.once('SIGTERM', () => {
  void running.stop().then(() => database.close()).then(() => process.exit(0));
});
