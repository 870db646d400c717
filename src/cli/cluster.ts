import cluster, { type Worker } from 'node:cluster';
import { ConfigError } from '../gateway/index.js';

/**
 * `zhifu start --processes N`: N gateway processes sharing one listening port (node:cluster), one
 * database, and through it the workers' leases and the rate limit. The primary serves nothing
 * itself: it forks the gateways, restarts one that dies, forwards SIGTERM/SIGINT for a graceful
 * stop, and gives up (exit 1) when they keep dying. Anything the gateways share that is not in the
 * database (the embedded sandbox's endpoint) reaches them as environment variables.
 */

export const PROCESSES_MAX = 64;
/** A gateway that dies this many times within CRASH_WINDOW_MS is crash-looping: restarting it again would only hide it. */
const CRASHES_MAX = 5;
const CRASH_WINDOW_MS = 60_000;
/** How long a graceful stop may take before the remaining gateways are killed. */
const STOP_TIMEOUT_MS = 30_000;

/**
 * The number of gateway processes from `--processes` or else ZHIFU_PROCESSES: a whole number
 * 1–64, default 1. The message names where the bad value came from.
 */
export function parseProcessCount(option: string | undefined, env: string | undefined): number {
  const [raw, source] = option !== undefined ? [option, '--processes'] : [env, 'ZHIFU_PROCESSES'];
  const value = raw?.trim();
  if (value === undefined || value === '') return 1;
  if (!/^\d{1,2}$/.test(value) || Number(value) < 1 || Number(value) > PROCESSES_MAX) {
    throw new ConfigError(`${source} must be a whole number of gateway processes from 1 to ${PROCESSES_MAX}, got "${value}"`);
  }
  return Number(value);
}

/** True in a gateway process forked by `runClusterPrimary` whose start banner is to be printed (the first one only). */
export function printsStartBanner(): boolean {
  return !cluster.isWorker || process.env.ZHIFU_CLUSTER_BANNER === '1';
}

export interface ClusterOptions {
  processes: number;
  /** Added to every gateway's environment. */
  env: Record<string, string>;
  /** Runs after the gateways have stopped, before the primary exits (e.g. closing the sandbox). */
  afterStop?: () => Promise<void>;
}

/**
 * Forks the gateways and supervises them until a signal stops them (exit 0) or they crash-loop
 * (exit 1). The first gateway starts alone: it migrates the database and creates the default
 * account (printing its keys, once) before the others start on the same schema.
 */
export async function runClusterPrimary(options: ClusterOptions): Promise<never> {
  // Each gateway runs this same script with the same arguments (node:cluster's default): `zhifu start`,
  // which in a forked process starts one gateway.
  let stopping = false;
  const crashes: number[] = [];
  const fork = (banner: boolean): Worker => cluster.fork({ ...options.env, ZHIFU_CLUSTER_BANNER: banner ? '1' : '0' });

  const exit = (code: number): never => process.exit(code);
  const finish = async (code: number): Promise<never> => {
    await options.afterStop?.().catch((error: unknown) => console.error(error));
    return exit(code);
  };
  const stopAll = (signal: NodeJS.Signals, code: number) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    console.log(`${signal}: stopping ${workers.length} gateway processes`);
    const killer = setTimeout(() => {
      for (const w of workers) if (!w.isDead()) w.process.kill('SIGKILL');
    }, STOP_TIMEOUT_MS);
    killer.unref();
    let failed = false;
    void Promise.all(workers.map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', (exitCode) => {
        if (exitCode !== 0) failed = true;
        resolve();
      });
      // Always SIGTERM: a Ctrl-C reaches the gateways by itself too (same process group), and a
      // second SIGINT would kill a gateway whose SIGINT handler already ran.
      w.process.kill('SIGTERM');
    }))).then(() => finish(failed ? 1 : code));
  };

  process.once('SIGINT', () => stopAll('SIGINT', 0));
  process.once('SIGTERM', () => stopAll('SIGTERM', 0));
  let address: string;
  try {
    address = await listening(fork(true));
    for (let i = 1; i < options.processes; i += 1) await listening(fork(false));
  } catch (error) {
    // Stopped by a signal while starting: stopAll is already waiting for the others.
    if (stopping) return new Promise<never>(() => undefined);
    console.error(`zhifu: ${(error as Error).message}; not starting the others`);
    for (const other of Object.values(cluster.workers ?? {})) other?.process.kill('SIGTERM');
    return finish(error instanceof GatewayStartError ? error.exitCode : 1);
  }
  console.log(`Zhifu cluster: ${options.processes} gateway processes listening on ${address} (primary pid ${process.pid})`);

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    const now = Date.now();
    crashes.push(now);
    while (crashes.length > 0 && (crashes[0] as number) < now - CRASH_WINDOW_MS) crashes.shift();
    console.error(`gateway process ${worker.process.pid} exited (${signal ?? code})`);
    if (crashes.length >= CRASHES_MAX) {
      console.error(`gateway processes exited ${crashes.length} times within ${CRASH_WINDOW_MS / 1000} s: crash loop, stopping`);
      stopAll('SIGTERM', 1);
      return;
    }
    console.error('starting a replacement gateway process');
    fork(false);
  });
  return new Promise<never>(() => undefined);
}

class GatewayStartError extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
  }
}

/** Resolves with the address a gateway listens on; rejects if it dies first (its start error is already printed by it). */
function listening(worker: Worker): Promise<string> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) => {
      reject(new GatewayStartError(typeof code === 'number' && code !== 0 ? code : 1, `a gateway process exited while starting (${signal ?? code})`));
    };
    worker.once('exit', onExit);
    worker.once('listening', (address) => {
      worker.off('exit', onExit);
      const host = address.address === null || address.address === undefined ? '127.0.0.1' : address.address;
      resolve(`http://${host}:${address.port}`);
    });
  });
}
