import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import pg from 'pg';
import {
  createAccount,
  createApiKeys,
  createGatewayLogger,
  createIdGenerator,
  openDatabase,
  startGateway,
} from '../../src/gateway/index.js';
import type { AlipayPlusGateway } from '../../src/gateway/connector/alipayplus/modes.js';
import type { GatewayWorkerOptions } from '../../src/gateway/index.js';
import type { Clock, ConnectorCancelOutcome, ConnectorPayOutcome, ConnectorPayRequest, ConnectorCancelRequest, Database, GatewayConfig, PaymentConnector, RunningGateway } from '../../src/gateway/index.js';

/**
 * Test-only support: a real gateway on an ephemeral port over a fresh database — a temp SQLite
 * file, or (ZHIFU_TEST_DATABASE_URL=postgres://…) a fresh schema of that database.
 */
export const TEST_DATABASE_URL = process.env.ZHIFU_TEST_DATABASE_URL ?? '';
export const ON_POSTGRES = TEST_DATABASE_URL.startsWith('postgres');

/**
 * A connector for tests only: it answers confirm with whatever the test scripted (by default a
 * fixed redirect), and records every call. The product has no such component.
 */
export class ScriptedConnector implements PaymentConnector {
  payCalls: ConnectorPayRequest[] = [];
  cancelCalls: ConnectorCancelRequest[] = [];
  nextPay: (request: ConnectorPayRequest) => Promise<ConnectorPayOutcome> = async (request) => ({
    kind: 'requires_action',
    redirectUrl: `https://wallet.test/cashier?codeValue=${request.paymentRequestId}`,
    nativeUrl: request.terminalType === 'WEB' ? null : `alipays://platformapi/startApp?code=${request.paymentRequestId}`,
    qrCode: request.terminalType === 'WEB' ? { data: `https://qr.test/${request.paymentRequestId}`, expiresAtMs: request.createdAtMs + 900_000 } : null,
    externalPaymentId: `ext_${request.paymentRequestId}`,
    expiresAtMs: request.createdAtMs + 900_000,
  });
  nextCancel: (request: ConnectorCancelRequest) => Promise<ConnectorCancelOutcome> = async () => ({ kind: 'canceled' });

  async confirm(request: ConnectorPayRequest): Promise<ConnectorPayOutcome> {
    this.payCalls.push(request);
    return this.nextPay(request);
  }

  async cancel(request: ConnectorCancelRequest): Promise<ConnectorCancelOutcome> {
    this.cancelCalls.push(request);
    return this.nextCancel(request);
  }
}

/** A clock tests move by hand (timestamps, created filters). */
export class ManualClock implements Clock {
  constructor(public ms = Date.UTC(2026, 10, 26, 12, 0, 0)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface TestGateway {
  running: RunningGateway;
  url: string;
  port: number;
  database: Database;
  connector: ScriptedConnector;
  clock: Clock;
  secretKey: string;
  publishableKey: string;
  accountId: string;
  /** Every log line the gateway wrote, as text. */
  logs: string[];
  /** Creates another account with test (and live) keys on the same database. */
  newAccount(): Promise<{ accountId: string; test: { secretKey: string; publishableKey: string }; live: { secretKey: string; publishableKey: string } }>;
  /**
   * A process restart: stops the server (and its worker), runs `whileDown`, then starts a new
   * gateway on the same database and port. `running` is the new one afterwards.
   */
  restart(whileDown?: () => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

/** A database of its own: a temporary SQLite file, or a fresh schema under ZHIFU_TEST_DATABASE_URL. */
export async function freshDatabase(poolMax = 20): Promise<{ database: Database; cleanup: () => Promise<void> }> {
  if (ON_POSTGRES) {
    const schema = `t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    const database = openDatabase(TEST_DATABASE_URL, { searchPath: schema, poolMax });
    return {
      database,
      cleanup: async () => {
        await database.close();
        const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await client.connect();
        await client.query(`drop schema ${schema} cascade`);
        await client.end();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-test-'));
  const database = openDatabase(`sqlite:${path.join(dir, 'zhifu.db')}`);
  return { database, cleanup: async () => { await database.close(); rmSync(dir, { recursive: true, force: true }); } };
}

export async function startTestGateway(
  options: { clock?: Clock; connector?: ScriptedConnector; alipayPlus?: AlipayPlusGateway; config?: Partial<GatewayConfig>; worker?: GatewayWorkerOptions | false } = {},
): Promise<TestGateway> {
  const clock = options.clock ?? { now: () => Date.now() };
  const connector = options.connector ?? new ScriptedConnector();
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  const logger = createGatewayLogger({ level: 'info' }, sink);
  const { database, cleanup } = await freshDatabase();
  const config: GatewayConfig = {
    port: 0, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:0', dataDir: '/nonexistent', databaseUrl: TEST_DATABASE_URL || 'sqlite::memory:',
    testSecretKey: null, testPublishableKey: null, ...options.config,
  };
  // With `alipayPlus` the gateway pays through the real connector (and serves notifications and returns).
  const start = (port: number) =>
    startGateway({
      config: { ...config, port }, connector: options.alipayPlus ?? connector, clock, logger, database,
      ...(options.alipayPlus ? { alipayPlus: options.alipayPlus } : {}),
      ...(options.worker === undefined ? {} : { worker: options.worker }),
    });
  let running = await start(config.port);
  const keys = running.generatedKeys;
  if (keys === null) throw new Error('a fresh database must generate the default keys');
  const ids = createIdGenerator(clock);
  const port = Number(new URL(running.url).port);
  return {
    get running() { return running; },
    url: running.url, port, database, connector, clock, logs,
    secretKey: keys.secretKey, publishableKey: keys.publishableKey, accountId: running.defaultAccount.id,
    async newAccount() {
      const account = await createAccount(database.db, clock, ids, { name: 'Other' });
      const test = await createApiKeys(database.db, clock, ids, account.id, false);
      const live = await createApiKeys(database.db, clock, ids, account.id, true);
      return { accountId: account.id, test, live };
    },
    async restart(whileDown) {
      await running.stop();
      await whileDown?.();
      running = await start(port);
    },
    async stop() {
      await running.stop();
      await cleanup();
    },
  };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  text: string;
}

/** One HTTP call: JSON by default, `form` sends x-www-form-urlencoded text as given. */
export async function api(
  gateway: Pick<TestGateway, 'url'>,
  method: string,
  pathAndQuery: string,
  options: { key?: string | null; json?: unknown; form?: string; headers?: Record<string, string>; basic?: boolean } = {},
): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = options.basic ? `Basic ${Buffer.from(`${options.key}:`).toString('base64')}` : `Bearer ${options.key}`;
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = options.form;
  }
  const response = await fetch(gateway.url + pathAndQuery, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** The seed's WEB request body (api.md §2), with the English keys. */
export function seedWebRequest(): Record<string, unknown> {
  return {
    amount: 20,
    currency: 'CNY',
    confirm: true,
    payment_method_options: { alipay: { client_ip: '192.168.0.1', terminal_type: 'WEB', os_type: 'IOS' } },
    payment_method_data: { type: 'alipay' },
    payment_method_types: ['alipay'],
    return_url: 'https://wooshpay.com',
  };
}

/** GET with a JSON body, which fetch() cannot send (WooshPay documents it for list GETs). */
export function getWithJsonBody(gateway: TestGateway, path: string, json: unknown): Promise<{ status: number; text: string; body: any }> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const payload = JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = httpRequest(gateway.url + path, {
      method: 'GET',
      headers: { authorization: `Bearer ${gateway.secretKey}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
