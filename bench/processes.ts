/**
 * 1 vs N gateway processes on PostgreSQL (`zhifu start --processes N`, issue 13): durable creates
 * (`POST /v1/payment_intents` with a new Idempotency-Key each) per second, and the gateway
 * processes' CPU per request (user + system of the primary and its gateways, from /proc). Each
 * process count gets a fresh schema and a fresh `zhifu start`; the load comes from autocannon in
 * this process, on the same machine.
 *
 *   npm run build && node dist/bench/processes.js [--processes 1,2] [--duration 5] [--connections 20] [--rounds 2]
 *
 * ZHIFU_BENCH_DATABASE_URL (default the test database) names the PostgreSQL server.
 */
import { adminQuery } from './postgres.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon, { type AutocannonResult } from 'autocannon';
import { table } from './stats.js';

const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const DEFAULT_DATABASE_URL = 'postgres://zhifu:zhifu@127.0.0.1:5432/zhifu_test';
const CLOCK_TICKS_PER_SECOND = 100;
const IDLE_SAMPLE_MS = 3_000;

export interface ProcessesBenchOptions {
  processes: readonly number[];
  durationS: number;
  warmupS: number;
  connections: number;
  rounds: number;
  databaseUrl: string;
}

export interface ProcessesRow {
  processes: number;
  round: number;
  createsPerSecond: number;
  /** Gateway CPU (all its processes) per answered request. */
  cpuMsPerRequest: number;
  /**
   * CPU the gateway processes burn with no requests (workers polling, timers), ms per second: at a
   * low request rate it is a large part of cpuMsPerRequest, and it grows with the process count.
   */
  idleCpuMsPerSecond: number;
  p99Ms: number;
  /** Non-2xx answers and errors: should be 0. */
  failures: number;
}

export async function benchProcesses(options: ProcessesBenchOptions): Promise<ProcessesRow[]> {
  const rows: ProcessesRow[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    // Alternating within a round: both counts see the same minute of a shared machine.
    for (const processes of options.processes) rows.push(await benchOne(options, processes, round));
  }
  return rows;
}

async function benchOne(options: ProcessesBenchOptions, processes: number, round: number): Promise<ProcessesRow> {
  const gateway = await startGateways(options.databaseUrl, processes);
  try {
    const headers = { authorization: `Bearer ${gateway.secretKey}`, 'content-type': 'application/json' };
    const url = `${gateway.url}/v1/payment_intents`;
    const idleBefore = treeCpuMs(gateway.child.pid as number);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
    const idleCpuMsPerSecond = Math.round(((treeCpuMs(gateway.child.pid as number) - idleBefore) / IDLE_SAMPLE_MS) * 1000);
    await load(url, headers, options.warmupS, options.connections);
    const before = treeCpuMs(gateway.child.pid as number);
    const result = await load(url, headers, options.durationS, options.connections);
    const cpuMs = treeCpuMs(gateway.child.pid as number) - before;
    const answered = result['2xx'];
    return {
      processes,
      round,
      createsPerSecond: Math.round(answered / options.durationS),
      cpuMsPerRequest: answered === 0 ? 0 : Math.round((cpuMs / answered) * 1000) / 1000,
      idleCpuMsPerSecond,
      p99Ms: result.latency.p99,
      failures: result.non2xx + result.errors + result.timeouts,
    };
  } finally {
    await gateway.stop();
  }
}

function load(url: string, headers: Record<string, string>, durationS: number, connections: number): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections,
        duration: durationS,
        timeout: 10,
        requests: [{
          method: 'POST',
          headers,
          body: JSON.stringify({ amount: 2000, currency: 'usd' }),
          setupRequest: (req) => ({ ...req, headers: { ...req.headers, 'idempotency-key': `bench-${randomUUID()}` } }),
        }],
        renderProgressBar: false,
        renderResultsTable: false,
        renderLatencyTable: false,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

