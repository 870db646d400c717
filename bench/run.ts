/**
 * Zhifu benchmark: bare Fastify vs the gateway's durable `POST /v1/payment_intents`, create+confirm
 * through the Alipay+ sandbox, full payments to `succeeded`, and webhook delivery (events per
 * second to a local receiver, lag from the state change to receipt) — all in one process and one
 * run, each reported as a ratio against the bare Fastify baseline measured in the same run.
 *
 *   npm run build && node dist/bench/run.js [--duration 5] [--connections 20] …   (see --help)
 *
 * The servers run in a child process (bench/stack.ts); this process generates the load with
 * autocannon (scenarios 1–3) and with undici (scenarios 4–6) and runs the webhook receiver
 * (bench/receiver.ts). Progress goes to stderr; the table and
 * a JSON document of the results go to stdout.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon, { type AutocannonResult } from 'autocannon';
import { Agent, request } from 'undici';
import { nowMs, startWebhookReceiver } from './receiver.js';
import type { Arrival } from './receiver.js';
import type { StackMessage, StackOptions, StackReady, StackStats } from './stack.js';
import { fixed, ratio, round, Samples, table } from './stats.js';
import { checkTargets, formatTargets, type TargetFigures } from './targets.js';
import { formatLookups, runLookups, type LookupsResult } from './lookups.js';
import { benchProcesses, processesTable, type ProcessesRow } from './processes.js';
import { sandboxLookups, type SandboxLookupRow } from './sandbox-lookups.js';
import { webhookDrain, type WebhookDrainResult } from './webhook-drain.js';

const HELP = `Usage: node dist/bench/run.js [options]

  --duration <s>        measured seconds per scenario (default 5)
  --warmup <s>          unmeasured warm-up seconds before each scenario run (default 1; 0 = none)
  --rounds <n>          run all scenarios n times, alternating; medians are reported (default 1)
  --connections <n>     concurrent connections (autocannon) / shoppers (full payments) / callers
                        creating PaymentIntents (webhooks; in flight at most, webhooks-paced)
                        (default 20)
  --scenarios <list>    comma-separated subset of: baseline,create,create-nokey,confirm,payment,
                        webhooks,webhooks-paced,webhooks-drain,lookups,processes
                        (default: all; the baseline always runs, the ratios need it; processes
                        runs with a postgres:// --database only)
  --drain-events <n>    webhooks-drain: the backlog of events the worker drains (default 20000)
  --lookup-sizes <list> lookups: the stored payment counts to compare (default 10000,1000000;
                        seeding 1M takes minutes)
  --payments-max <n>    at most this many full payments in scenario 4 (default 20000)
  --webhook-rate <n>    webhooks-paced: PaymentIntents created (= events produced) per second
                        (default 1000, issue 13's target)
  --drain <s>           webhooks: after the load, wait at most this long for every event to
                        arrive before counting the missing ones (default 30)
  --webhook-poll-ms <ms>
                        diagnostic: the webhook worker's poll interval (default: as shipped)
  --database <url>      sqlite (default: a temp file) or postgres://user:pass@host/db (a fresh
                        schema is created and dropped)
  --log-level <level>   gateway and sandbox log level, lines written to /dev/null (default info,
                        as shipped; "silent" to leave logging out)
  --sqlite-commit <group|each>
                        how the gateway's SQLite commits reach the disk: group (default, as
                        shipped: one fsync off the event loop covers every commit made meanwhile)
                        or, as a diagnostic, each (synchronous=FULL, an fsync inside every commit)
  --keep-data           keep the temp data directory (SQLite files) after the run
  --help                this text
`;

const ALL_SCENARIOS = ['baseline', 'create', 'create-nokey', 'confirm', 'payment', 'webhooks', 'webhooks-paced', 'webhooks-drain', 'lookups', 'processes'] as const;
type ScenarioName = (typeof ALL_SCENARIOS)[number];
/** Run once after the rounds, with their own seeding and servers, not against a fresh stack per round. */
const ONCE_SCENARIOS: ReadonlySet<ScenarioName> = new Set(['webhooks-drain', 'lookups', 'processes']);

interface Settings {
  durationS: number;
  warmupS: number;
  rounds: number;
  connections: number;
  scenarios: Set<ScenarioName>;
  paymentsMax: number;
  webhookRate: number;
  drainS: number;
  /** null: the worker's shipped poll interval. */
  webhookPollMs: number | null;
  database: string;
  logLevel: string;
  keepData: boolean;
  sqliteCommit: 'group' | 'each';
  lookupSizes: number[];
  drainEvents: number;
}

interface ScenarioResult {
  name: ScenarioName;
  label: string;
  /** Successful operations per second (2xx responses with the expected body; payments succeeded). */
  perSecond: number;
  unit: 'req/s' | 'payments/s' | 'events/s';
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  ok: number;
  /**
   * Non-2xx responses, bodies not as expected, connection errors, timeouts; for the webhooks
   * scenarios also events that never arrived, arrived more than once, or had a bad signature.
   */
  failures: Failures;
  elapsedS: number;
  /** CPU time of the server process (the gateway, or the bare app; every thread) per successful operation. */
  serverCpuMsPerOp: number | null;
  /** CPU time of the sandbox's own process per successful operation (gateway scenarios). */
  sandboxCpuMsPerOp?: number | null;
  /** The server's event-loop thread's CPU time / wall time: near 1 = CPU-bound; lower = waiting (network, a busy machine). */
  serverBusy: number | null;
  /** Requests the sandbox received per successful operation, by path (gateway scenarios). */
  sandboxCallsPerOp?: Record<string, number>;
  notes?: Record<string, number | string>;
  /** The webhooks scenarios' own figures (latencyMs is then the delivery lag). */
  webhooks?: WebhookFigures;
  /** Peak resident set size of the server process (the gateway, or the bare app), MB. */
  rssMaxMb?: number;
  /** Peak resident set size of the sandbox's process, MB. */
  sandboxRssMaxMb?: number;
}

interface Failures {
  non2xx: number;
  mismatches: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  missing?: number;
  duplicates?: number;
  badSignatures?: number;
}

const failedCount = (f: Failures) => f.non2xx + f.mismatches + f.errors + f.timeouts + (f.missing ?? 0) + (f.duplicates ?? 0) + (f.badSignatures ?? 0);

interface WebhookFigures {
  /** `flat out, 20 connections` or `paced, 100/s`. */
  load: string;
  /** The worker's poll interval in ms, or "shipped". */
  pollIntervalMs: number | 'shipped';
  /** PaymentIntents created (200) in the measured window = `payment_intent.created` events produced. */
  produced: number;
  producedPerSecond: number;
  /** Of those, events that arrived (valid signature, 200) before the window ended. */
  deliveredInWindow: number;
  /** …and by the end of the drain period: each counted once. */
  delivered: number;
  missing: number;
  /** Arrivals beyond the first of an event. */
  duplicates: number;
  badSignatures: number;
  /** Requests to the receiver that were not a JSON event. */
  badBodies: number;
  /** Events that arrived for objects this run did not create (neither measured nor warm-up). */
  unexpected: number;
  /** Seconds from the end of the load until the last measured event arrived; null if some never did. */
  drainS: number | null;
  /**
   * Events delivered per second after the load stopped (the backlog left at the end of the window
   * ÷ drainS): the worker's rate with no creates competing; null when the backlog was too small
   * (drained in under 0.5 s) to say.
   */
  drainPerSecond: number | null;
  /** Lag from the create call's response (as the client saw it) to receipt. */
  lagFromResponseMs: { p50: number; p99: number; max: number };
  /** Events that reached the receiver before the create call's response reached the client. */
  arrivedBeforeResponse: number;
  /** Paced load only: creates started late because `--connections` were all busy. */
  behindSchedule: number;
}

