import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import type { CompiledQuery, Kysely, KyselyPlugin, QueryId, Transaction } from 'kysely';
import { AlipayPlusGateway } from '../../src/gateway/connector/alipayplus/modes.js';
import { createAccount, createApiKeys, createGatewayLogger, createIdGenerator, migrate, startGateway } from '../../src/gateway/index.js';
import type { CoreDeps, Database, GatewayConfig, RunningGateway } from '../../src/gateway/index.js';
import type { ConnectorRefundOutcome, ConnectorRefundRequest } from '../../src/gateway/connector/types.js';
import type { Tables } from '../../src/gateway/store/schema.js';
import { createSandbox, type Sandbox } from '../../src/sandbox/server.js';
import { ManualClock, ScriptedConnector, TEST_DATABASE_URL, freshDatabase } from '../support/gateway-server.js';
import type { ApiResponse } from '../support/gateway-server.js';
import { E2E_CLIENT_ID } from '../support/e2e-harness.js';
import { fixtureKeys } from '../support/keys.js';

/**
 * Test-only support for crash tests of idempotent requests. A gateway "process" is a real
 * gateway (startGateway: Fastify, core, store) over a handle on a shared database; crashing it
 * kills that handle: the transaction that just committed stays committed, and every later query
 * of the process — its next transaction, its attempt to store a 5xx for the key, its heartbeat —
 * fails, exactly as if the process had died between two transactions. A restart is a new process
 * (new handle, new owner id, new worker) on the same database. Nothing of the product is replaced:
 * the handle is Kysely's own, with a plugin that refuses queries once dead.
 */

export class CrashedError extends Error {
  override name = 'CrashedError';
}

/** A database handle that can die: see the file comment. */
class ProcessHandle {
  dead = false;
  private commits = 0;
  private crashAfter: number | null = null;
  readonly database: Database;

  constructor(base: Database) {
    const refuseWhenDead: KyselyPlugin = {
      transformQuery: (args) => {
        if (this.dead) throw new CrashedError('the process crashed');
        return args.node;
      },
      transformResult: async (args) => args.result,
    };
    const db = base.db.withPlugin(refuseWhenDead);
    // A statement compiled once and run as text (store/precompiled.ts) passes no plugin's
    // transformQuery: its executeQuery is refused here instead, on the handle and in transactions.
    const refuseTextWhenDead = <E extends Kysely<Tables>>(target: E, overrides: Partial<Record<string, unknown>> = {}): E =>
      new Proxy(target, {
        get: (t, prop) => {
          if (typeof prop === 'string' && prop in overrides) return overrides[prop];
          if (prop === 'executeQuery') {
            return (query: CompiledQuery, queryId?: QueryId) => {
              if (this.dead) throw new CrashedError('the process crashed');
              return t.executeQuery(query, queryId);
            };
          }
          const value = Reflect.get(t, prop, t) as unknown;
          return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(t) : value;
        },
      });
    // inTransaction is `db.transaction().execute(work)`: count commits there, crash after the armed one.
    const transaction = () => ({
      execute: async <T>(work: (tx: Transaction<Tables>) => Promise<T>): Promise<T> => {
        if (this.dead) throw new CrashedError('the process crashed');
        const result = await db.transaction().execute((tx) => work(refuseTextWhenDead(tx)));
        this.commits += 1;
        if (this.crashAfter !== null && this.commits >= this.crashAfter) {
          this.crash();
          throw new CrashedError(`the process crashed after commit ${this.commits}`);
        }
        return result;
      },
    });
    const proxy = refuseTextWhenDead(db, { transaction });
    this.database = { kind: base.kind, db: proxy, durable: () => base.durable(), close: async () => {} };
  }

  /** The process dies right after its `n`-th commit from now. */
  crashAfterCommits(n: number): void {
    this.commits = 0;
    this.crashAfter = n;
  }

  crash(): void {
    this.dead = true;
  }
}

/** The scripted connector with refunds too (test-only; the product has no such component). */
export class RecoveryConnector extends ScriptedConnector {
  refundCalls: ConnectorRefundRequest[] = [];
  nextRefund: (request: ConnectorRefundRequest) => Promise<ConnectorRefundOutcome> = async (request) => ({
    kind: 'succeeded',
    externalRefundId: `ext_${request.refundRequestId}`,
    settlement: null,
  });

  async refund(request: ConnectorRefundRequest): Promise<ConnectorRefundOutcome> {
    this.refundCalls.push(request);
    return this.nextRefund(request);
  }
}

export interface CrashHarness {
  clock: ManualClock;
  connector: RecoveryConnector;
  /** The shared database, as a surviving observer sees it. */
  database: Database;
  url: string;
  secretKey: string;
  accountId: string;
  /** The running process. */
  process(): { handle: ProcessHandle; running: RunningGateway; deps: CoreDeps };
  /** POST with an Idempotency-Key and the default secret key. */
  post(pathname: string, key: string | null, json: unknown, apiKey?: string): Promise<ApiResponse>;
  get(pathname: string): Promise<ApiResponse>;
  /** Stops the (crashed) process and starts a new one on the same database. */
  restart(): Promise<void>;
  /** Another account with a test secret key (e.g. a prohibited business category). */
  newAccount(businessCategory?: string): Promise<{ accountId: string; secretKey: string }>;
  count(table: keyof Tables, where?: { column: string; value: string }): Promise<number>;
  eventTypes(objectId: string): Promise<string[]>;
  stop(): Promise<void>;
}

