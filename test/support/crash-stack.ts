import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/gateway/index.js';
import { ON_POSTGRES, TEST_DATABASE_URL } from './gateway-server.js';
import { freePort } from './ports.js';

/**
 * Test-only: the gateway and the Alipay+ sandbox as two real child processes of the `zhifu` CLI
 * (`zhifu sandbox`, `zhifu start` with `ZHIFU_ALIPAYPLUS_TEST_*` pointed at that sandbox), over a
 * file SQLite database in a temp data dir or a fresh PostgreSQL schema of
 * ZHIFU_TEST_DATABASE_URL. The gateway can be killed with SIGKILL and started again on the same
 * database and port; the sandbox keeps running, as the real network would. Loopback only.
 */

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
/** The Client-Id the sandbox gives this gateway (an Alipay+ client id is 16 digits). */
const CLIENT_ID = '2026000000000077';
const START_TIMEOUT_MS = 30_000;

export interface CrashStack {
  gatewayUrl: string;
  sandboxUrl: string;
  secretKey: string;
  /** The test's own connection to the gateway's database (read-only use: invariant checks). */
  database: Database;
  /** The sandbox's SQLite file (read to enumerate its payments; states come from its control API). */
  sandboxDatabasePath: string;
  /** Date.now() when the current gateway process answered /healthz; null while it is down. */
  upSince(): number | null;
  /** kill -9 of the gateway process; resolves once it has exited. */
  killGateway(): Promise<void>;
  /** Starts the gateway again on the same database and port; resolves when /healthz answers. */
  startGateway(): Promise<void>;
  /** Last lines the gateway processes wrote (for failure messages). */
  gatewayLogTail(lines?: number): string;
  stop(): Promise<void>;
}

export async function startCrashStack(): Promise<CrashStack> {
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-crash-'));
  const dataDir = path.join(dir, 'data');
  const sandboxDatabasePath = path.join(dataDir, 'sandbox.db');
  const gatewayLog = path.join(dir, 'gateway.log');
  const { databaseUrl, cleanupDatabase, searchPath } = await freshDatabaseUrl(dir);

  // The sandbox generates both key pairs under <data dir>/keys on its first start.
  const sandbox = spawn(process.execPath, [CLI, 'sandbox', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--client-id', CLIENT_ID], {
    env: { ...baseEnv(), ZHIFU_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sandboxUrl = await readListeningUrl(sandbox, /Alipay\+ sandbox listening on (http:\/\/\S+)/);

  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const secretKey = `sk_test_${randomBytes(18).toString('hex')}`;
  const gatewayEnv: NodeJS.ProcessEnv = {
    ...baseEnv(),
    ZHIFU_PORT: String(port),
    ZHIFU_HOST: '127.0.0.1',
    ZHIFU_PUBLIC_URL: gatewayUrl,
    ZHIFU_DATA_DIR: path.join(dir, 'gateway-data'),
    ZHIFU_DATABASE_URL: databaseUrl,
    ZHIFU_TEST_SECRET_KEY: secretKey,
    ZHIFU_RATE_LIMIT: '0',
    ZHIFU_LOG_LEVEL: 'warn',
    ZHIFU_ALIPAYPLUS_TEST_BASE_URL: sandboxUrl,
    ZHIFU_ALIPAYPLUS_TEST_CLIENT_ID: CLIENT_ID,
    ZHIFU_ALIPAYPLUS_TEST_PRIVATE_KEY_FILE: path.join(dataDir, 'keys', 'gateway-private.pem'),
    ZHIFU_ALIPAYPLUS_TEST_PUBLIC_KEY_FILE: path.join(dataDir, 'keys', 'alipayplus-sandbox-public.pem'),
  };

  let gateway: ChildProcess | null = null;
  let up: number | null = null;
  const startGateway = async () => {
    if (gateway !== null) throw new Error('the gateway is already running');
    // The log goes to a file, not a pipe: a child never blocks on a full pipe, and a killed one leaves its last lines.
    const fd = openSync(gatewayLog, 'a');
    const child = spawn(process.execPath, [CLI, 'start'], { env: gatewayEnv, stdio: ['ignore', fd, fd] });
    closeSync(fd);
    gateway = child;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        gateway = null;
        throw new Error(`the gateway exited while starting (${child.exitCode ?? child.signalCode}):\n${tail(gatewayLog, 30)}`);
      }
      try {
        const response = await fetch(`${gatewayUrl}/healthz`, { signal: AbortSignal.timeout(1_000) });
        if (response.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the gateway did not answer /healthz within ${START_TIMEOUT_MS} ms:\n${tail(gatewayLog, 30)}`);
      await sleep(50);
    }
    up = Date.now();
  };
  const killGateway = async () => {
    const child = gateway;
    if (child === null) return;
    up = null;
    gateway = null;
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the gateway had already exited (${child.exitCode ?? child.signalCode}):\n${tail(gatewayLog, 30)}`);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  };

  try {
    await startGateway();
  } catch (error) {
    sandbox.kill('SIGKILL');
    await cleanupDatabase();
    throw error;
  }
  const database = openDatabase(databaseUrl.startsWith('sqlite:') ? databaseUrl : TEST_DATABASE_URL, searchPath === null ? {} : { searchPath, poolMax: 4 });

  return {
    gatewayUrl,
    sandboxUrl,
    secretKey,
    database,
    sandboxDatabasePath,
    upSince: () => up,
    killGateway,
    startGateway,
    gatewayLogTail: (lines = 40) => tail(gatewayLog, lines),
    async stop() {
      await killGateway().catch(() => undefined);
      const sandboxExited = new Promise<void>((resolve) => (sandbox.exitCode !== null ? resolve() : sandbox.once('exit', () => resolve())));
      sandbox.kill('SIGTERM');
      await sandboxExited;
      await database.close();
      await cleanupDatabase();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * SQLite: a file in the temp dir. PostgreSQL: a fresh schema, selected for the gateway process by
 * libpq's `options=-c search_path=<schema>` connection parameter in ZHIFU_DATABASE_URL (node-postgres
 * passes URL query parameters through), so the CLI needs no extra setting.
 */
async function freshDatabaseUrl(dir: string): Promise<{ databaseUrl: string; searchPath: string | null; cleanupDatabase: () => Promise<void> }> {
  if (!ON_POSTGRES) return { databaseUrl: `sqlite:${path.join(dir, 'zhifu.db')}`, searchPath: null, cleanupDatabase: async () => undefined };
  const schema = `crash_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  await admin.query(`create schema ${schema}`);
  await admin.end();
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    databaseUrl: url.toString(),
    searchPath: schema,
    cleanupDatabase: async () => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(`drop schema ${schema} cascade`);
      await client.end();
    },
  };
}

/** The parent's environment without any ZHIFU_* setting that would change what the children do. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ZHIFU_')) env[name] = value;
  return env;
}

function readListeningUrl(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no "listening" line within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = pattern.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    // Keep draining both streams for the child's whole life, so it never blocks on a full pipe.
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code ?? signal}) before listening:\n${output}`));
    });
  });
}


function tail(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