/** A bad command line: reported as one line, without a stack trace. */
class UsageError extends Error {}

function parseSizes(raw: string): number[] {
  const sizes = raw.split(',').map((v) => Number(v.trim()));
  if (sizes.length < 2 || sizes.some((n) => !Number.isInteger(n) || n < 100 || n > 10_000_000)) throw new UsageError(`--lookup-sizes takes two or more counts of 100–10,000,000, got "${raw}"`);
  return sizes.sort((a, b) => a - b);
}

function parseSettings(argv: string[]): Settings {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        duration: { type: 'string', default: '5' },
        warmup: { type: 'string', default: '1' },
        rounds: { type: 'string', default: '1' },
        connections: { type: 'string', default: '20' },
        scenarios: { type: 'string', default: ALL_SCENARIOS.join(',') },
        'payments-max': { type: 'string', default: '20000' },
        'webhook-rate': { type: 'string', default: '1000' },
        drain: { type: 'string', default: '30' },
        'webhook-poll-ms': { type: 'string' },
        database: { type: 'string', default: 'sqlite' },
        'log-level': { type: 'string', default: 'info' },
        'keep-data': { type: 'boolean', default: false },
        'sqlite-commit': { type: 'string', default: 'group' },
        'lookup-sizes': { type: 'string', default: '10000,1000000' },
        'drain-events': { type: 'string', default: '20000' },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const values = parsed.values;
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const number = (name: string, raw: string, min: number, max: number) => {
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min || value > max) throw new UsageError(`--${name} must be a number in ${min}–${max}, got "${raw}"`);
    return value;
  };
  const scenarios = new Set<ScenarioName>(['baseline']);
  for (const name of values.scenarios.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(ALL_SCENARIOS as readonly string[]).includes(name)) throw new UsageError(`--scenarios: unknown scenario "${name}" (known: ${ALL_SCENARIOS.join(', ')})`);
    scenarios.add(name as ScenarioName);
  }
  const database = values.database;
  if (database !== 'sqlite' && !/^postgres(ql)?:\/\//.test(database)) throw new UsageError('--database must be "sqlite" or a postgres:// URL');
  const sqliteCommit = values['sqlite-commit'];
  if (sqliteCommit !== 'group' && sqliteCommit !== 'each') throw new UsageError('--sqlite-commit must be group or each');
  if (sqliteCommit !== 'group' && database !== 'sqlite') throw new UsageError('--sqlite-commit applies to the sqlite database only');
  return {
    durationS: number('duration', values.duration, 1, 300),
    warmupS: number('warmup', values.warmup, 0, 60),
    rounds: Math.floor(number('rounds', values.rounds, 1, 20)),
    connections: Math.floor(number('connections', values.connections, 1, 1000)),
    scenarios,
    paymentsMax: Math.floor(number('payments-max', values['payments-max'], 1, 1_000_000)),
    webhookRate: number('webhook-rate', values['webhook-rate'], 1, 100_000),
    drainS: number('drain', values.drain, 1, 600),
    webhookPollMs: values['webhook-poll-ms'] === undefined ? null : Math.floor(number('webhook-poll-ms', values['webhook-poll-ms'], 1, 60_000)),
    database,
    logLevel: values['log-level'],
    keepData: values['keep-data'],
    sqliteCommit,
    lookupSizes: parseSizes(values['lookup-sizes']),
    drainEvents: Math.floor(number('drain-events', values['drain-events'], 100, 1_000_000)),
  };
}

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function machine() {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) cpuModel = line.split(':').slice(1).join(':').trim();
  } catch {
    // not Linux: os.cpus() it is
  }
  const require = createRequire(import.meta.url);
  const version = (pkg: string) => {
    try {
      return (require(`${pkg}/package.json`) as { version: string }).version;
    } catch {
      return 'unknown';
    }
  };
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: os.availableParallelism(),
    cpuModel,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    loadAverageAtStart: os.loadavg().map((v) => round(v, 2)),
    autocannon: version('autocannon'),
    fastify: version('fastify'),
    undici: version('undici'),
  };
}

// ---------------------------------------------------------------------------------------------
// The server process

interface Stack {
  ready: StackReady;
  /** CPU ms and peak memory the server and sandbox processes have used so far, and the sandbox's request counts. */
  stats(): Promise<StackStats>;
  stop(): Promise<void>;
}

