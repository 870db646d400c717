/**
 * How fast the webhook worker drains a backlog (issue 13: "drain ≥ 5,000/s"), worker alone, the
 * receiver local:
 *
 *   npm run build && node dist/bench/webhook-drain.js --events 20000
 *   node dist/bench/webhook-drain.js --events 20000 --database postgres://zhifu:zhifu@127.0.0.1:5432/zhifu_test
 *
 * Starts a real gateway (webhook worker NOT started) in this thread and the real receiver
 * (bench/receiver.ts) in a worker thread of its own, so the receiver never shares the gateway's
 * event loop. Registers one endpoint through the API (`POST /v1/webhook_endpoints`, every event
 * type, to the receiver), then writes `events` events through the core (`recordEvent`, 500 per
 * transaction, as a state change writes them: event, body, one delivery per endpoint). Then
 * starts the worker and times until every event arrived at the receiver with a valid signature
 * (`seconds`, `perSecond`), and waits until every delivery is recorded `delivered` in the
 * database. `cpuMsPerEvent` is the CPU of the gateway's thread from the worker's start until the
 * last delivery is recorded, over `events` (Linux /proc/thread-self, 10 ms resolution).
 * `missing`/`duplicates`/`badSignatures` must all be 0: each event arrived exactly once, signed.
 */
import { threadCpuMs } from './usage.js';
import { openPostgresSchema } from './postgres.js';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import pino from 'pino';
import { request } from 'undici';
import { AlipayPlusGateway } from '../src/gateway/connector/alipayplus/modes.js';
import { recordEvent } from '../src/gateway/core/events.js';
import { createGatewayLogger, createIdGenerator, inTransaction, startGateway, systemClock } from '../src/gateway/index.js';
import type { Database, GatewayConfig } from '../src/gateway/index.js';
import { nowMs, startWebhookReceiver } from './receiver.js';

export interface WebhookDrainOptions {
  events: number;
  /** `sqlite` (a temp file) or a `postgres://…` URL (a fresh schema, dropped at the end). */
  database: string;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
}

export interface WebhookDrainResult {
  events: number;
  /** From the worker's start to the last event's first signed arrival. */
  seconds: number;
  perSecond: number;
  /** Gateway-thread CPU ms per event, from the worker's start until every delivery is recorded. */
  cpuMsPerEvent: number | null;
  /** Until every delivery is recorded `delivered` (includes the last batches' commits). */
  recordedSeconds: number;
  missing: number;
  duplicates: number;
  badSignatures: number;
}

/** workerData of the receiver thread (this same file). */
const RECEIVER_ROLE = 'webhook-drain-receiver';
/** Events written per transaction while seeding the backlog. */
const SEED_BATCH = 500;
/** How long to wait for the drain before giving up. */
const DRAIN_TIMEOUT_MS = 300_000;

type ReceiverMessage =
  | { type: 'ready'; url: string }
  | { type: 'complete'; lastArrivalAt: number }
  | { type: 'stats'; arrivals: number; duplicates: number; badSignatures: number; badBodies: number; requests: number; problems: string[] };

/** The receiver thread: starts the receiver, reports when `expected` distinct events arrived, answers stats. */
async function receiverThread(): Promise<void> {
  const port = parentPort!;
  const receiver = await startWebhookReceiver();
  let watch: NodeJS.Timeout | null = null;
  port.on('message', (message: { type: string; secret?: string; expected?: number }) => {
    if (message.type === 'expect') {
      receiver.secret = message.secret!;
      const expected = message.expected!;
      watch = setInterval(() => {
        if (receiver.arrivals.size < expected) return;
        clearInterval(watch!);
        let last = 0;
        for (const arrival of receiver.arrivals.values()) last = Math.max(last, arrival.receivedAt);
        port.postMessage({ type: 'complete', lastArrivalAt: last } satisfies ReceiverMessage);
      }, 2);
    } else if (message.type === 'stats') {
      port.postMessage({
        type: 'stats', arrivals: receiver.arrivals.size, duplicates: receiver.duplicates(), badSignatures: receiver.badSignatures,
        badBodies: receiver.badBodies, requests: receiver.requests, problems: receiver.problems,
      } satisfies ReceiverMessage);
    } else if (message.type === 'stop') {
      if (watch !== null) clearInterval(watch);
      void receiver.close().then(() => port.close());
    }
  });
  port.postMessage({ type: 'ready', url: receiver.url } satisfies ReceiverMessage);
}