interface Gateways {
  url: string;
  secretKey: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

async function startGateways(databaseUrl: string, processes: number): Promise<Gateways> {
  const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-bench-processes-'));
  const schema = `bench_processes_${process.pid}_${randomBytes(4).toString('hex')}`;
  await adminQuery(databaseUrl, `create schema ${schema}`);
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  const secretKey = `sk_test_${randomBytes(18).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ZHIFU_')) env[name] = value;
  const child = spawn(process.execPath, [CLI, 'start', '--processes', String(processes)], {
    env: {
      ...env,
      ZHIFU_PORT: '0',
      ZHIFU_SANDBOX_PORT: '0',
      ZHIFU_HOST: '127.0.0.1',
      ZHIFU_DATA_DIR: dir,
      ZHIFU_DATABASE_URL: url.toString(),
      ZHIFU_TEST_SECRET_KEY: secretKey,
      // The limit would cap the load at 1,000/s: this measures the gateway, not the limiter.
      ZHIFU_RATE_LIMIT: '0',
      ZHIFU_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const pattern = processes > 1 ? /Zhifu cluster: \d+ gateway processes listening on (http:\/\/\S+)/ : /Zhifu gateway listening on (http:\/\/\S+)/;
  const gatewayUrl = await new Promise<string>((resolve, reject) => {
    const deadline = Date.now() + 60_000;
    const poll = setInterval(() => {
      const match = pattern.exec(output);
      if (match) {
        clearInterval(poll);
        resolve(match[1] as string);
      } else if (child.exitCode !== null || Date.now() > deadline) {
        clearInterval(poll);
        reject(new Error(`zhifu start --processes ${processes} did not start:\n${output}`));
      }
    }, 20);
  });
  return {
    url: gatewayUrl,
    secretKey,
    child,
    async stop() {
      const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
      child.kill('SIGTERM');
      await exited;
      await adminQuery(databaseUrl, `drop schema ${schema} cascade`);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** User + system CPU of a process and all its descendants, in ms (Linux /proc). */
function treeCpuMs(rootPid: number): number {
  const children = new Map<number, number[]>();
  const ticks = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces): state ppid … utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const pid = Number(entry);
      const ppid = Number(fields[1]);
      ticks.set(pid, Number(fields[11]) + Number(fields[12]));
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // the process exited while we looked
    }
  }
  let total = 0;
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop() as number;
    total += ticks.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return (total * 1000) / CLOCK_TICKS_PER_SECOND;
}


/** The rows as a text table, with each row's ratio of creates/s to the first row's. */
export function processesTable(rows: readonly ProcessesRow[]): string {
  const first = rows[0];
  return table(
    ['processes', 'round', 'creates/s', 'vs first', 'CPU ms/request', 'idle CPU ms/s', 'p99 ms', 'failures'],
    rows.map((row) => [String(row.processes), String(row.round), String(row.createsPerSecond), first === undefined || first.createsPerSecond === 0 ? '' : `${(row.createsPerSecond / first.createsPerSecond).toFixed(2)}×`, row.cpuMsPerRequest.toFixed(3), String(row.idleCpuMsPerSecond), String(row.p99Ms), String(row.failures)]),
  );
}

function parseArgs(argv: readonly string[]): ProcessesBenchOptions {
  const options: ProcessesBenchOptions = { processes: [1, 2], durationS: 5, warmupS: 2, connections: 20, rounds: 2, databaseUrl: process.env.ZHIFU_BENCH_DATABASE_URL ?? DEFAULT_DATABASE_URL };
  for (let i = 0; i < argv.length; i += 2) {
    const [name, value] = [argv[i], argv[i + 1] ?? ''];
    const count = Number(value);
    if (name === '--processes') options.processes = value.split(',').map(Number);
    else if (name === '--duration') options.durationS = count;
    else if (name === '--warmup') options.warmupS = count;
    else if (name === '--connections') options.connections = count;
    else if (name === '--rounds') options.rounds = count;
    else throw new Error(`unknown option ${name}: --processes 1,2 --duration S --warmup S --connections N --rounds N`);
  }
  return options;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await benchProcesses(parseArgs(process.argv.slice(2)));
  console.log(processesTable(rows));
}
