import { AsyncLocalStorage } from 'node:async_hooks';
import { generateKeyPairSync } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { Agent, request } from 'undici';
import { AlipayPlusGateway } from '../src/gateway/connector/alipayplus/modes.js';
import {
  createGatewayLogger,
  createIdGenerator,
  GatewayWorker,
  openDatabase,
  startGateway,
  type Clock,
  type Database,
  type GatewayConfig,
  type RunningGateway,
} from '../src/gateway/index.js';
import { createSandbox, type Sandbox } from '../src/sandbox/server.js';
import { WORKER_LEASE_MS } from '../src/gateway/workers/worker.js';
import { WorkerCallObserver } from './observer.js';
import type { Prng } from './prng.js';

/** The Client-Id the simulated gateway has at the simulated Alipay+. */
export const SIM_CLIENT_ID = '2026000000000777';
/** A fixed start, so a seed's timestamps (and the expiries they lead to) are the same every run. */
export const SIM_START_MS = Date.UTC(2026, 10, 26, 4, 0, 0);

/** The one clock of both sides: nothing in the simulation moves time but the simulation itself. */
export class SimClock implements Clock {
  constructor(public ms = SIM_START_MS) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

export interface SimStackOptions {
  /** `postgres://…`: a fresh schema of that database; absent: SQLite in a temp dir. */
  databaseUrl?: string;
  /** The connector's Alipay+ client timeout, real milliseconds (timeout faults wait longer). */
  clientTimeoutMs: number;
  /** Worker instances sharing the database (leases must keep them apart). */
  workers: number;
}

/** One life of the gateway process: its database handle, server and workers. */
interface Generation {
  n: number;
  database: Database;
  running: RunningGateway;
  workers: GatewayWorker[];
  dead: boolean;
}

/**
 * The gateway and the Alipay+ sandbox in one process on one injected clock, talking signed HTTP
 * over loopback as in production; the gateway on a file database it can "crash" and reopen.
 */
export class SimStack {
  readonly clock = new SimClock();
  readonly observer = new WorkerCallObserver(this.clock, WORKER_LEASE_MS);
  readonly dir = mkdtempSync(path.join(tmpdir(), 'zhifu-sim-'));
  readonly logFile = path.join(this.dir, 'gateway.log');
  sandbox!: Sandbox;
  sandboxUrl = '';
  alipayPlus!: AlipayPlusGateway;
  secretKey = '';
  publishableKey = '';
  accountId = '';
  port = 0;
  /**
   * Which simulated operation the running code belongs to: entered by the simulation around each
   * operation, carried to the gateway's handler by the `x-sim-op` header, and inherited by every
   * promise after it, so the crash hook knows whose commit it is.
   */
  readonly context = new AsyncLocalStorage<{ op: string; rng?: Prng }>();
  /**
   * Operations waiting on a sandbox control call that makes the sandbox call the gateway (a
   * dispute raised or judged): the gateway's handler of that inbound dispute call counts as
   * theirs, so a crash can be aimed at its commits too.
   */
  private readonly networkOps: string[] = [];
  /** Commits counted by the crash hook since the start (all generations). */
  commits = 0;
  crashes = 0;
  private generation: Generation | null = null;
  private crash: { op: string; atCommit: number; seen: number; onCrash: () => void } | null = null;
  private schema: string | null = null;
  private logStream: WriteStream | null = null;
  /** The merchant's HTTP client; replaced on restart (a crash leaves its pooled sockets dead). */
  private agent = new Agent({ keepAliveTimeout: 10_000 });