function nextMessage<T extends ReceiverMessage['type']>(worker: Worker, type: T, timeoutMs: number): Promise<Extract<ReceiverMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.off('message', onMessage);
      reject(new Error(`webhook-drain: no '${type}' from the receiver thread in ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: ReceiverMessage) => {
      if (message.type !== type) return;
      clearTimeout(timer);
      worker.off('message', onMessage);
      resolve(message as Extract<ReceiverMessage, { type: T }>);
    };
    worker.on('message', onMessage);
  });
}

/** A PaymentIntent snapshot of the size a real `payment_intent.created` carries (~1 KiB event). */
function paymentIntentObject(n: number): Record<string, unknown> {
  return {
    id: `pi_drain${String(n).padStart(12, '0')}`,
    object: 'payment_intent',
    amount: 1000 + (n % 9000),
    amount_capturable: 0,
    amount_received: 0,
    capture_method: 'automatic',
    client_secret: `pi_drain${String(n).padStart(12, '0')}_secret_${randomBytes(12).toString('hex')}`,
    confirmation_method: 'automatic',
    created: Math.floor(Date.now() / 1000),
    currency: 'cny',
    description: `Order #${n}`,
    last_payment_error: null,
    livemode: false,
    metadata: { order_id: `order_${n}`, channel: 'web' },
    next_action: null,
    payment_method: null,
    payment_method_types: ['alipay'],
    status: 'requires_payment_method',
  };
}