async function startStack(options: StackOptions): Promise<Stack> {
  const child = fork(fileURLToPath(new URL('./stack.js', import.meta.url)), [], {
    env: { ...process.env, ZHIFU_BENCH_STACK_OPTIONS: JSON.stringify(options) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({ type: 'error', message: `the server process exited (${String(signal ?? code)})` }) as StackMessage);
  const [first] = (await Promise.race([once(child, 'message'), exited.then((m) => [m])])) as [StackMessage];
  if (first.type !== 'ready') {
    child.kill('SIGKILL');
    throw new Error(`the server process failed to start: ${first.type === 'error' ? first.message : first.type}`);
  }
  const answer = () => Promise.race([once(child, 'message').then(([m]) => m as StackMessage), exited]);
  return {
    ready: first,
    async stats() {
      child.send({ type: 'stats' });
      const reply = await answer();
      if (reply.type !== 'stats') throw new Error(`server process answered ${reply.type === 'error' ? reply.message : reply.type} to stats`);
      return reply;
    },
    async stop() {
      child.send({ type: 'stop' });
      const stopped = await Promise.race([
        answer(),
        new Promise<StackMessage>((resolve) => setTimeout(() => resolve({ type: 'error', message: 'no answer in 15 s' }), 15_000).unref()),
      ]);
      if (stopped.type === 'error') log(`server process did not stop cleanly: ${stopped.message}`);
      if (child.exitCode === null && child.signalCode === null) {
        const gone = once(child, 'exit');
        child.kill(stopped.type === 'stopped' ? 'SIGTERM' : 'SIGKILL');
        await gone;
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios 1–3: autocannon

interface LoadSpec {
  name: ScenarioName;
  label: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** A new Idempotency-Key on every request, as stripe-node sends one on every POST. */
  idempotencyKey: boolean;
  /** Substrings every successful response body must contain. */
  expect: string[];
}

function autocannonRun(spec: LoadSpec, durationS: number, connections: number, samples: Samples | null): Promise<{ result: AutocannonResult; ok: number; mismatches: number }> {
  return new Promise((resolve, reject) => {
    let ok = 0;
    let mismatches = 0;
    // Set by onResponse, read by the tracker's `response` event that follows it synchronously.
    let verdict = false;
    const expect = spec.expect;
    const instance = autocannon(
      {
        url: spec.url,
        connections,
        duration: durationS,
        timeout: 10,
        requests: [
          {
            method: 'POST',
            headers: spec.headers,
            body: spec.body,
            ...(spec.idempotencyKey
              ? {
                  setupRequest: (req) => {
                    req.headers = { ...req.headers, 'idempotency-key': `stripe-node-retry-${randomUUID()}` };
                    return req;
                  },
                }
              : {}),
            onResponse: (status, body) => {
              const is2xx = status >= 200 && status < 300;
              verdict = is2xx && expect.every((s) => body.includes(s));
              if (is2xx && !verdict) mismatches += 1;
            },
          },
        ],
        renderProgressBar: false,
        renderResultsTable: false,
        renderLatencyTable: false,
      },
      (error, result) => (error ? reject(error) : resolve({ result, ok, mismatches })),
    );
    // autocannon's own latency histogram has 1 ms resolution; keep the exact (fractional) times.
    instance.on('response', (_client: unknown, _statusCode: number, _bytes: number, responseTimeMs: number) => {
      if (verdict) {
        ok += 1;
        samples?.add(responseTimeMs);
      }
      verdict = false;
    });
  });
}

type ServerFigures = Pick<ScenarioResult, 'serverCpuMsPerOp' | 'serverBusy' | 'sandboxCallsPerOp' | 'sandboxCpuMsPerOp' | 'rssMaxMb' | 'sandboxRssMaxMb'>;

/** Runs `work` and adds the server process's CPU ms per operation, busy share, peak memory and sandbox calls per operation. */
async function withServerStats<T extends { ok: number; elapsedS: number }>(stack: Stack, work: () => Promise<T>): Promise<T & ServerFigures> {
  const before = await stack.stats();
  const result = await work();
  const after = await stack.stats();
  const cpu = after.cpuMs - before.cpuMs;
  const loopCpu = before.loopCpuMs === null || after.loopCpuMs === null ? null : after.loopCpuMs - before.loopCpuMs;
  const sandboxCpu = before.sandboxCpuMs === null || after.sandboxCpuMs === null ? null : after.sandboxCpuMs - before.sandboxCpuMs;
  const calls: Record<string, number> = {};
  for (const [path, count] of Object.entries(after.sandboxCalls)) {
    const delta = count - (before.sandboxCalls[path] ?? 0);
    if (delta > 0 && result.ok > 0) calls[path] = round(delta / result.ok, 3);
  }
  return {
    ...result,
    serverCpuMsPerOp: result.ok === 0 ? null : cpu / result.ok,
    serverBusy: loopCpu === null ? null : loopCpu / 1000 / result.elapsedS,
    ...(after.rssPeakMb === null ? {} : { rssMaxMb: after.rssPeakMb }),
    ...(after.sandboxRssPeakMb === null ? {} : { sandboxRssMaxMb: after.sandboxRssPeakMb }),
    ...(Object.keys(calls).length > 0 ? { sandboxCallsPerOp: calls } : {}),
    ...(sandboxCpu === null ? {} : { sandboxCpuMsPerOp: result.ok === 0 ? null : sandboxCpu / result.ok }),
  };
}

async function runLoad(spec: LoadSpec, settings: Settings, stack: Stack): Promise<ScenarioResult> {
  // One request by hand first: a wrong key or body fails here, loudly, not as a table of 4xx.
  const probe = await fetch(spec.url, { method: 'POST', headers: { ...spec.headers, ...(spec.idempotencyKey ? { 'idempotency-key': randomUUID() } : {}) }, body: spec.body });
  const probeText = await probe.text();
  if (probe.status !== 200 || !spec.expect.every((s) => probeText.includes(s))) {
    throw new Error(`${spec.label}: probe request answered ${probe.status}: ${probeText.slice(0, 500)}`);
  }
  if (settings.warmupS > 0) {
    log(`${spec.label}: warm-up ${settings.warmupS} s`);
    await autocannonRun(spec, settings.warmupS, settings.connections, null);
  }
  log(`${spec.label}: measuring ${settings.durationS} s × ${settings.connections} connections`);
  const samples = new Samples();
  const { result, ok, mismatches, elapsedS, serverCpuMsPerOp, serverBusy, sandboxCallsPerOp, sandboxCpuMsPerOp, rssMaxMb, sandboxRssMaxMb } = await withServerStats(stack, async () => {
    const run = await autocannonRun(spec, settings.durationS, settings.connections, samples);
    return { ...run, elapsedS: (run.result.finish.getTime() - run.result.start.getTime()) / 1000 };
  });
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count;
  const latency = samples.summary();
  return {
    name: spec.name,
    label: spec.label,
    perSecond: ok / elapsedS,
    unit: 'req/s',
    latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max, mean: latency.mean },
    ok,
    failures: { non2xx: result.non2xx, mismatches, errors: result.errors, timeouts: result.timeouts, statusCodes },
    elapsedS,
    serverCpuMsPerOp,
    serverBusy,
    ...(sandboxCallsPerOp ? { sandboxCallsPerOp } : {}),
    ...(sandboxCpuMsPerOp === undefined ? {} : { sandboxCpuMsPerOp }),
    ...(rssMaxMb === undefined ? {} : { rssMaxMb }),
    ...(sandboxRssMaxMb === undefined ? {} : { sandboxRssMaxMb }),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenario 4: full payments (undici)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The seed's WEB request (api.md §2; test/support/gateway-server.ts seedWebRequest). */
function seedWebRequest(): Record<string, unknown> {
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

/** Poll delays after the wallet pay call: immediately, then backing off to every 25 ms. */
const POLL_DELAYS_MS = [0, 2, 4, 8, 16, 25];
const PAYMENT_TIMEOUT_MS = 15_000;

async function runPayments(stack: StackReady, settings: Settings, durationS: number, paymentsMax: number, samples: Samples | null): Promise<Omit<ScenarioResult, keyof ServerFigures>> {
  const agent = new Agent({ connections: settings.connections * 2, keepAliveTimeout: 30_000 });
  const auth = { authorization: `Bearer ${stack.secretKey}` };
  const body = JSON.stringify(seedWebRequest());
  const call = async (url: string, method: 'GET' | 'POST', headers: Record<string, string>, payload?: string) => {
    const response = await request(url, { method, headers, dispatcher: agent, ...(payload === undefined ? {} : { body: payload }), headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await response.body.text();
    return { status: response.statusCode, text };
  };
  let started = 0;
  let succeeded = 0;
  let polls = 0;
  const failures = { non2xx: 0, mismatches: 0, errors: 0, timeouts: 0, statusCodes: {} as Record<string, number> };
  const firstFailures: string[] = [];
  const fail = (what: string, status: number, text: string) => {
    if (status >= 300 || status < 200) {
      failures.non2xx += 1;
      failures.statusCodes[String(status)] = (failures.statusCodes[String(status)] ?? 0) + 1;
    } else {
      failures.mismatches += 1;
    }
    if (firstFailures.length < 3) firstFailures.push(`${what}: ${status} ${text.slice(0, 300)}`);
  };

  const begin = performance.now();
  const deadline = begin + durationS * 1000;
  const shopper = async () => {
    while (performance.now() < deadline && started < paymentsMax) {
      started += 1;
      const t0 = performance.now();
      try {
        const created = await call(`${stack.gatewayUrl}/v1/payment_intents`, 'POST', { ...auth, 'content-type': 'application/json', 'idempotency-key': `stripe-node-retry-${randomUUID()}` }, body);
        const intent = created.status === 200 ? (JSON.parse(created.text) as { id?: string; status?: string; next_action?: { alipay_handle_redirect?: { qr_code?: { data?: string } } } }) : null;
        const codeValue = intent?.next_action?.alipay_handle_redirect?.qr_code?.data;
        if (!intent?.id || intent.status !== 'requires_action' || !codeValue) {
          fail('create+confirm', created.status, created.text);
          continue;
        }
        const paid = await call(`${stack.sandboxUrl}/sandbox/v1/wallet/pay`, 'POST', { 'content-type': 'application/json' }, JSON.stringify({ codeValue, outcome: 'success' }));
        if (paid.status !== 200) {
          fail('wallet pay', paid.status, paid.text);
          continue;
        }
        let done = false;
        for (let attempt = 0; performance.now() - t0 < PAYMENT_TIMEOUT_MS; attempt += 1) {
          const delay = POLL_DELAYS_MS[Math.min(attempt, POLL_DELAYS_MS.length - 1)] ?? 25;
          if (delay > 0) await sleep(delay);
          polls += 1;
          const got = await call(`${stack.gatewayUrl}/v1/payment_intents/${intent.id}`, 'GET', auth);
          if (got.status !== 200) {
            fail('retrieve', got.status, got.text);
            break;
          }
          const status = (JSON.parse(got.text) as { status?: string }).status;
          if (status === 'succeeded') {
            done = true;
            break;
          }
          if (status !== 'requires_action' && status !== 'processing') {
            fail(`status ${status}`, got.status, got.text);
            break;
          }
        }
        if (done) {
          succeeded += 1;
          samples?.add(performance.now() - t0);
        } else if (performance.now() - t0 >= PAYMENT_TIMEOUT_MS) {
          failures.timeouts += 1;
        }
      } catch (error) {
        failures.errors += 1;
        if (firstFailures.length < 3) firstFailures.push(String(error));
      }
    }
  };
  await Promise.all(Array.from({ length: settings.connections }, () => shopper()));
  const elapsedS = (performance.now() - begin) / 1000;
  await agent.close();
  for (const line of firstFailures) log(`full payment failure: ${line}`);
  const latency = samples?.summary() ?? { p50: NaN, p90: NaN, p99: NaN, max: NaN, mean: NaN };
  return {
    name: 'payment',
    label: 'full payment → succeeded',
    perSecond: succeeded / elapsedS,
    unit: 'payments/s',
    latencyMs: { p50: latency.p50, p90: latency.p90, p99: latency.p99, max: latency.max, mean: latency.mean },
    ok: succeeded,
    failures,
    elapsedS,
    notes: { started, succeeded, pollsPerPayment: started === 0 ? 0 : round(polls / started, 2) },
  };
}

async function runPaymentScenario(stack: Stack, settings: Settings): Promise<ScenarioResult> {
  if (settings.warmupS > 0) {
    log(`full payments: warm-up ${settings.warmupS} s`);
    await runPayments(stack.ready, settings, settings.warmupS, settings.paymentsMax, null);
  }
  log(`full payments: measuring ${settings.durationS} s × ${settings.connections} shoppers (at most ${settings.paymentsMax})`);
  return withServerStats(stack, () => runPayments(stack.ready, settings, settings.durationS, settings.paymentsMax, new Samples()));
}

// ---------------------------------------------------------------------------------------------
// Scenarios 5–6: webhooks (undici creates, the receiver in this process)

/** What the load generator knows about each PaymentIntent it created (times: nowMs()). */
interface Produced {
  sentAt: number;
  respondedAt: number;
}

/** Waits (bounded) until `done()` holds; true if it did. */
async function waitFor(done: () => boolean, timeoutMs: number, everyMs = 10): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/**
 * Creates PaymentIntents for `durationS` (each commits one `payment_intent.created` event):
 * `rate` null = as fast as `connections` concurrent callers go; otherwise open-loop at `rate`
 * per second, at most `connections` in flight (a create due while all are busy starts late and
 * is counted in `behind`). Returns the created ids with their send and response times.
 */
async function produceIntents(
  stack: StackReady,
  agent: Agent,
  load: { durationS: number; rate: number | null; connections: number },
  failures: Failures,
  firstFailures: string[],
): Promise<{ produced: Map<string, Produced>; begin: number; end: number; behind: number }> {
  const produced = new Map<string, Produced>();
  const body = JSON.stringify({ amount: 2000, currency: 'usd' });
  const create = async () => {
    const sentAt = nowMs();
    try {
      const response = await request(`${stack.gatewayUrl}/v1/payment_intents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.secretKey}`, 'content-type': 'application/json', 'idempotency-key': `stripe-node-retry-${randomUUID()}` },
        body,
        dispatcher: agent,
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
      });
      const text = await response.body.text();
      const respondedAt = nowMs();
      const id = response.statusCode === 200 ? (JSON.parse(text) as { id?: unknown }).id : undefined;
      if (typeof id === 'string' && id.startsWith('pi_')) {
        produced.set(id, { sentAt, respondedAt });
        return;
      }
      if (response.statusCode === 200) failures.mismatches += 1;
      else {
        failures.non2xx += 1;
        failures.statusCodes[String(response.statusCode)] = (failures.statusCodes[String(response.statusCode)] ?? 0) + 1;
      }
      if (firstFailures.length < 3) firstFailures.push(`create: ${response.statusCode} ${text.slice(0, 300)}`);
    } catch (error) {
      failures.errors += 1;
      if (firstFailures.length < 3) firstFailures.push(`create: ${String(error)}`);
    }
  };
  const begin = performance.now();
  const deadline = begin + load.durationS * 1000;
  let behind = 0;
  if (load.rate === null) {
    // At least one create per caller (the probe relies on it), then until the deadline.
    const caller = async () => {
      do await create();
      while (performance.now() < deadline);
    };
    await Promise.all(Array.from({ length: load.connections }, () => caller()));
  } else {
    const intervalMs = 1000 / load.rate;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; ; i += 1) {
      const due = begin + i * intervalMs;
      if (due >= deadline) break;
      const ahead = due - performance.now();
      if (ahead >= 1) await sleep(ahead);
      if (inFlight.size >= load.connections) {
        behind += 1;
        await Promise.race(inFlight);
      }
      const call: Promise<void> = create().finally(() => inFlight.delete(call));
      inFlight.add(call);
    }
    await Promise.all(inFlight);
  }
  return { produced, begin, end: performance.now(), behind };
}

async function runWebhookScenario(name: 'webhooks' | 'webhooks-paced', stack: Stack, settings: Settings): Promise<ScenarioResult> {
  const ready = stack.ready;
  const rate = name === 'webhooks-paced' ? settings.webhookRate : null;
  const load = rate === null ? `flat out, ${settings.connections} connections` : `paced, ${settings.webhookRate}/s`;
  const label = rate === null ? 'webhooks: creates flat out → receiver' : `webhooks: ${settings.webhookRate} creates/s → receiver`;
  const receiver = await startWebhookReceiver();
  const agent = new Agent({ connections: settings.connections, keepAliveTimeout: 30_000 });
  try {
    // The endpoint, through the API: every event type, to the receiver on 127.0.0.1 (test mode).
    const created = await request(`${ready.gatewayUrl}/v1/webhook_endpoints`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ready.secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url, enabled_events: ['*'], description: 'bench receiver' }),
      dispatcher: agent,
    });
    const endpointText = await created.body.text();
    const secret = created.statusCode === 200 ? (JSON.parse(endpointText) as { secret?: unknown }).secret : undefined;
    if (typeof secret !== 'string' || !secret.startsWith('whsec_')) throw new Error(`${label}: creating the webhook endpoint answered ${created.statusCode}: ${endpointText.slice(0, 500)}`);
    receiver.secret = secret;

    const failures: Failures = { non2xx: 0, mismatches: 0, errors: 0, timeouts: 0, statusCodes: {} };
    const firstFailures: string[] = [];
    const arrivedFor = (ids: Iterable<string>) => {
      const wanted = new Set(ids);
      let n = 0;
      for (const arrival of receiver.arrivals.values()) if (arrival.type === 'payment_intent.created' && wanted.has(arrival.objectId)) n += 1;
      return n;
    };

    // One event by hand first: a refused URL or a bad signature stops the run here, loudly.
    const probe = await produceIntents(ready, agent, { durationS: 0.001, rate: null, connections: 1 }, failures, firstFailures);
    if (probe.produced.size !== 1 || !(await waitFor(() => arrivedFor(probe.produced.keys()) === 1, 10_000))) {
      throw new Error(`${label}: the probe event did not arrive in 10 s (${[...firstFailures, ...receiver.problems].join('; ') || 'no error seen'})`);
    }
    const earlier = new Set(probe.produced.keys());
    if (settings.warmupS > 0) {
      log(`${label}: warm-up ${settings.warmupS} s, then waiting for its events (at most ${settings.drainS} s)`);
      const warm = await produceIntents(ready, agent, { durationS: settings.warmupS, rate, connections: settings.connections }, { ...failures, statusCodes: {} }, []);
      for (const id of warm.produced.keys()) earlier.add(id);
      if (!(await waitFor(() => arrivedFor(earlier) === earlier.size, settings.drainS * 1000, 20))) {
        log(`${label}: ${earlier.size - arrivedFor(earlier)} warm-up events still undelivered after ${settings.drainS} s; measuring anyway`);
      }
    }

    log(`${label}: measuring ${settings.durationS} s (${load}), then waiting at most ${settings.drainS} s for every event`);
    const badSignaturesBefore = receiver.badSignatures;
    const badBodiesBefore = receiver.badBodies;
    const duplicatesBefore = receiver.duplicates();
    const cpuBefore = await stack.stats();
    const run = await produceIntents(ready, agent, { durationS: settings.durationS, rate, connections: settings.connections }, failures, firstFailures);
    const windowEndAt = nowMs();
    const windowS = (run.end - run.begin) / 1000;
    const measured = (arrival: Arrival) => arrival.type === 'payment_intent.created' && run.produced.has(arrival.objectId);
    const deliveredInWindow = [...receiver.arrivals.values()].filter((a) => measured(a) && a.receivedAt <= windowEndAt).length;
    const allArrived = await waitFor(() => arrivedFor(run.produced.keys()) === run.produced.size, settings.drainS * 1000, 20);
    const drainedAt = performance.now();
    const cpuAfter = await stack.stats();
    // A short grace period, so a second delivery of an event that arrived last would be seen too.
    await sleep(1000);

    const lag = new Samples();
    const fromResponse = new Samples();
    let delivered = 0;
    let unexpected = 0;
    let arrivedBeforeResponse = 0;
    let lastReceivedAt = Number.NEGATIVE_INFINITY;
    for (const arrival of receiver.arrivals.values()) {
      const intent = measured(arrival) ? run.produced.get(arrival.objectId) : undefined;
      if (intent === undefined) {
        if (!earlier.has(arrival.objectId)) unexpected += 1;
        continue;
      }
      delivered += 1;
      lastReceivedAt = Math.max(lastReceivedAt, arrival.receivedAt);
      lag.add(arrival.receivedAt - arrival.created);
      fromResponse.add(arrival.receivedAt - intent.respondedAt);
      if (arrival.receivedAt < intent.respondedAt) arrivedBeforeResponse += 1;
    }
    const missing = run.produced.size - delivered;
    const duplicates = receiver.duplicates() - duplicatesBefore;
    const badSignatures = receiver.badSignatures - badSignaturesBefore;
    const badBodies = receiver.badBodies - badBodiesBefore;
    failures.missing = missing;
    failures.duplicates = duplicates;
    failures.badSignatures = badSignatures;
    failures.mismatches += badBodies + unexpected;
    for (const line of [...firstFailures, ...receiver.problems]) log(`${label}: ${line}`);
    if (!allArrived) log(`${label}: ${missing} of ${run.produced.size} events had not arrived ${settings.drainS} s after the load stopped`);

    const cpu = cpuBefore.cpuMs === null || cpuAfter.cpuMs === null ? null : cpuAfter.cpuMs - cpuBefore.cpuMs;
    const busyS = (drainedAt - run.begin) / 1000;
    const l = lag.summary();
    const r = fromResponse.summary();
    const drainS = allArrived ? Math.max(0, lastReceivedAt - windowEndAt) / 1000 : null;
    return {
      name,
      label,
      perSecond: deliveredInWindow / windowS,
      unit: 'events/s',
      latencyMs: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, mean: l.mean },
      ok: delivered,
      failures,
      elapsedS: windowS,
      // Per event, created and delivered: CPU from the start of the load until the last event arrived.
      serverCpuMsPerOp: cpu === null || delivered === 0 ? null : cpu / delivered,
      serverBusy: cpu === null ? null : cpu / 1000 / busyS,
      webhooks: {
        load,
        pollIntervalMs: settings.webhookPollMs ?? 'shipped',
        produced: run.produced.size,
        producedPerSecond: run.produced.size / windowS,
        deliveredInWindow,
        delivered,
        missing,
        duplicates,
        badSignatures,
        badBodies,
        unexpected,
        drainS,
        drainPerSecond: drainS !== null && drainS >= 0.5 ? (delivered - deliveredInWindow) / drainS : null,
        lagFromResponseMs: { p50: r.p50, p99: r.p99, max: r.max },
        arrivedBeforeResponse,
        behindSchedule: run.behind,
      },
    };
  } finally {
    await agent.close();
    await receiver.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

function median(values: Array<number | null>): number {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (finite.length === 0) return Number.NaN;
  const mid = Math.floor(finite.length / 2);
  return finite.length % 2 === 1 ? (finite[mid] ?? Number.NaN) : ((finite[mid - 1] ?? 0) + (finite[mid] ?? 0)) / 2;
}

/** One scenario over all rounds: medians of the per-round figures, sums of the counts. */
function aggregate(runs: ScenarioResult[]): ScenarioResult {
  const first = runs[0];
  if (!first) throw new Error('no runs to aggregate');
  const statusCodes: Record<string, number> = {};
  for (const run of runs) for (const [code, count] of Object.entries(run.failures.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  const sum = (pick: (r: ScenarioResult) => number) => runs.reduce((total, r) => total + pick(r), 0);
  const cpu = median(runs.map((r) => r.serverCpuMsPerOp));
  const busy = median(runs.map((r) => r.serverBusy));
  const optionalSum = (pick: (f: Failures) => number | undefined) => (runs.some((r) => pick(r.failures) !== undefined) ? { value: sum((r) => pick(r.failures) ?? 0) } : null);
  const missing = optionalSum((f) => f.missing);
  const duplicates = optionalSum((f) => f.duplicates);
  const badSignatures = optionalSum((f) => f.badSignatures);
  return {
    name: first.name,
    label: first.label,
    unit: first.unit,
    perSecond: median(runs.map((r) => r.perSecond)),
    latencyMs: {
      p50: median(runs.map((r) => r.latencyMs.p50)),
      p90: median(runs.map((r) => r.latencyMs.p90)),
      p99: median(runs.map((r) => r.latencyMs.p99)),
      max: Math.max(...runs.map((r) => r.latencyMs.max)),
      mean: median(runs.map((r) => r.latencyMs.mean)),
    },
    ok: sum((r) => r.ok),
    failures: {
      non2xx: sum((r) => r.failures.non2xx),
      mismatches: sum((r) => r.failures.mismatches),
      errors: sum((r) => r.failures.errors),
      timeouts: sum((r) => r.failures.timeouts),
      statusCodes,
      ...(missing ? { missing: missing.value } : {}),
      ...(duplicates ? { duplicates: duplicates.value } : {}),
      ...(badSignatures ? { badSignatures: badSignatures.value } : {}),
    },
    elapsedS: sum((r) => r.elapsedS),
    serverCpuMsPerOp: Number.isFinite(cpu) ? cpu : null,
    serverBusy: Number.isFinite(busy) ? busy : null,
    ...(first.sandboxCpuMsPerOp === undefined ? {} : { sandboxCpuMsPerOp: median(runs.map((r) => r.sandboxCpuMsPerOp ?? null)) }),
    ...(first.sandboxCallsPerOp ? { sandboxCallsPerOp: Object.fromEntries(Object.keys(first.sandboxCallsPerOp).map((path) => [path, round(median(runs.map((r) => r.sandboxCallsPerOp?.[path] ?? 0)), 3)])) } : {}),
    ...(first.notes ? { notes: first.notes } : {}),
    ...(runs.some((r) => r.rssMaxMb !== undefined) ? { rssMaxMb: Math.max(...runs.map((r) => r.rssMaxMb ?? 0)) } : {}),
    ...(runs.some((r) => r.sandboxRssMaxMb !== undefined) ? { sandboxRssMaxMb: Math.max(...runs.map((r) => r.sandboxRssMaxMb ?? 0)) } : {}),
    ...(first.webhooks ? { webhooks: aggregateWebhooks(runs.map((r) => r.webhooks).filter((w): w is WebhookFigures => w !== undefined)) } : {}),
  };
}

/** Webhook figures over all rounds: counts summed, rates and lags as medians, the slowest drain. */
function aggregateWebhooks(runs: WebhookFigures[]): WebhookFigures {
  const first = runs[0];
  if (!first) throw new Error('no webhook runs to aggregate');
  const sum = (pick: (w: WebhookFigures) => number) => runs.reduce((total, w) => total + pick(w), 0);
  const drains = runs.map((w) => w.drainS);
  return {
    load: first.load,
    pollIntervalMs: first.pollIntervalMs,
    produced: sum((w) => w.produced),
    producedPerSecond: median(runs.map((w) => w.producedPerSecond)),
    deliveredInWindow: sum((w) => w.deliveredInWindow),
    delivered: sum((w) => w.delivered),
    missing: sum((w) => w.missing),
    duplicates: sum((w) => w.duplicates),
    badSignatures: sum((w) => w.badSignatures),
    badBodies: sum((w) => w.badBodies),
    unexpected: sum((w) => w.unexpected),
    drainS: drains.some((d) => d === null) ? null : Math.max(...drains.map((d) => d ?? 0)),
    drainPerSecond: runs.every((w) => w.drainPerSecond === null) ? null : median(runs.map((w) => w.drainPerSecond)),
    lagFromResponseMs: {
      p50: median(runs.map((w) => w.lagFromResponseMs.p50)),
      p99: median(runs.map((w) => w.lagFromResponseMs.p99)),
      max: Math.max(...runs.map((w) => w.lagFromResponseMs.max)),
    },
    arrivedBeforeResponse: sum((w) => w.arrivedBeforeResponse),
    behindSchedule: sum((w) => w.behindSchedule),
  };
}

interface RunInfo {
  databaseKind: StackReady['databaseKind'];
  /** The fsync probe of each server process started. */
  fsyncMs: Array<{ p50: number; p99: number }>;
}

/** The figures the issue's targets are stated in, from this run's aggregated results. */
function targetFigures(results: ScenarioResult[], baseline: ScenarioResult, settings: Settings, once: OnceResults): TargetFigures {
  const find = (name: ScenarioName) => results.find((r) => r.name === name);
  const create = find('create');
  const payment = find('payment');
  const paced = find('webhooks-paced');
  const rss = results.filter((r) => r !== baseline).map((r) => r.rssMaxMb).filter((v): v is number => v !== undefined);
  const sandboxRss = results.map((r) => r.sandboxRssMaxMb).filter((v): v is number => v !== undefined);
  return {
    baseline: { perSecond: baseline.perSecond, cpuMsPerOp: baseline.serverCpuMsPerOp },
    ...(create ? { create: { perSecond: create.perSecond, cpuMsPerOp: create.serverCpuMsPerOp, p99Ms: create.latencyMs.p99 } } : {}),
    ...(payment ? { payment: { perSecond: payment.perSecond, gatewayCpuMsPerOp: payment.serverCpuMsPerOp } } : {}),
    ...(paced?.webhooks
      ? {
          webhooksPaced: {
            rate: settings.webhookRate,
            producedPerSecond: paced.webhooks.producedPerSecond,
            deliveredPerSecond: paced.perSecond,
            lagP99Ms: paced.latencyMs.p99,
            missing: paced.webhooks.missing,
            duplicates: paced.webhooks.duplicates,
          },
        }
      : {}),
    ...(once.drain ? { drainPerSecond: once.drain.missing + once.drain.duplicates + once.drain.badSignatures === 0 ? once.drain.perSecond : 0 } : {}),
    ...(rss.length > 0 ? { rssMaxMb: Math.max(...rss) } : {}),
    ...(once.lookups
      ? {
          lookups: [
            ...once.lookups.gateway.rows.map((r) => ({ side: `gateway (${once.lookups?.gateway.database})`, name: r.name, ratio: r.ratio })),
            ...once.lookups.sandbox.map((r) => ({ side: 'sandbox', name: r.name, ratio: r.ratio })),
          ],
        }
      : {}),
    ...(sandboxRss.length > 0 ? { sandboxRssMaxMb: Math.max(...sandboxRss) } : {}),
  };
}

function report(settings: Settings, env: ReturnType<typeof machine>, info: RunInfo, rounds: ScenarioResult[][], once: OnceResults): void {
  const names = [...new Set(rounds.flat().map((r) => r.name))];
  const results = names.map((name) => aggregate(rounds.flat().filter((r) => r.name === name)));
  const baseline = results.find((r) => r.name === 'baseline');
  if (!baseline) throw new Error('no baseline result');
  const cpuRatio = (r: ScenarioResult) => (r.serverCpuMsPerOp === null || baseline.serverCpuMsPerOp === null ? '—' : ratio(r.serverCpuMsPerOp, baseline.serverCpuMsPerOp));
  const rows = results.map((r) => {
    const failed = failedCount(r.failures);
    const isBase = r === baseline;
    // A webhook's lag is not a response time: no ratio against the baseline's latency.
    const lagOnly = r.unit === 'events/s';
    return [
      r.label,
      `${fixed(r.perSecond, 0)} ${r.unit}`,
      isBase ? '1.00×' : ratio(r.perSecond, baseline.perSecond),
      fixed(r.latencyMs.p50, 2),
      fixed(r.latencyMs.p99, 2),
      isBase ? '1.00×' : lagOnly ? '—' : ratio(r.latencyMs.p50, baseline.latencyMs.p50),
      isBase ? '1.00×' : lagOnly ? '—' : ratio(r.latencyMs.p99, baseline.latencyMs.p99),
      r.serverCpuMsPerOp === null ? '—' : fixed(r.serverCpuMsPerOp, 3),
      isBase ? '1.00×' : cpuRatio(r),
      r.serverBusy === null ? '—' : `${fixed(r.serverBusy * 100, 0)}%`,
      String(r.ok),
      String(failed),
    ];
  });
  const loadAtEnd = os.loadavg().map((v) => round(v, 2));
  const out: string[] = [];
  out.push('');
  out.push(`Zhifu benchmark — ${new Date().toISOString()}`);
  out.push(`machine: ${env.cpus} CPUs (${env.cpuModel}), ${env.memoryGiB} GiB, ${env.platform}; load average ${env.loadAverageAtStart.join(' ')} at start, ${loadAtEnd.join(' ')} at end`);
  out.push(`node ${env.node}, fastify ${env.fastify}, autocannon ${env.autocannon}, undici ${env.undici}`);
  out.push(
    `settings: ${settings.rounds} round(s) × ${settings.durationS} s per scenario run (+${settings.warmupS} s warm-up each), ${settings.connections} connections, ` +
      `database ${info.databaseKind}${info.databaseKind === 'sqlite' ? ` (${settings.sqliteCommit === 'group' ? 'group commit, as shipped' : 'an fsync in every commit, DIAGNOSTIC — not the shipped setting'})` : ''}, ` +
      `log level ${settings.logLevel} (to /dev/null)`,
  );
  const fsync = { p50: median(info.fsyncMs.map((f) => f.p50)), p99: median(info.fsyncMs.map((f) => f.p99)) };
  out.push(`disk: 4 KiB write+fsync in the data directory p50 ${fixed(fsync.p50, 3)} ms, p99 ${fixed(fsync.p99, 3)} ms (median of ${info.fsyncMs.length} probes, one before each scenario run)`);
  out.push('servers: a fresh child process and fresh databases per scenario run (the bare app alone; the gateway, with the sandbox in its own child process as `npm start` runs it); load: this process; CPU ms/op = the server process, every thread (its event loop, the fsyncs on the thread pool, GC)');
  if (settings.rounds > 1) out.push(`figures are medians over ${settings.rounds} rounds; baseline req/s per round: ${rounds.map((round) => fixed(round.find((r) => r.name === 'baseline')?.perSecond ?? NaN, 0)).join(', ')}`);
  out.push('');
  out.push(table(['scenario', 'throughput', 'vs bare', 'p50 ms', 'p99 ms', 'p50 vs bare', 'p99 vs bare', 'srv CPU ms/op', 'vs bare', 'srv busy', 'ok', 'failed'], rows));
  out.push('');
  for (const r of results) {
    if (r === baseline) continue;
    out.push(`${r.label} = ${ratio(r.perSecond, baseline.perSecond)} bare Fastify (${r.unit === 'req/s' ? 'req/s' : `${r.unit} vs req/s`}); server CPU per op ${cpuRatio(r)} bare`);
  }
  for (const r of results) {
    if (!r.sandboxCallsPerOp) continue;
    const calls = Object.entries(r.sandboxCallsPerOp).map(([path, perOp]) => `${path} ${fixed(perOp, 2)}`).join(', ');
    out.push(`sandbox requests per ${r.unit === 'payments/s' ? 'payment' : 'request'}, ${r.label}: ${calls}`);
  }
  for (const r of results) {
    if (r.sandboxCpuMsPerOp === undefined || r.sandboxCpuMsPerOp === null || !Number.isFinite(r.sandboxCpuMsPerOp)) continue;
    out.push(`CPU ms per ${r.unit === 'payments/s' ? 'payment' : 'request'}, ${r.label}: gateway process ${fixed(r.serverCpuMsPerOp ?? NaN, 3)}, sandbox process ${fixed(r.sandboxCpuMsPerOp, 3)}`);
  }
  const payment = results.find((r) => r.name === 'payment');
  if (payment) {
    out.push(`full payment: create+confirm, wallet pay (sandbox control API), notification, then GET polling until succeeded; p50/p99 time-to-succeeded ${fixed(payment.latencyMs.p50, 1)} / ${fixed(payment.latencyMs.p99, 1)} ms, ${payment.notes?.pollsPerPayment ?? '?'} polls/payment`);
  }
  for (const r of results) {
    const w = r.webhooks;
    if (!w) continue;
    const poll = w.pollIntervalMs === 'shipped' ? 'poll interval as shipped' : `poll interval ${w.pollIntervalMs} ms (DIAGNOSTIC — not the shipped setting)`;
    out.push(
      `${r.label} (${w.load}, ${poll}): produced ${fixed(w.producedPerSecond, 0)} events/s, delivered ${fixed(r.perSecond, 0)} events/s during the load; ` +
        `lag from the event's created to receipt p50 ${fixed(r.latencyMs.p50, 1)} / p99 ${fixed(r.latencyMs.p99, 1)} / max ${fixed(r.latencyMs.max, 1)} ms, ` +
        `from the create call's response p50 ${fixed(w.lagFromResponseMs.p50, 1)} / p99 ${fixed(w.lagFromResponseMs.p99, 1)} ms`,
    );
    out.push(
      `  exactly once: ${w.produced} produced, ${w.delivered} delivered, ${w.missing} missing, ${w.duplicates} duplicates, ${w.badSignatures} bad signatures, ` +
        `${w.unexpected} unexpected events; ${w.drainS === null ? `NOT all delivered within the ${settings.drainS} s drain` : `the last arrived ${fixed(w.drainS, 2)} s after the load stopped`}` +
        `${w.drainPerSecond === null ? '' : ` (backlog delivered at ${fixed(w.drainPerSecond, 0)} events/s once the creates stopped)`}` +
        `${w.arrivedBeforeResponse > 0 ? `; ${w.arrivedBeforeResponse} arrived before their create call's response` : ''}` +
        `${w.behindSchedule > 0 ? `; ${w.behindSchedule} creates started late (all connections busy)` : ''}`,
    );
  }
  for (const r of results) {
    const f = r.failures;
    if (failedCount(f) > 0) {
      const webhookPart = f.missing === undefined ? '' : `, missing events ${f.missing}, duplicate deliveries ${f.duplicates ?? 0}, bad signatures ${f.badSignatures ?? 0}`;
      out.push(`! ${r.label}: non-2xx ${f.non2xx} ${JSON.stringify(f.statusCodes)}, unexpected bodies ${f.mismatches}, errors ${f.errors}, timeouts ${f.timeouts}${webhookPart}`);
    }
  }
  out.push('');
  if (once.drain) {
    const d = once.drain;
    out.push(
      `webhooks-drain: a backlog of ${d.events} events drained at ${fixed(d.perSecond, 0)} events/s (all arrived in ${fixed(d.seconds, 2)} s, all recorded delivered in ${fixed(d.recordedSeconds, 2)} s), ` +
        `gateway ${d.cpuMsPerEvent === null ? '—' : fixed(d.cpuMsPerEvent, 3)} ms CPU per event; exactly once: ${d.missing} missing, ${d.duplicates} duplicates, ${d.badSignatures} bad signatures`,
    );
    out.push('');
  }
  if (once.lookups) {
    out.push(`gateway lookups (median ms in-process through the core functions; ratio = largest store over smallest):`);
    out.push(formatLookups(once.lookups.gateway));
    const sizes = settings.lookupSizes;
    out.push(`sandbox lookups (median ms; at ${sizes[0]} and ${sizes[sizes.length - 1]} stored payments):`);
    out.push(table(['lookup', `${sizes[0]}`, `${sizes[sizes.length - 1]}`, 'ratio'], once.lookups.sandbox.map((r) => [r.name, fixed(r.ms10k, 4), fixed(r.ms1M, 4), `${fixed(r.ratio, 2)}×`])));
    out.push('');
  }
  if (once.processes) {
    if ('skipped' in once.processes) out.push(`processes: not run — ${once.processes.skipped}`);
    else {
      out.push('zhifu start --processes 1 vs 2 on PostgreSQL (durable creates with Idempotency-Key; CPU = every gateway process):');
      out.push(processesTable(once.processes));
    }
    out.push('');
  }
  out.push('issue 13 targets (✔ met, ✘ not met, · not measured in this run):');
  out.push(...formatTargets(checkTargets(targetFigures(results, baseline, settings, once))));
  out.push('');
  const shape = (r: ScenarioResult) => ({
    ...r,
    perSecond: round(r.perSecond, 1),
    ratioToBaseline: round(r.perSecond / baseline.perSecond, 4),
    latencyMs: Object.fromEntries(Object.entries(r.latencyMs).map(([k, v]) => [k, round(v, 3)])),
    elapsedS: round(r.elapsedS, 3),
    serverCpuMsPerOp: r.serverCpuMsPerOp === null ? null : round(r.serverCpuMsPerOp, 4),
    serverBusy: r.serverBusy === null ? null : round(r.serverBusy, 3),
    ...(r.webhooks
      ? {
          webhooks: {
            ...r.webhooks,
            producedPerSecond: round(r.webhooks.producedPerSecond, 1),
            drainS: r.webhooks.drainS === null ? null : round(r.webhooks.drainS, 3),
            drainPerSecond: r.webhooks.drainPerSecond === null ? null : round(r.webhooks.drainPerSecond, 1),
            lagFromResponseMs: Object.fromEntries(Object.entries(r.webhooks.lagFromResponseMs).map(([k, v]) => [k, round(v, 3)])),
          },
        }
      : {}),
  });
  const json = {
    timestamp: new Date().toISOString(),
    machine: { ...env, loadAverageAtEnd: loadAtEnd, fsyncMs: { p50: round(fsync.p50, 3), p99: round(fsync.p99, 3) } },
    settings: { ...settings, scenarios: [...settings.scenarios], database: info.databaseKind },
    results: results.map(shape),
    ...(settings.rounds > 1 ? { rounds: rounds.map((round) => round.map(shape)) } : {}),
    ...once,
  };
  out.push(JSON.stringify(json, null, 2));
  process.stdout.write(`${out.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------
// Run once: lookups at two store sizes, and 1 vs 2 gateway processes

interface OnceResults {
  drain?: WebhookDrainResult;
  lookups?: { gateway: LookupsResult; sandbox: SandboxLookupRow[] };
  processes?: ProcessesRow[] | { skipped: string };
}

async function runOnceScenarios(settings: Settings): Promise<OnceResults> {
  const once: OnceResults = {};
  if (settings.scenarios.has('webhooks-drain')) {
    log(`webhooks-drain: ${settings.drainEvents} events written with the worker stopped, then drained (${settings.database})`);
    once.drain = await webhookDrain({ events: settings.drainEvents, database: settings.database, log });
  }
  if (settings.scenarios.has('lookups')) {
    log(`lookups: the gateway's, at ${settings.lookupSizes.join(' and ')} stored payments (${settings.database})`);
    const gateway = await runLookups({
      payments: settings.lookupSizes,
      database: settings.database === 'sqlite' ? null : settings.database,
      samples: 41,
      warmup: 15,
      batch: 2000,
      keep: null,
      writeCost: false,
      log,
    });
    log(`lookups: the sandbox's, at ${settings.lookupSizes.join(' and ')} stored payments`);
    const sandbox = await sandboxLookups(settings.lookupSizes);
    once.lookups = { gateway, sandbox };
  }
  if (settings.scenarios.has('processes')) {
    if (settings.database === 'sqlite') once.processes = { skipped: 'needs --database postgres://… (more than one gateway process needs PostgreSQL)' };
    else {
      log('processes: zhifu start with 1 and 2 gateway processes on PostgreSQL');
      once.processes = await benchProcesses({ processes: [1, 2], durationS: settings.durationS, warmupS: settings.warmupS, connections: settings.connections, rounds: settings.rounds, databaseUrl: settings.database });
    }
  }
  return once;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const env = machine();
  // A hard stop if anything hangs: every scenario is bounded by its duration; this bounds the rest.
  const webhookRuns = ['webhooks', 'webhooks-paced'].filter((name) => settings.scenarios.has(name as ScenarioName)).length;
  // Seeding runs at a few thousand payments per second on a 2-core machine; the processes bench starts zhifu twice per round.
  const onceS = (settings.scenarios.has('lookups') ? (2 * settings.lookupSizes.reduce((a, b) => a + b, 0)) / 1000 + 120 : 0) + (settings.scenarios.has('processes') ? settings.rounds * 2 * (settings.durationS + settings.warmupS + 60) : 0);
  const budgetS = settings.rounds * (settings.scenarios.size * (settings.durationS + settings.warmupS + 30) + webhookRuns * (2 * settings.drainS + 15)) + onceS + 60;
  setTimeout(() => {
    log(`gave up after ${budgetS} s`);
    process.exit(2);
  }, budgetS * 1000).unref();

  const info: RunInfo = { databaseKind: settings.database === 'sqlite' ? 'sqlite' : 'postgres', fsyncMs: [] };
  const createBody = JSON.stringify({ amount: 2000, currency: 'usd' });
  const specFor = (name: Exclude<ScenarioName, 'payment' | 'webhooks' | 'webhooks-paced' | 'webhooks-drain' | 'lookups' | 'processes'>, ready: StackReady): LoadSpec => {
    const gatewayHeaders = { authorization: `Bearer ${ready.secretKey}`, 'content-type': 'application/json' };
    const intents = `${ready.gatewayUrl}/v1/payment_intents`;
    const created = ['"object":"payment_intent"', '"status":"requires_payment_method"'];
    switch (name) {
      case 'baseline':
        return { name, label: 'bare Fastify POST /json', url: `${ready.baselineUrl}/json`, headers: { 'content-type': 'application/json' }, body: createBody, idempotencyKey: false, expect: ['"ok":true'] };
      case 'create':
        return { name, label: 'durable create (Idempotency-Key)', url: intents, headers: gatewayHeaders, body: createBody, idempotencyKey: true, expect: created };
      case 'create-nokey':
        return { name, label: 'durable create (no key)', url: intents, headers: gatewayHeaders, body: createBody, idempotencyKey: false, expect: created };
      case 'confirm':
        return { name, label: 'create+confirm via sandbox', url: intents, headers: gatewayHeaders, body: JSON.stringify(seedWebRequest()), idempotencyKey: true, expect: ['"status":"requires_action"', '"alipay_handle_redirect"'] };
    }
  };
  const rounds: ScenarioResult[][] = [];
  for (let round = 1; round <= settings.rounds; round += 1) {
    if (settings.rounds > 1) log(`round ${round} of ${settings.rounds}`);
    const results: ScenarioResult[] = [];
    for (const name of ALL_SCENARIOS) {
      if (!settings.scenarios.has(name) || ONCE_SCENARIOS.has(name)) continue;
      const role = name === 'baseline' ? 'baseline' : 'gateway';
      log(`${name}: starting ${role === 'baseline' ? 'the bare app' : `gateway + sandbox (${info.databaseKind})`}`);
      const stack = await startStack({
        role,
        database: settings.database,
        logLevel: settings.logLevel,
        keepData: settings.keepData,
        sqliteCommit: settings.sqliteCommit,
        ...(settings.webhookPollMs === null ? {} : { webhookPollIntervalMs: settings.webhookPollMs }),
      });
      info.fsyncMs.push(stack.ready.fsyncMs);
      try {
        let result: ScenarioResult;
        if (name === 'payment') result = await runPaymentScenario(stack, settings);
        else if (name === 'webhooks' || name === 'webhooks-paced') result = await runWebhookScenario(name, stack, settings);
        else if (ONCE_SCENARIOS.has(name) || name === 'webhooks-drain' || name === 'lookups' || name === 'processes') throw new Error(`${name} runs once, after the rounds`);
        else result = await runLoad(specFor(name, stack.ready), settings, stack);
        results.push(result);
      } finally {
        await stack.stop();
      }
    }
    rounds.push(results);
  }
  report(settings, env, info, rounds, await runOnceScenarios(settings));
}

try {
  await main();
} catch (error) {
  log(error instanceof UsageError ? `${error.message} (see --help)` : error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exitCode = 1;
}
