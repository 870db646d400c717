import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { systemClock } from './clock.js';
import type { Clock } from './clock.js';
import type { GatewayConfig } from './config.js';
import type { AlipayPlusGateway } from './connector/alipayplus/modes.js';
import type { PaymentConnector } from './connector/types.js';
import { ensureDefaultAccount } from './core/accounts.js';
import { pinAdmin } from './core/operators.js';
import type { ApiKeyPair } from './core/accounts.js';
import { buildGatewayApp } from './http/app.js';
import { createGatewayLogger } from './http/logging.js';
import { createIdGenerator } from './ids.js';
import { GatewayMetrics } from './metrics/registry.js';
import { openDatabase } from './store/database.js';
import type { Database, OpenDatabaseOptions } from './store/database.js';
import { migrate } from './store/migrations.js';
import type { AccountRow } from './store/schema.js';
import { GatewayWorker } from './workers/worker.js';
import type { GatewayWorkerOptions } from './workers/worker.js';
import { WebhookDeliveryWorker } from './webhooks/worker.js';
import { RequestLogWriter } from './workers/request_logs.js';
import type { RequestLogWriterOptions } from './workers/request_logs.js';
import { DEFAULT_REQUEST_LOG_RETENTION_DAYS } from './config.js';
import type { WebhookWorkerOptions } from './webhooks/worker.js';

export interface StartGatewayOptions {
  config: GatewayConfig;
  connector: PaymentConnector;
  /** The gateway's Alipay+ side: serves notifications and returns (and is usually the connector too). */
  alipayPlus?: AlipayPlusGateway;
  clock?: Clock;
  logger?: Logger;
  /** Use this database instead of opening `config.databaseUrl` (it is then not closed by stop). */
  database?: Database;
  /** Passed to openDatabase when the gateway opens its own database. */
  databaseOptions?: OpenDatabaseOptions;
  /** The attempt worker (runs only with `alipayPlus`); false: none in this process. */
  worker?: GatewayWorkerOptions | false;
  /** The webhook delivery worker; `autostart: false` leaves it to the caller (tests drive runOnce with a manual clock). */
  webhooks?: WebhookWorkerOptions & { autostart?: boolean };
  /** Tuning of the request log writer (retention comes from config.requestLogRetentionDays). */
  requestLogs?: Omit<RequestLogWriterOptions, 'retentionDays'>;
}

export interface RunningGateway {
  app: FastifyInstance;
  database: Database;
  /** `http://host:port` actually bound (port 0 resolves to the chosen port). */
  url: string;
  defaultAccount: AccountRow;
  /** Keys generated on this first start: print them once; null when they existed or were pinned. */
  generatedKeys: ApiKeyPair | null;
  /** The attempt worker, when this process runs one. */
  worker: GatewayWorker | null;
  /** Delivers webhooks from the database; every process runs one (they share the work by leases). */
  webhooks: WebhookDeliveryWorker;
  /** This gateway's Prometheus registry (served at `/metrics`). */
  metrics: GatewayMetrics;
  /** Writes request logs in batches; null when ZHIFU_REQUEST_LOG_RETENTION_DAYS=0 turned them off. */
  requestLogs: RequestLogWriter | null;
  /** Stops the worker (waiting for checks in flight), then the server, then the database it opened. */
  stop(): Promise<void>;
}

/** Opens and migrates the database, ensures the default account, and listens on config host:port. */
export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? createGatewayLogger();
  const ownsDatabase = options.database === undefined;
  const database = options.database ?? openDatabase(options.config.databaseUrl, options.databaseOptions);
  try {
    await migrate(database);
    const ids = createIdGenerator(clock);
    const { account, generatedKeys } = await ensureDefaultAccount(database, clock, ids, options.config);
    // Like the pinned keys: the environment's admin exists with the environment's password after every start.
    const admin = options.config.admin ? await pinAdmin({ database, clock, ids }, account.id, options.config.admin.email, options.config.admin.password) : null;
    if (admin && admin.change !== 'unchanged') logger.info({ operator: admin.operator.id, email: admin.operator.email, change: admin.change }, 'dashboard admin from ZHIFU_ADMIN_EMAIL');
    const { autostart = true, ...webhookOptions } = options.webhooks ?? {};
    // One registry per gateway: its HTTP layer, workers and Alipay+ connector count into it.
    const metrics = new GatewayMetrics();
    options.alipayPlus?.observeCalls((call) => metrics.alipayPlusCall(call));
    options.alipayPlus?.sendAfter(() => database.durable());
    const webhooks = new WebhookDeliveryWorker({ database, clock, ids, logger: logger.child({ component: 'webhooks' }), metrics }, webhookOptions);
    const retentionDays = options.config.requestLogRetentionDays ?? DEFAULT_REQUEST_LOG_RETENTION_DAYS;
    const requestLogs = retentionDays > 0
      ? new RequestLogWriter({ database, clock, logger: logger.child({ component: 'request_logs' }) }, { ...options.requestLogs, retentionDays })
      : null;
    const app = buildGatewayApp({
      config: options.config, database, clock, logger, connector: options.connector, ids, afterWrite: () => webhooks.poke(), metrics,
      ...(requestLogs ? { requestLog: requestLogs } : {}),
      ...(options.alipayPlus ? { alipayPlus: options.alipayPlus } : {}),
    });
    await app.listen({ port: options.config.port, host: options.config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : options.config.port;
    const worker = options.alipayPlus && options.worker !== false
      ? new GatewayWorker({ database, clock, ids, connector: options.connector, logger: logger.child({ component: 'worker' }), metrics }, options.alipayPlus, options.worker ?? {})
      : null;
    worker?.start();
    if (autostart) webhooks.start();
    if (requestLogs !== null) {
      requestLogs.start();
      // However the server goes (stop, or an embedding that just closes it), the timer goes with it.
      app.server.once('close', () => requestLogs.halt());
    }
    const stop = async () => {
      await worker?.stop();
      await webhooks.stop();
      await app.close();
      // After the server: every answered request has been captured; before the database closes.
      await requestLogs?.close();
      if (ownsDatabase) await database.close();
    };
    return { app, database, url: `http://${options.config.host}:${port}`, defaultAccount: account, generatedKeys, worker, webhooks, metrics, requestLogs, stop };
  } catch (error) {
    if (ownsDatabase) await database.close();
    throw error;
  }
}
