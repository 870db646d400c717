import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Sandbox } from '../sandbox/server.js';

/**
 * The embedded sandbox in its own process, started and stopped with the gateway (issue 13): it gets
 * its own event loop (it took ≥ 31 % of the gateway's when they shared one) and a crash of either
 * side leaves the other running. The child is `zhifu sandbox` itself, with an IPC channel to the
 * parent: it reports `listening` once it accepts connections, answers `stats`, and exits when the
 * channel closes — which the kernel does when the parent dies, even by kill -9, so no orphan stays.
 */

/** What the gateway holds of its sandbox, in-process or not. */
export interface SandboxHandle {
  url(): string;
  close(): Promise<void>;
}

/** The child's CPU time and the requests it received, by path (for the benchmark). */
export interface SandboxProcessStats {
  cpuMs: number;
  calls: Record<string, number>;
}

export interface SandboxProcessHandle extends SandboxHandle {
  pid: number;
  stats(): Promise<SandboxProcessStats>;
}

type ParentMessage = { type: 'stats' };
type ChildMessage = { type: 'listening'; url: string } | ({ type: 'stats' } & SandboxProcessStats);

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

/** The `zhifu sandbox` options the child is started with (the same shape as the command's). */
export interface SandboxProcessOptions {
  port: number;
  host: string;
  dataDir: string;
  publicUrl?: string;
  database?: string;
  clientId: string;
  client: string[];
}

export interface SpawnSandboxOptions {
  /** `inherit`: the sandbox's log lines go to the gateway's stdout/stderr; `ignore`: dropped. */
  stdio?: 'inherit' | 'ignore';
  /** Environment of the child (default: the gateway's), e.g. ZHIFU_LOG_LEVEL. */
  env?: NodeJS.ProcessEnv;
}

/** Starts `zhifu sandbox` as a child process and resolves once it listens. */
export function spawnSandboxProcess(options: SandboxProcessOptions, spawnOptions: SpawnSandboxOptions = {}): Promise<SandboxProcessHandle> {
  const args = ['sandbox', '--port', String(options.port), '--host', options.host, '--data-dir', options.dataDir, '--client-id', options.clientId];
  if (options.publicUrl) args.push('--public-url', options.publicUrl);
  if (options.database) args.push('--database', options.database);
  for (const client of options.client) args.push('--client', client);
  const io = spawnOptions.stdio ?? 'inherit';
  // No inherited execArgv: a gateway run under --inspect must not make the child fight for its port.
  const child = fork(MAIN, args, { stdio: [ 'ignore', io, io, 'ipc' ], execArgv: [], env: spawnOptions.env ?? process.env });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the Alipay+ sandbox process did not listen within ${STARTUP_TIMEOUT_MS} ms`));
    }, STARTUP_TIMEOUT_MS);
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      reject(new Error(`the Alipay+ sandbox process exited before listening (${signal ?? `code ${code}`})`));
    };
    child.once('exit', onEarlyExit);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    const onListening = (message: ChildMessage) => {
      if (message.type !== 'listening') return;
      child.off('message', onListening);
      child.off('exit', onEarlyExit);
      clearTimeout(timer);
      resolve(processHandle(child, message.url));
    };
    child.on('message', onListening);
  });
}

function processHandle(child: ChildProcess, url: string): SandboxProcessHandle {
  let stopping = false;
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  child.once('exit', (code, signal) => {
    // The gateway keeps serving (live mode, lookups); test-mode payments fail until a restart.
    // A clean exit 0 is a Ctrl-C reaching both processes: the child said so itself.
    if (!stopping && (code !== 0 || signal !== null)) console.error(`Alipay+ sandbox process ${child.pid} exited unexpectedly (${signal ?? `code ${code}`})`);
  });
  return {
    pid: child.pid as number,
    url: () => url,
    stats: () =>
      new Promise((resolve, reject) => {
        const onMessage = (message: ChildMessage) => {
          if (message.type !== 'stats') return;
          child.off('message', onMessage);
          resolve({ cpuMs: message.cpuMs, calls: message.calls });
        };
        child.on('message', onMessage);
        child.send({ type: 'stats' } satisfies ParentMessage, (error) => {
          if (!error) return;
          child.off('message', onMessage);
          reject(error);
        });
      }),
    async close() {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      // SIGTERM lets it finish in-flight notifications and close its database, as `zhifu sandbox` does.
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** True when this process is a sandbox started by `spawnSandboxProcess` (it has an IPC channel). */
export function startedByGateway(): boolean {
  return typeof process.send === 'function';
}

/**
 * The child's side: counts requests by path (a hook, so before `listen`), then, once listening,
 * tells the parent, answers its `stats` and exits when the parent is gone.
 */
export function serveGatewayParent(sandbox: Sandbox): { listening(url: string): void } {
  const calls: Record<string, number> = {};
  sandbox.app.addHook('onRequest', async (request) => {
    const path = request.url.split('?')[0] ?? '';
    calls[path] = (calls[path] ?? 0) + 1;
  });
  return {
    listening(url) {
      process.on('message', (message: ParentMessage) => {
        if (message.type !== 'stats') return;
        const usage = process.cpuUsage();
        process.send?.({ type: 'stats', cpuMs: (usage.user + usage.system) / 1000, calls: { ...calls } } satisfies ChildMessage);
      });
      // The channel closes when the parent exits for any reason, kill -9 included.
      process.once('disconnect', () => {
        const force = setTimeout(() => process.exit(1), STOP_TIMEOUT_MS);
        force.unref();
        sandbox.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      });
      process.send?.({ type: 'listening', url } satisfies ChildMessage);
    },
  };
}
