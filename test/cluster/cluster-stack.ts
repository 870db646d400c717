import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/gateway/index.js';
import { TEST_DATABASE_URL } from '../support/gateway-server.js';
import { freePort } from '../support/ports.js';

/**
 * Test-only: `zhifu start --processes 2` (the real CLI in cluster mode) on a fresh PostgreSQL
 * schema, talking to one shared `zhifu sandbox` process through a recording pass-through proxy,
 * so the test can count every Alipay+ request the two gateways together sent. Loopback only.
 */

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CLIENT_ID = '2026000000000078';
const START_TIMEOUT_MS = 60_000;

/** One Alipay+ request as the sandbox received it. */
export interface SandboxRequest {
  path: string;
  body: Record<string, unknown>;
  atMs: number;
}

export interface ClusterStack {
  gatewayUrl: string;
  sandboxUrl: string;
  secretKey: string;
  /** The test's own connection to the gateways' schema (reads only). */
  database: Database;
  /** Every request the gateways sent to the sandbox, in arrival order. */
  sandboxRequests: SandboxRequest[];
  output(): string;
  /** SIGTERM to the cluster's primary; resolves with its exit code. */
  stopGateways(): Promise<number | null>;
  stop(): Promise<void>;
}

export async function startClusterStack(options: { rateLimit: number }): Promise<ClusterStack> {
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-cluster-'));
  const dataDir = path.join(dir, 'sandbox-data');
  const schema = `cluster_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(`create schema ${schema}`);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('options', `-c search_path=${schema}`);

  const children: ChildProcess[] = [];
  let output = '';
  const collect = (child: ChildProcess) => {
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  };
  const sandbox = spawn(process.execPath, [CLI, 'sandbox', '--port', '0', '--host', '127.0.0.1', '--data-dir', dataDir, '--client-id', CLIENT_ID], {
    env: { ...baseEnv(), ZHIFU_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(sandbox);
  collect(sandbox);
  const sandboxUrl = await waitForLine(sandbox, () => output, /Alipay\+ sandbox listening on (http:\/\/\S+)/);

  const sandboxRequests: SandboxRequest[] = [];
  const proxy = await startRecordingProxy(new URL(sandboxUrl), sandboxRequests);
  const proxyAddress = proxy.address();
  const proxyUrl = `http://127.0.0.1:${typeof proxyAddress === 'object' && proxyAddress !== null ? proxyAddress.port : 0}`;

  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const secretKey = `sk_test_${randomBytes(18).toString('hex')}`;
  const gateways = spawn(process.execPath, [CLI, 'start', '--processes', '2'], {
    env: {
      ...baseEnv(),
      ZHIFU_PORT: String(port),
      ZHIFU_HOST: '127.0.0.1',
      ZHIFU_PUBLIC_URL: gatewayUrl,
      ZHIFU_DATA_DIR: path.join(dir, 'gateway-data'),
      ZHIFU_DATABASE_URL: url.toString(),
      ZHIFU_TEST_SECRET_KEY: secretKey,
      ZHIFU_RATE_LIMIT: String(options.rateLimit),
      ZHIFU_LOG_LEVEL: 'warn',
      ZHIFU_ALIPAYPLUS_TEST_BASE_URL: proxyUrl,
      ZHIFU_ALIPAYPLUS_TEST_CLIENT_ID: CLIENT_ID,
      ZHIFU_ALIPAYPLUS_TEST_PRIVATE_KEY_FILE: path.join(dataDir, 'keys', 'gateway-private.pem'),
      ZHIFU_ALIPAYPLUS_TEST_PUBLIC_KEY_FILE: path.join(dataDir, 'keys', 'alipayplus-sandbox-public.pem'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(gateways);
  collect(gateways);
  const cleanUp = async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await new Promise<void>((resolve) => proxy.close(() => resolve()));
    proxy.closeAllConnections();
    await adminQuery(`drop schema ${schema} cascade`);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForLine(gateways, () => output, /Zhifu cluster: 2 gateway processes listening on (http:\/\/\S+)/);
  } catch (error) {
    await cleanUp();
    throw error;
  }
  const database = openDatabase(TEST_DATABASE_URL, { searchPath: schema, poolMax: 2 });
  return {
    gatewayUrl,
    sandboxUrl,
    secretKey,
    database,
    sandboxRequests,
    output: () => output,
    stopGateways: async () => {
      if (gateways.exitCode !== null || gateways.signalCode !== null) return gateways.exitCode;
      const exited = new Promise<number | null>((resolve) => gateways.once('exit', (code) => resolve(code)));
      gateways.kill('SIGTERM');
      return exited;
    },
    async stop() {
      await database.close();
      await cleanUp();
    },
  };
}

/** Forwards every request to the sandbox unchanged (the signature covers path and body, not the host) and records it. */
function startRecordingProxy(target: URL, requests: SandboxRequest[]): Promise<Server> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let parsed: Record<string, unknown> = {};
      try {
        parsed = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        // not JSON: recorded with an empty body
      }
      requests.push({ path: req.url ?? '', body: parsed, atMs: Date.now() });
      const upstream = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } }, (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      upstream.end(body);
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function adminQuery(text: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

function waitForLine(child: ChildProcess, output: () => string, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const poll = setInterval(() => {
      const match = pattern.exec(output());
      if (match) {
        clearInterval(poll);
        resolve(match[1] as string);
      } else if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`no line matching ${pattern} (${child.exitCode ?? child.signalCode ?? 'timed out'}):\n${output()}`));
      }
    }, 20);
  });
}

/** The parent's environment without any ZHIFU_* setting that would change what the children do. */
function baseEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ZHIFU_')) env[name] = value;
  return env;
}
