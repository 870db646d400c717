/**
 * The servers under test, run in a child process of the benchmark (so the load generator in the
 * parent and the servers each get their own event loop, heap and, on a 2-core machine, a core; and
 * the servers' CPU time and memory are theirs alone). A fresh process (and fresh databases) per
 * scenario run, so no run inherits another's background work (e.g. the attempt worker inquiring
 * the unpaid payments the create+confirm run left open):
 *
 * - role `baseline`: a bare Fastify app with one `POST /json` route, alone;
 * - role `gateway`: the real gateway (startGateway over a temp SQLite file, or a fresh schema of a
 *   PostgreSQL database, with its attempt and webhook workers as startGateway starts them), paying
 *   through the real Alipay+ connector over signed HTTP to a real Alipay+ sandbox (own SQLite
 *   file) with freshly generated RSA keys — the sandbox in its own child process, as `npm start`
 *   runs it (`spawnSandboxProcess`). The webhooks scenario's receiver is not here: it runs in the
 *   benchmark's process (bench/receiver.ts), as a merchant's server would run elsewhere.
 *
 * Protocol with the parent, over the IPC channel: the options are the JSON of
 * ZHIFU_BENCH_STACK_OPTIONS; this process sends `{ type: 'ready', ... }` (or `{ type: 'error' }`);
 * answers `{ type: 'stats' }` with the CPU time it and the sandbox process used so far, their peak
 * resident memory and the sandbox's request counts; on `{ type: 'stop' }` closes everything, sends
 * `{ type: 'stopped' }` and exits.
 */