  constructor(private readonly options: SimStackOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get database(): Database {
    return this.current().database;
  }

  get workers(): GatewayWorker[] {
    return this.current().workers;
  }

  get running(): RunningGateway {
    return this.current().running;
  }

  get databaseKind(): 'sqlite' | 'postgres' {
    return this.options.databaseUrl ? 'postgres' : 'sqlite';
  }

  private current(): Generation {
    if (this.generation === null || this.generation.dead) throw new Error('the gateway is down');
    return this.generation;
  }

  async start(): Promise<void> {
    const gatewayKeys = rsaPair();
    const alipayKeys = rsaPair();
    this.logStream = createWriteStream(this.logFile);
    this.sandbox = createSandbox({
      databasePath: path.join(this.dir, 'sandbox.db'),
      privateKey: alipayKeys.privateKey,
      clients: { [SIM_CLIENT_ID]: gatewayKeys.publicKey },
      port: 0,
      clock: this.clock,
      // The simulation sends notifications in its own steps, on its clock.
      notifier: { autoStart: false, sendTimeoutMs: this.options.clientTimeoutMs * 2, outOfOrderHoldMsMax: 500 },
    });
    this.sandboxUrl = await this.sandbox.listen();
    this.alipayPlus = new AlipayPlusGateway(
      { test: { baseUrl: this.sandboxUrl, clientId: SIM_CLIENT_ID, privateKey: gatewayKeys.privateKey, alipayPublicKey: alipayKeys.publicKey, timeoutMs: this.options.clientTimeoutMs } },
      () => this.url,
      { resendBackoffMs: 5 },
    );
    if (this.options.databaseUrl) {
      this.schema = `sim_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
      await pgAdmin(this.options.databaseUrl, `create schema ${this.schema}`);
    }
    const first = await this.open(0);
    const keys = first.running.generatedKeys;
    if (keys === null) throw new Error('a fresh database must generate the default keys');
    this.secretKey = keys.secretKey;
    this.publishableKey = keys.publishableKey;
    this.accountId = first.running.defaultAccount.id;
  }

  private openDatabase(): Database {
    if (this.options.databaseUrl) return openDatabase(this.options.databaseUrl, { searchPath: this.schema as string, poolMax: 10 });
    return openDatabase(`sqlite:${path.join(this.dir, 'zhifu.db')}`);
  }

  /** Starts a gateway process (generation n) on the same port and database file/schema. */
  private async open(port: number): Promise<Generation> {
    const n = (this.generation?.n ?? -1) + 1;
    const database = this.openDatabase();
    const generation: Generation = { n, database, running: undefined as unknown as RunningGateway, workers: [], dead: false };
    database.afterCommit = () => this.afterCommit(generation);
    const logger = createGatewayLogger({ level: 'info' }, this.logStream as WriteStream);
    const config: GatewayConfig = {
      port, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:0', dataDir: this.dir, databaseUrl: this.options.databaseUrl ?? 'sqlite:unused',
      testSecretKey: null, testPublishableKey: null, rateLimitPerSecond: null,
    };
    generation.running = await startGateway({
      config, connector: this.alipayPlus, alipayPlus: this.alipayPlus, clock: this.clock, logger, database,
      worker: false, webhooks: { autostart: false },
    });
    this.port = Number(new URL(generation.running.url).port);
    // Runs before Fastify's own listener, in the same synchronous emit, so the handler inherits it.
    generation.running.app.server.prependListener('request', (request: import('node:http').IncomingMessage) => {
      const op = request.headers['x-sim-op'];
      const inbound = typeof op !== 'string' && (request.url ?? '').includes('/disputes/') ? this.networkOps.at(-1) : undefined;
      this.context.enterWith({ op: typeof op === 'string' ? op : inbound ?? 'other' });
    });
    const ids = createIdGenerator(this.clock);
    for (let w = 1; w <= this.options.workers; w++) {
      const name = `g${n}-w${w}`;
      const observed = this.observer.wrap(this.alipayPlus, name);
      generation.workers.push(new GatewayWorker(
        { database, clock: this.clock, ids, connector: observed, logger: logger.child({ component: 'worker', worker: name }) },
        observed,
        // Two checks at a time, so a batch outlasts the first checks' time and leases are tested.
        { autoStart: false, owner: name, concurrencyMax: 2 },
      ));
    }
    this.generation = generation;
    return generation;
  }

  /**
   * The crash hook (store/database.ts `afterCommit`): once the chosen commit is reached the
   * process is dead, and every later transaction of that generation stops right after its
   * commit, as if the process had been killed there.
   */
  private afterCommit(generation: Generation): Promise<void> {
    if (generation.dead) return new Promise<void>(() => {});
    this.commits += 1;
    const crash = this.crash;
    if (crash !== null && this.context.getStore()?.op === crash.op) {
      crash.seen += 1;
      if (crash.seen >= crash.atCommit) {
        this.crash = null;
        this.kill(generation);
        crash.onCrash();
        return new Promise<void>(() => {});
      }
    }
    return Promise.resolve();
  }

  /**
   * Arms a crash right after the `atCommit`-th commit made for operation `op` (its HTTP request,
   * or the worker pass run in its context); `onCrash` runs when it happens.
   */
  armCrash(op: string, atCommit: number, onCrash: () => void): void {
    this.crash = { op, atCommit, seen: 0, onCrash };
  }

  disarmCrash(): void {
    this.crash = null;
  }

  /** Whether the current generation has been killed (and not restarted yet). */
  get down(): boolean {
    return this.generation === null || this.generation.dead;
  }

  /**
   * kill -9, as far as one process can do it to a part of itself: no more commits (the hook
   * parks them), every client connection cut, the listening socket closed. The database handle
   * is closed by `restart`, after the commits already under way have finished.
   */
  private kill(generation: Generation): void {
    if (generation.dead) return;
    generation.dead = true;
    this.crashes += 1;
    const server = generation.running.app.server;
    server.close();
    server.closeAllConnections();
    this.observer.forgetWorkers(`g${generation.n}-`);
  }

  /** Crashes now (between transactions) if the armed crash did not happen yet. */
  crashNow(): void {
    this.disarmCrash();
    if (this.generation !== null) this.kill(this.generation);
  }

  /**
   * Closes the dead generation's database (abandoned promises can no longer write), reopens it
   * and starts a new gateway and workers on the same port.
   */
  async restart(): Promise<void> {
    const dead = this.generation;
    if (dead === null || !dead.dead) throw new Error('restart without a crash');
    await withTimeout(dead.database.close(), 10_000, 'closing the crashed database');
    const agent = this.agent;
    this.agent = new Agent({ keepAliveTimeout: 10_000 });
    await agent.destroy().catch(() => undefined);
    await this.open(this.port);
  }

  /** Runs a sandbox control call whose inbound dispute calls to the gateway belong to the running operation. */
  async networkCall<T>(run: () => Promise<T>): Promise<T> {
    const op = this.context.getStore()?.op;
    if (op === undefined) return run();
    this.networkOps.push(op);
    try {
      return await run();
    } finally {
      const at = this.networkOps.lastIndexOf(op);
      if (at >= 0) this.networkOps.splice(at, 1);
    }
  }

  /** One HTTP call to the gateway (real time limit `timeoutMs`). */
  async request(method: string, pathAndQuery: string, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<{ status: number; text: string; location: string | null }> {
    const response = await request(this.url + pathAndQuery, {
      method: method as 'GET',
      headers,
      ...(body === undefined ? {} : { body }),
      dispatcher: this.agent,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await response.body.text();
    const location = response.headers.location;
    return { status: response.statusCode, text, location: typeof location === 'string' ? location : null };
  }

  async stop(keepFiles: boolean): Promise<void> {
    const generation = this.generation;
    if (generation !== null && !generation.dead) {
      generation.dead = true;
      const server = generation.running.app.server;
      server.close();
      server.closeAllConnections();
      await withTimeout(generation.database.close(), 10_000, 'closing the database').catch(() => undefined);
    } else if (generation !== null) {
      await withTimeout(generation.database.close(), 10_000, 'closing the database').catch(() => undefined);
    }
    await this.agent.destroy().catch(() => undefined);
    await this.alipayPlus?.close();
    await this.sandbox?.close();
    await new Promise<void>((resolve) => (this.logStream ? this.logStream.end(resolve) : resolve()));
    if (this.schema !== null && this.options.databaseUrl) await pgAdmin(this.options.databaseUrl, `drop schema ${this.schema} cascade`).catch(() => undefined);
    if (!keepFiles) rmSync(this.dir, { recursive: true, force: true });
  }
}

function rsaPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
}

async function pgAdmin(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_resolve, reject) => {
      // Unref'd: a pass abandoned by a crash never settles, and must not keep the process alive.
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms ${what}`)), ms);
      timer.unref();
    }),
  ]);
}