export async function webhookDrain(options: WebhookDrainOptions): Promise<WebhookDrainResult> {
  const log = options.log ?? (() => undefined);
  const cleanups: Array<() => Promise<void> | void> = [];
  const receiverThreadWorker = new Worker(fileURLToPath(import.meta.url), { workerData: { role: RECEIVER_ROLE } });
  cleanups.push(async () => {
    receiverThreadWorker.postMessage({ type: 'stop' });
    await new Promise((resolve) => receiverThreadWorker.once('exit', resolve));
  });
  try {
    const { url: receiverUrl } = await nextMessage(receiverThreadWorker, 'ready', 10_000);
    const dataDir = mkdtempSync(path.join(tmpdir(), 'zhifu-drain-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const onPostgres = options.database.startsWith('postgres');
    let database: Database | undefined;
    if (onPostgres) {
      const fresh = await openPostgresSchema(options.database, `drain_${process.pid}_${randomBytes(4).toString('hex')}`, { poolMax: 20 });
      database = fresh.database;
      cleanups.push(fresh.cleanup);
    }
    const secretKey = `sk_test_drain${randomBytes(16).toString('hex')}`;
    const config: GatewayConfig = {
      port: 0,
      host: '127.0.0.1',
      publicUrl: 'http://127.0.0.1:0',
      dataDir,
      databaseUrl: onPostgres ? options.database : `sqlite:${path.join(dataDir, 'zhifu.db')}`,
      testSecretKey: secretKey,
      testPublishableKey: null,
      requestLogRetentionDays: 0,
    };
    // No Alipay+ mode configured: nothing here pays; the connector is only required by the API.
    const connector = new AlipayPlusGateway({}, 'http://127.0.0.1:0');
    const logger = createGatewayLogger({ level: 'warn' }, pino.destination({ dest: '/dev/null', sync: true }));
    const gateway = await startGateway({ config, connector, logger, webhooks: { autostart: false }, ...(database ? { database } : {}) });
    cleanups.push(() => gateway.stop());

    // The endpoint, through the API, as a merchant registers it.
    const created = await request(`${gateway.url}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiverUrl, enabled_events: ['*'], description: 'drain bench receiver' }),
    });
    const endpoint = (await created.body.json()) as { id?: string; secret?: string };
    if (created.statusCode !== 200 || typeof endpoint.secret !== 'string') throw new Error(`webhook-drain: creating the endpoint answered ${created.statusCode}: ${JSON.stringify(endpoint)}`);
    receiverThreadWorker.postMessage({ type: 'expect', secret: endpoint.secret, expected: options.events });

    // The backlog: events written as state changes write them (event + delivery in one transaction).
    const seedStarted = performance.now();
    const ids = createIdGenerator(systemClock);
    const scope = { accountId: gateway.defaultAccount.id, livemode: false };
    for (let done = 0; done < options.events; done += SEED_BATCH) {
      const count = Math.min(SEED_BATCH, options.events - done);
      await inTransaction(gateway.database, async (tx) => {
        for (let i = 0; i < count; i++) {
          await recordEvent(tx, { clock: systemClock, ids }, { scope, requestId: null, idempotency: null }, 'payment_intent.created', paymentIntentObject(done + i));
        }
      });
    }
    await gateway.database.durable();
    log(`webhook-drain: ${options.events} events written in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s (${gateway.database.kind})`);

    // The drain: the worker as shipped, started now.
    const complete = nextMessage(receiverThreadWorker, 'complete', DRAIN_TIMEOUT_MS);
    const cpuBefore = threadCpuMs();
    const startedAt = nowMs();
    gateway.webhooks.start();
    const { lastArrivalAt } = await complete;
    // Then until every outcome is recorded (the last batches commit after the last POST).
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    for (;;) {
      const row = await gateway.database.db
        .selectFrom('webhook_deliveries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'delivered')
        .executeTakeFirstOrThrow();
      if (Number(row.n) >= options.events) break;
      if (Date.now() > deadline) throw new Error(`webhook-drain: only ${row.n} of ${options.events} deliveries recorded delivered`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const recordedAt = nowMs();
    const cpuAfter = threadCpuMs();
    // A moment for any duplicate in flight to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const stats = nextMessage(receiverThreadWorker, 'stats', 10_000);
    receiverThreadWorker.postMessage({ type: 'stats' });
    const received = await stats;
    for (const problem of received.problems) log(`webhook-drain: receiver refused: ${problem}`);
    const seconds = (lastArrivalAt - startedAt) / 1000;
    return {
      events: options.events,
      seconds: Number(seconds.toFixed(3)),
      perSecond: Math.round(options.events / seconds),
      cpuMsPerEvent: cpuBefore === null || cpuAfter === null ? null : Number(((cpuAfter - cpuBefore) / options.events).toFixed(4)),
      recordedSeconds: Number(((recordedAt - startedAt) / 1000).toFixed(3)),
      missing: options.events - received.arrivals,
      duplicates: received.duplicates,
      badSignatures: received.badSignatures,
    };
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup();
  }
}

function parseArgs(argv: string[]): WebhookDrainOptions {
  const options: WebhookDrainOptions = { events: 20_000, database: 'sqlite' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--help') {
      process.stdout.write('usage: node dist/bench/webhook-drain.js [--events 20000] [--database sqlite|postgres://…]\n');
      process.exit(0);
    } else if (arg === '--events' && value !== undefined) {
      options.events = Number(value);
      i++;
    } else if (arg === '--database' && value !== undefined) {
      options.database = value;
      i++;
    } else {
      throw new Error(`webhook-drain: unknown argument ${arg ?? ''}`);
    }
  }
  if (!Number.isInteger(options.events) || options.events < 1) throw new Error('webhook-drain: --events must be a positive integer');
  return options;
}

if ((workerData as { role?: string } | null)?.role === RECEIVER_ROLE) {
  await receiverThread();
} else if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const options = parseArgs(process.argv.slice(2));
  const result = await webhookDrain({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}