import { peakRssMb, processCpuMs, threadCpuMs } from './usage.js';
import { openPostgresSchema } from './postgres.js';
import { randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify from 'fastify';
import pino from 'pino';
import { AlipayPlusGateway } from '../src/gateway/connector/alipayplus/modes.js';
import { createGatewayLogger, openDatabase, startGateway } from '../src/gateway/index.js';
import type { Database, GatewayConfig, RunningGateway } from '../src/gateway/index.js';
import { ensureKeyPair } from '../src/cli/keyring.js';
import { spawnSandboxProcess, type SandboxProcessHandle } from '../src/cli/sandbox-process.js';

export interface StackOptions {
  /** `baseline`: the bare Fastify app alone; `gateway`: the gateway and the sandbox. */
  role: 'baseline' | 'gateway';
  /** `sqlite` (a temp file) or a `postgres://…` URL (a fresh schema, dropped at the end). */
  database: string;
  /** Log level of the gateway and sandbox loggers; lines go to /dev/null (their cost is kept). */
  logLevel: string;
  keepData: boolean;
  /**
   * How the gateway's SQLite commits reach the disk: `group` (as shipped: one fsync of the WAL off
   * the event loop covers every commit made meanwhile, and nothing is answered before it) or, as a
   * diagnostic, `each` (synchronous=FULL: an fsync inside every commit, on the event loop).
   */
  sqliteCommit: 'group' | 'each';
  /** Diagnostic only: the webhook worker's poll interval (undefined: as shipped, WEBHOOK_POLL_INTERVAL_MS). */
  webhookPollIntervalMs?: number;
}

export interface StackReady {
  type: 'ready';
  /** Set for the `baseline` role; the gateway fields are set for the `gateway` role. */
  baselineUrl: string;
  gatewayUrl: string;
  sandboxUrl: string;
  secretKey: string;
  databaseKind: 'sqlite' | 'postgres' | 'none';
  dataDir: string;
  /** 4 KiB write + fsync in the data directory, ms: what one durable SQLite commit waits for at least. */
  fsyncMs: { p50: number; p99: number };
}

/** What the servers used so far, and the requests the sandbox received so far by path. */
export interface StackStats {
  type: 'stats';
  /** CPU ms of the server process, every thread (event loop, the thread pool's fsyncs, GC). */
  cpuMs: number;
  /** CPU ms of its event-loop thread alone (null off Linux): busy share = this ÷ wall time. */
  loopCpuMs: number | null;
  sandboxCpuMs: number | null;
  /** Peak resident set size (VmHWM) of the server process and of the sandbox process, MB. */
  rssPeakMb: number | null;
  sandboxRssPeakMb: number | null;
  sandboxCalls: Record<string, number>;
}

export type StackMessage = StackReady | StackStats | { type: 'error'; message: string } | { type: 'stopped' };

/** The Client-Id the gateway has at the sandbox (an Alipay+ client id is 16 digits). */
const CLIENT_ID = '2026000000000077';



/** Times `count` 4 KiB write + fsync pairs on a scratch file in `dir` (the SQLite files' disk). */
function probeFsync(dir: string, count = 100): { p50: number; p99: number } {
  const file = path.join(dir, 'fsync-probe.bin');
  const fd = openSync(file, 'w');
  const page = Buffer.alloc(4096, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < count; i += 1) {
      const t0 = performance.now();
      writeSync(fd, page, 0, page.length, (i % 16) * page.length);
      fsyncSync(fd);
      times.push(performance.now() - t0);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  times.sort((a, b) => a - b);
  return { p50: times[Math.floor(count / 2)] ?? Number.NaN, p99: times[Math.ceil(count * 0.99) - 1] ?? Number.NaN };
}

/**
 * With ZHIFU_BENCH_PROFILE_DIR set, the server's event loop is profiled from ready to stop and the
 * profile written there (open it in Chrome's DevTools). `node --cpu-prof` cannot do it: the parent
 * ends the process with a signal, which writes no profile.
 */
async function startProfile(): Promise<Session | null> {
  if (!process.env.ZHIFU_BENCH_PROFILE_DIR) return null;
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return session;
}

async function writeProfile(session: Session | null): Promise<void> {
  const dir = process.env.ZHIFU_BENCH_PROFILE_DIR;
  if (session === null || !dir) return;
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(path.join(dir, `${JSON.parse(process.env.ZHIFU_BENCH_STACK_OPTIONS ?? "{}").role ?? "server"}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  session.disconnect();
}

async function main(options: StackOptions): Promise<void> {
  const send = (message: StackMessage) => process.send?.(message);
  if (process.send === undefined) throw new Error('bench/stack.js runs as a child process of bench/run.js (with an IPC channel)');
  const cleanups: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'zhifu-bench-'));
    if (!options.keepData) cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const fsyncMs = probeFsync(dataDir);
    const devNull = () => pino.destination({ dest: '/dev/null', sync: true });

    let sandbox: SandboxProcessHandle | null = null;
    let profiler: Session | null = null;
    const answer = (ready: StackReady) => {
      void startProfile().then((session) => { profiler = session; });
      process.on('message', (message: { type?: string }) => {
        if (message.type === 'stats') {
          const cpuMs = processCpuMs();
          const loopCpuMs = threadCpuMs();
          void (sandbox ? sandbox.stats() : Promise.resolve(null)).then(
            (child) =>
              send({
                type: 'stats',
                cpuMs,
                loopCpuMs,
                sandboxCpuMs: child?.cpuMs ?? null,
                rssPeakMb: peakRssMb('self'),
                sandboxRssPeakMb: sandbox?.pid === undefined ? null : peakRssMb(sandbox.pid),
                sandboxCalls: child?.calls ?? {},
              }),
            (error: unknown) => send({ type: 'error', message: `sandbox stats: ${String(error)}` }),
          );
        }
        if (message.type !== 'stop') return;
        void writeProfile(profiler).then(stopAll).then(
          () => send({ type: 'stopped' }),
          (error: unknown) => send({ type: 'error', message: `stopping: ${String(error)}` }),
        ).finally(() => process.disconnect());
      });
      send(ready);
    };

    if (options.role === 'baseline') {
      // The baseline: bare Fastify, JSON body in, small JSON object out — alone in its thread.
      const baseline = Fastify({ logger: false });
      baseline.post('/json', async (request) => {
        const body = request.body as { amount?: unknown; currency?: unknown };
        return { object: 'echo', ok: true, amount: body.amount ?? null, currency: body.currency ?? null };
      });
      const baselineUrl = await baseline.listen({ host: '127.0.0.1', port: 0 });
      cleanups.push(() => baseline.close());
      answer({ type: 'ready', baselineUrl, gatewayUrl: '', sandboxUrl: '', secretKey: '', databaseKind: 'none', dataDir, fsyncMs });
      return;
    }

    // The sandbox in its own process, as `npm start` runs it, with real generated keys on both
    // sides (under the data dir, where the child reads them). Its log lines go to /dev/null.
    const gatewayKeys = ensureKeyPair(dataDir, 'gateway');
    const sandboxKeys = ensureKeyPair(dataDir, 'alipayplus-sandbox');
    const child = await spawnSandboxProcess(
      { port: 0, host: '127.0.0.1', dataDir, clientId: CLIENT_ID, client: [] },
      { stdio: 'ignore', env: { ...process.env, ZHIFU_LOG_LEVEL: options.logLevel } },
    );
    sandbox = child;
    const sandboxUrl = child.url();
    cleanups.push(() => child.close());

    // The gateway, paying through the real connector.
    let gatewayUrl = '';
    const alipayPlus = new AlipayPlusGateway(
      { test: { baseUrl: sandboxUrl, clientId: CLIENT_ID, privateKey: gatewayKeys.privateKey, alipayPublicKey: sandboxKeys.publicKey } },
      () => gatewayUrl,
    );
    cleanups.push(() => alipayPlus.close());
    const secretKey = `sk_test_bench${randomBytes(16).toString('hex')}`;
    const onPostgres = options.database.startsWith('postgres');
    let database: Database | undefined;
    if (onPostgres) {
      const fresh = await openPostgresSchema(options.database, `bench_${process.pid}_${randomBytes(4).toString('hex')}`, { poolMax: 20 });
      database = fresh.database;
      cleanups.push(fresh.cleanup);
    } else if (options.sqliteCommit !== 'group') {
      // Opened here (as startGateway would open it) only to choose the other commit mode.
      const own = openDatabase(`sqlite:${path.join(dataDir, 'zhifu.db')}`, { sqliteCommitSync: options.sqliteCommit });
      database = own;
      cleanups.push(() => own.close());
    }
    const config: GatewayConfig = {
      port: 0,
      host: '127.0.0.1',
      publicUrl: 'http://127.0.0.1:0',
      dataDir,
      databaseUrl: onPostgres ? options.database : `sqlite:${path.join(dataDir, 'zhifu.db')}`,
      testSecretKey: secretKey,
      testPublishableKey: null,
    };
    const logger = createGatewayLogger({ level: options.logLevel }, devNull());
    // The webhook worker starts as shipped (polling every WEBHOOK_POLL_INTERVAL_MS) unless the
    // diagnostic --webhook-poll-ms changes its interval.
    const running: RunningGateway = await startGateway({
      config,
      connector: alipayPlus,
      alipayPlus,
      logger,
      ...(database ? { database } : {}),
      ...(options.webhookPollIntervalMs === undefined ? {} : { webhooks: { pollIntervalMs: options.webhookPollIntervalMs } }),
    });
    gatewayUrl = running.url;
    // Closed before the connector and the sandbox (cleanups run in reverse).
    cleanups.push(() => running.stop());

    answer({
      type: 'ready',
      baselineUrl: '',
      gatewayUrl,
      sandboxUrl,
      secretKey,
      databaseKind: onPostgres ? 'postgres' : 'sqlite',
      dataDir,
      fsyncMs,
    });
  } catch (error) {
    await stopAll().catch(() => undefined);
    send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    process.disconnect();
  }
}

await main(JSON.parse(process.env.ZHIFU_BENCH_STACK_OPTIONS ?? '{}') as StackOptions);
