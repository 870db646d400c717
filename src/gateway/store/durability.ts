import fs from 'node:fs';
import path from 'node:path';

/**
 * Group commit for the gateway's SQLite file: commits run with `synchronous = NORMAL` (each commit
 * is written to the `-wal` file but not fsync'd) and ONE asynchronous fsync of the WAL, on libuv's
 * thread pool, makes every commit written before it started durable. `durable()` is the barrier:
 * it resolves once an fsync that started after the call has completed (or at once when nothing
 * was written since the last fsync started), so every response and every outbound call awaits it
 * and nothing leaves the process that a power loss could take back.
 *
 * Why this is as safe as `synchronous = FULL` (which fsyncs the WAL inside every COMMIT):
 * - FULL adds exactly one thing to NORMAL in WAL mode: the WAL fsync at commit. fsync is per
 *   file (inode), not per writer, so one later fsync of the same file covers every frame written
 *   before it started — ours, and those of other connections or processes on the same file.
 * - Checkpoints (run by a second connection on a worker thread, wal_checkpointer.ts): SQLite
 *   fsyncs the WAL before copying frames into the database file and fsyncs the database file
 *   after; a restarted WAL (overwritten from its start) is covered by the next barrier like any
 *   other write, and until then the previous frames are already in the synced database file.
 * - WAL file identity: the `-wal` file is created lazily and deleted only when the last
 *   connection closes (after a full, synced checkpoint), so an absent file holds nothing to sync.
 *   While this process's connection is open no other can delete it (that takes an exclusive lock
 *   on the database), so once opened its descriptor stays right; the path is still stat'ed again
 *   at most once a second (not per fsync: the stat is a thread-pool round trip too), and a
 *   different inode is re-opened. A newly opened WAL's directory is fsync'd once, so its entry
 *   survives a power loss too (SQLite does this itself only when it syncs the file).
 * - Several processes on one file (the CLI opens it with per-commit fsync): a foreign commit is
 *   noticed through `PRAGMA data_version`, so a barrier here also covers what this process may
 *   have read from it.
 * - kill -9: the page cache belongs to the kernel and survives the process; a commit is as
 *   recoverable as before. Only power loss or a kernel crash can lose a commit whose barrier has
 *   not passed — and no one was told of it.
 * - An fsync that fails leaves the kernel free to drop the pages it could not write, so no later
 *   fsync can vouch for them: the barrier stays failed, and every later response is an error.
 */
export interface WalSyncIo {
  /** Inode of `file`, or null when it does not exist. */
  inodeOf(file: string): Promise<number | null>;
  open(file: string): Promise<{ fd: number; inode: number } | null>;
  fsync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
  /** fsync of a directory, so a file created in it stays named there after a power loss. */
  syncDirectory(directory: string): Promise<void>;
}

/** The real file system, every call on libuv's thread pool. */
export const nodeWalSyncIo: WalSyncIo = {
  inodeOf: (file) => new Promise((resolve, reject) => {
    fs.stat(file, (error, stats) => {
      if (error === null) resolve(stats.ino);
      else if (error.code === 'ENOENT') resolve(null);
      else reject(error);
    });
  }),
  open: (file) => new Promise((resolve, reject) => {
    // Read-write (never written): fsync through a read-only descriptor is not portable.
    fs.open(file, fs.constants.O_RDWR, (error, fd) => {
      if (error !== null) {
        if (error.code === 'ENOENT') resolve(null);
        else reject(error);
        return;
      }
      fs.fstat(fd, (statError, stats) => {
        if (statError === null) resolve({ fd, inode: stats.ino });
        else fs.close(fd, () => reject(statError));
      });
    });
  }),
  fsync: (fd) => new Promise((resolve, reject) => fs.fsync(fd, (error) => (error === null ? resolve() : reject(error)))),
  close: (fd) => new Promise((resolve, reject) => fs.close(fd, (error) => (error === null ? resolve() : reject(error)))),
  syncDirectory: (directory) => new Promise((resolve, reject) => {
    fs.open(directory, fs.constants.O_RDONLY, (error, fd) => {
      if (error !== null) return reject(error);
      fs.fsync(fd, (syncError) => fs.close(fd, () => (syncError === null ? resolve() : reject(syncError))));
    });
  }),
};

