import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import pg from 'pg';
import { createGatewayLogger, openDatabase, startGateway } from '../../src/gateway/index.js';
import type { Clock, Database, GatewayConfig, RunningGateway } from '../../src/gateway/index.js';
import type { WebhookWorkerOptions } from '../../src/gateway/webhooks/worker.js';
import { ON_POSTGRES, ScriptedConnector, TEST_DATABASE_URL, api } from './gateway-server.js';
import type { ApiResponse } from './gateway-server.js';

/**
 * Test-only support for webhooks: gateways that share one database (restarts, two processes),
 * with pinned keys so every instance knows them, and receivers that record what arrives.
 */
export interface SharedDatabase {
  /** Opens another connection (pool) to the same database, as a second process would. */
  open(): Database;
  /** How another OS process reaches it (see webhook-process.ts). */
  env: Record<string, string>;
  cleanup(): Promise<void>;
}

export async function sharedDatabase(): Promise<SharedDatabase> {
  if (ON_POSTGRES) {
    const schema = `wh_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
    const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
    await admin.query(`create schema ${schema}`);
    await admin.end();
    return {
      open: () => openDatabase(TEST_DATABASE_URL, { searchPath: schema, poolMax: 10 }),
      env: { WEBHOOK_PROCESS_DATABASE_URL: TEST_DATABASE_URL, WEBHOOK_PROCESS_SEARCH_PATH: schema },
      cleanup: async () => {
        const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
        await client.connect();
        await client.query(`drop schema ${schema} cascade`);
        await client.end();
      },
    };
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-webhooks-'));
  const url = `sqlite:${path.join(dir, 'zhifu.db')}`;
  return { open: () => openDatabase(url), env: { WEBHOOK_PROCESS_DATABASE_URL: url }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** The default account's pinned test keys: every gateway over one database authenticates with them. */
export const TEST_KEYS = { secretKey: 'sk_test_webhooksWebhooksWebhooks0001', publishableKey: 'pk_test_webhooksWebhooksWebhooks0001' };

export interface WebhookGateway {
  running: RunningGateway;
  url: string;
  database: Database;
  secretKey: string;
  logs: string[];
  stop(): Promise<void>;
}

/** A gateway process over the shared database; the webhook worker is driven by runOnce unless `autostart`. */
export async function startWebhookGateway(shared: SharedDatabase, options: { clock: Clock; webhooks?: WebhookWorkerOptions & { autostart?: boolean } }): Promise<WebhookGateway> {
  const logs: string[] = [];
  const sink = new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } });
  const database = shared.open();
  const config: GatewayConfig = {
    port: 0, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:0', dataDir: '/nonexistent', databaseUrl: TEST_DATABASE_URL || 'sqlite::memory:',
    testSecretKey: TEST_KEYS.secretKey, testPublishableKey: TEST_KEYS.publishableKey,
  };
  const running = await startGateway({
    config, connector: new ScriptedConnector(), clock: options.clock, logger: createGatewayLogger({ level: 'info' }, sink), database,
    webhooks: { autostart: false, random: () => 0.5, ...options.webhooks },
  });
  return {
    running, url: running.url, database, secretKey: TEST_KEYS.secretKey, logs,
    async stop() {
      await running.stop();
      await database.close();
    },
  };
}

export interface Received {
  body: string;
  headers: IncomingHttpHeaders;
  /** The answer the receiver gave. */
  status: number;
  eventId: string;
  eventType: string;
}

/** A merchant's webhook receiver on an ephemeral port; `answer` decides each response's status. */
export interface Receiver {
  url: string;
  received: Received[];
  answer: (request: { index: number; eventId: string }) => number;
  /** Events answered with 2xx, by id, with how many times. */
  acceptedCounts(): Map<string, number>;
  /** The most requests this receiver had open at once. */
  concurrentMax: number;
  /** Client ports seen: fewer than requests means connections were kept alive and reused. */
  clientPorts: Set<number>;
  close(): Promise<void>;
}

export async function startReceiver(answer: Receiver['answer'] = () => 200, options: { delayMs?: number } = {}): Promise<Receiver> {
  const receiver: Receiver = {
    url: '',
    received: [],
    answer,
    concurrentMax: 0,
    clientPorts: new Set(),
    acceptedCounts() {
      const counts = new Map<string, number>();
      for (const r of this.received) if (r.status >= 200 && r.status < 300) counts.set(r.eventId, (counts.get(r.eventId) ?? 0) + 1);
      return counts;
    },
    close: async () => { await new Promise((resolve) => server.close(resolve)); server.closeAllConnections(); },
  };
  let open = 0;
  const server: Server = createServer((req, res) => {
    open += 1;
    receiver.concurrentMax = Math.max(receiver.concurrentMax, open);
    receiver.clientPorts.add(req.socket.remotePort ?? 0);
    res.on('finish', () => { open -= 1; });
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      const event = JSON.parse(body) as { id: string; type: string };
      const status = receiver.answer({ index: receiver.received.length, eventId: event.id });
      receiver.received.push({ body, headers: req.headers, status, eventId: event.id, eventType: event.type });
      const reply = () => res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'ok' : `receiver says no (${status})`);
      if (options.delayMs) setTimeout(reply, options.delayMs);
      else reply();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/webhooks`;
  return receiver;
}

/** POST /v1/webhook_endpoints with the pinned test key; the body (with its secret). */
export async function createEndpoint(gateway: { url: string }, body: Record<string, unknown>, key = TEST_KEYS.secretKey): Promise<ApiResponse['body']> {
  const response = await api(gateway, 'POST', '/v1/webhook_endpoints', { key, json: body });
  if (response.status !== 200) throw new Error(`create endpoint: HTTP ${response.status} ${response.text}`);
  return response.body;
}

/** Creates a PaymentIntent (one `payment_intent.created` event); its id. */
export async function createIntent(gateway: { url: string }, key = TEST_KEYS.secretKey): Promise<string> {
  const response = await api(gateway, 'POST', '/v1/payment_intents', { key, json: { amount: 100, currency: 'cny' } });
  if (response.status !== 200) throw new Error(`create intent: HTTP ${response.status} ${response.text}`);
  return response.body.id as string;
}

/** The `payment_intent.created` event of a PaymentIntent, from GET /v1/events. */
export async function createdEventOf(gateway: { url: string }, paymentIntentId: string, key = TEST_KEYS.secretKey): Promise<ApiResponse['body']> {
  const list = await api(gateway, 'GET', '/v1/events?type=payment_intent.created&limit=100', { key });
  const event = (list.body.data as { data: { object: { id: string } } }[]).find((e) => e.data.object.id === paymentIntentId);
  if (event === undefined) throw new Error(`no payment_intent.created event for ${paymentIntentId}`);
  return event;
}

/** Parses `t=…,v1=…`. */
export function parseSignature(header: string | string[] | undefined): { t: number; v1: string } {
  const text = Array.isArray(header) ? header[0] ?? '' : header ?? '';
  const parts = Object.fromEntries(text.split(',').map((part) => part.split('=', 2) as [string, string]));
  return { t: Number(parts.t), v1: parts.v1 ?? '' };
}

/** Deletes every endpoint of the default test account, so the next test counts only its own deliveries. */
export async function deleteAllEndpoints(gateway: { url: string }): Promise<void> {
  const endpoints = await api(gateway, 'GET', '/v1/webhook_endpoints?limit=100', { key: TEST_KEYS.secretKey });
  for (const endpoint of endpoints.body.data as { id: string }[]) await api(gateway, 'DELETE', `/v1/webhook_endpoints/${endpoint.id}`, { key: TEST_KEYS.secretKey });
}

/**
 * Another gateway as a real OS process (webhook-process.ts) over the shared database, its webhook
 * worker polling on the system clock. Two SQLite connections in one Node process cannot share
 * the file's write lock fairly (better-sqlite3 waits for the lock synchronously, freezing the
 * holder too), so "two processes" has to mean two processes.
 */
export async function startGatewayProcess(shared: SharedDatabase): Promise<{ url: string; stop(): Promise<void> }> {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'webhook-process.js');
  const child: ChildProcess = spawn(process.execPath, [script], { env: { ...process.env, ...shared.env }, stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /^ready (\S+)$/m.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code} before it was ready`)));
  });
  return {
    url,
    stop: () => new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