export interface CrashHarnessOptions {
  /** Pay through the real connector and sandbox (and run the attempt worker, loop off). */
  sandbox?: boolean;
}

export async function startCrashHarness(options: CrashHarnessOptions = {}): Promise<CrashHarness> {
  const clock = new ManualClock();
  const connector = new RecoveryConnector();
  const logs: string[] = [];
  const logger = createGatewayLogger({ level: 'info' }, new Writable({ write(chunk, _enc, done) { logs.push(String(chunk)); done(); } }));
  const { database, cleanup } = await freshDatabase(10);
  await migrate(database);
  let sandbox: Sandbox | null = null;
  let alipayPlus: AlipayPlusGateway | null = null;
  let sandboxDir: string | null = null;
  let gatewayUrl = '';
  if (options.sandbox) {
    const keys = fixtureKeys();
    sandboxDir = mkdtempSync(path.join(tmpdir(), 'zhifu-recovery-sandbox-'));
    sandbox = createSandbox({
      databasePath: path.join(sandboxDir, 'sandbox.db'),
      privateKey: keys.alipayPrivatePem,
      clients: { [E2E_CLIENT_ID]: keys.gatewayPublicPem },
      port: 0,
      clock,
      notifier: { pollIntervalMs: 50 },
    });
    const sandboxUrl = await sandbox.listen();
    alipayPlus = new AlipayPlusGateway(
      { test: { baseUrl: sandboxUrl, clientId: E2E_CLIENT_ID, privateKey: keys.gatewayPrivatePem, alipayPublicKey: keys.alipayPublicPem } },
      () => gatewayUrl,
      { resendBackoffMs: 10 },
    );
  }
  const config: GatewayConfig = {
    port: 0, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:0', dataDir: '/nonexistent', databaseUrl: TEST_DATABASE_URL || 'sqlite::memory:',
    testSecretKey: null, testPublishableKey: null,
  };
  const ids = createIdGenerator(clock);
  let secretKey = '';
  let port = 0;
  const start = async () => {
    const handle = new ProcessHandle(database);
    const running = await startGateway({
      config: { ...config, port }, connector: alipayPlus ?? connector, clock, logger, database: handle.database,
      ...(alipayPlus ? { alipayPlus, worker: { autoStart: false } } : { worker: false }),
      webhooks: { autostart: false },
    });
    if (running.generatedKeys !== null) secretKey = running.generatedKeys.secretKey;
    const deps: CoreDeps = { database: handle.database, clock, ids, connector: alipayPlus ?? connector, logger };
    return { handle, running, deps };
  };
  let current = await start();
  const url = current.running.url;
  port = Number(new URL(url).port);
  gatewayUrl = url;
  const accountId = current.running.defaultAccount.id;
  const harness: CrashHarness = {
    clock, connector, database, url, accountId,
    get secretKey() { return secretKey; },
    process: () => current,
    post: (pathname, key, json, apiKey) => call(url, 'POST', pathname, apiKey ?? secretKey, json, key === null ? {} : { 'Idempotency-Key': key }),
    get: (pathname) => call(url, 'GET', pathname, secretKey, undefined, {}),
    async restart() {
      await current.running.stop();
      current = await start();
    },
    async newAccount(businessCategory) {
      const account = await createAccount(database.db, clock, ids, { name: 'Other', ...(businessCategory === undefined ? {} : { businessCategory }) });
      const keys = await createApiKeys(database.db, clock, ids, account.id, false);
      return { accountId: account.id, secretKey: keys.secretKey };
    },
    async count(table, where) {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any table, one optional equality
      let query = (database.db as any).selectFrom(table).select((eb: any) => eb.fn.countAll().as('n'));
      if (where !== undefined) query = query.where(where.column, '=', where.value);
      return Number((await query.executeTakeFirstOrThrow()).n);
    },
    async eventTypes(objectId) {
      const rows = await database.db.selectFrom('events').select(['id', 'type', 'data']).orderBy('id').execute();
      return rows
        .filter((row) => {
          const object = (JSON.parse(row.data) as { object: { id: string; payment_intent?: string } }).object;
          return object.id === objectId || object.payment_intent === objectId;
        })
        .map((row) => row.type);
    },
    async stop() {
      await current.running.stop();
      await alipayPlus?.close();
      await sandbox?.close();
      if (sandboxDir !== null) rmSync(sandboxDir, { recursive: true, force: true });
      await cleanup();
    },
  };
  return harness;
}

/**
 * One HTTP call on a fresh connection: a pooled keep-alive socket to a process that was just
 * stopped would fail the next request, which is not what a client retrying after a crash sees.
 */
function call(base: string, method: string, pathname: string, apiKey: string, json: unknown, headers: Record<string, string>): Promise<ApiResponse> {
  const payload = json === undefined ? undefined : JSON.stringify(json);
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + pathname, {
      method,
      agent: false,
      headers: {
        ...headers,
        authorization: `Bearer ${apiKey}`,
        ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { text += chunk; });
      res.on('end', () => {
        let body: unknown = null;
        try {
          body = text === '' ? null : JSON.parse(text);
        } catch {
          body = null;
        }
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
        resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body, text });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}
