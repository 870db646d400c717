import { Worker } from 'node:worker_threads';

/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that
 * crosses 1,000 WAL pages: it copies the pages into the database file and fsyncs both files on
 * the thread that committed — the event loop, blocked for milliseconds every few hundred
 * requests (the create path's p99). Instead the writer's connection runs with
 * `wal_autocheckpoint = 0` and a worker thread with its own connection checkpoints
 * (wal_checkpoint_worker.ts): PASSIVE every `intervalMs` when something was committed, RESTART
 * once the WAL holds `restartFrames` frames, so the WAL stays bounded under continuous writes
 * (its file keeps the largest size it reached, ~128 MiB at most, overwritten from its start).
 *
 * Durability is unchanged (store/durability.ts): a checkpoint only copies committed frames and,
 * with syncs on, fsyncs the WAL before copying and the database file after; a restarted WAL is
 * overwritten by later commits, which the group commit's barrier covers like any other write.
 * A kill -9 at any point leaves a WAL that SQLite recovers as before.
 *
 * If the worker fails, `onFailure` is called once (the owner turns automatic checkpoints back on).
 */
export class WalCheckpointer {
  readonly #worker: Worker;
  #closed: Promise<void> | null = null;
  #failed = false;

  constructor(file: string, onFailure: (reason: string) => void, options: { intervalMs?: number; restartFrames?: number; busyTimeoutMs?: number } = {}) {
    this.#worker = new Worker(new URL('./wal_checkpoint_worker.js', import.meta.url), {
      workerData: {
        file,
        intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS,
        restartFrames: options.restartFrames ?? RESTART_FRAMES,
        busyTimeoutMs: options.busyTimeoutMs ?? 5_000,
      },
    });
    const fail = (reason: string) => {
      if (this.#failed || this.#closed !== null) return;
      this.#failed = true;
      onFailure(reason);
    };
    this.#worker.on('message', (message: { kind: string; message?: string }) => {
      if (message.kind === 'failed') fail(message.message ?? 'checkpoint failed');
    });
    this.#worker.on('error', (error) => fail(error.message));
    this.#worker.on('exit', (code) => fail(`checkpoint worker exited with code ${code}`));
    // A process that forgets to close its database still exits.
    this.#worker.unref();
  }

  /** Closes the worker's connection and ends the thread. */
  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => {
      this.#worker.once('exit', () => resolve());
      // Kept alive until the worker has closed its connection, so the caller's await completes.
      this.#worker.ref();
      this.#worker.postMessage('close');
    });
    return this.#closed;
  }
}

/** How often the worker looks for new commits to copy. */
const CHECKPOINT_INTERVAL_MS = 100;
/**
 * 128 MiB of 4 KiB pages: past it the WAL is restarted (SQLite's own default is 1,000 pages). A
 * RESTART holds the writer for the tail's copy and its fsyncs, ~13 ms under load on the
 * development machine, so it should be rare: at 6,400 durable creates/s (~2.3 pages each, batched)
 * about one every 2.2 s. At 10,000 pages it came every 0.7 s, and those stalls were the create
 * path's p99 (bench/README.md, issue 13's fourth round).
 */
const RESTART_FRAMES = 32_768;