/** Whether anything may have been written since the previous call (cheap; called per barrier). */
export type WriteProbe = () => boolean;

export class WalGroupCommit {
  readonly #walFile: string;
  readonly #probe: WriteProbe;
  readonly #io: WalSyncIo;
  #wal: { fd: number; inode: number } | null = null;
  /** The fsync in flight, if any. */
  #running: Promise<void> | null = null;
  /** The fsync that starts when the running one ends: every caller arriving meanwhile shares it. */
  #next: Promise<void> | null = null;
  #failure: Error | null = null;
  #closed = false;
  /** When the WAL's path was last compared with the open descriptor (ms, monotonic). */
  #identityCheckedAt = -Infinity;

  /** @param databaseFile the SQLite file; its WAL is `<file>-wal`. */
  readonly #identityCheckIntervalMs: number;

  constructor(databaseFile: string, probe: WriteProbe, io: WalSyncIo = nodeWalSyncIo, options: { identityCheckIntervalMs?: number } = {}) {
    this.#identityCheckIntervalMs = options.identityCheckIntervalMs ?? IDENTITY_CHECK_INTERVAL_MS;
    this.#walFile = `${databaseFile}-wal`;
    this.#probe = probe;
    this.#io = io;
  }

  /** Resolves once everything committed before this call is on disk. */
  durable(): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    // Closed: the last barrier covered everything, and nothing can be written any more.
    if (this.#closed) return RESOLVED;
    if (!this.#probe()) {
      // Nothing new: but what was read may be commits whose fsync is still to come or in flight.
      return this.#next ?? this.#running ?? RESOLVED;
    }
    if (this.#running === null) {
      this.#running = this.#flush();
      return this.#running;
    }
    // One is in flight, but it may have started before the caller's commit: wait for the next.
    this.#next ??= this.#running.then(
      () => this.#startNext(),
      () => this.#startNext(),
    );
    return this.#next;
  }

  /** A last barrier, then the WAL's descriptor is closed. */
  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.durable();
    } finally {
      this.#closed = true;
      this.#next = null;
      const wal = this.#wal;
      this.#wal = null;
      if (wal !== null) await this.#io.close(wal.fd);
    }
  }

  #startNext(): Promise<void> {
    this.#next = null;
    // Written since the running fsync started, hence not covered by it: probed again at its start.
    this.#probe();
    this.#running = this.#flush();
    return this.#running;
  }

  async #flush(): Promise<void> {
    try {
      const wal = await this.#openedWal();
      if (wal !== null) await this.#io.fsync(wal.fd);
    } catch (error) {
      this.#failure = error instanceof Error ? error : new Error(String(error));
      throw this.#failure;
    } finally {
      this.#running = null;
    }
  }

  /** The WAL's descriptor, re-opened when the path names another file; null when there is none. */
  async #openedWal(): Promise<{ fd: number; inode: number } | null> {
    const now = performance.now();
    if (this.#wal !== null && now - this.#identityCheckedAt < this.#identityCheckIntervalMs) return this.#wal;
    this.#identityCheckedAt = now;
    const inode = await this.#io.inodeOf(this.#walFile);
    if (this.#wal !== null && this.#wal.inode === inode) return this.#wal;
    if (this.#wal !== null) {
      await this.#io.close(this.#wal.fd);
      this.#wal = null;
    }
    // No WAL: it was checkpointed in full (and synced) when the last connection closed.
    if (inode === null || this.#closed) return null;
    const opened = await this.#io.open(this.#walFile);
    if (opened === null) return null;
    this.#wal = opened;
    // Its name in the directory must survive too; done before the first fsync through it returns.
    await this.#io.syncDirectory(path.dirname(this.#walFile));
    return opened;
  }
}

const RESOLVED: Promise<void> = Promise.resolve();
/** How often an open WAL descriptor is checked against the path (see "WAL file identity"). */
const IDENTITY_CHECK_INTERVAL_MS = 1_000;
