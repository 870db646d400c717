import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { requestLogRow } from '../core/request_logs.js';
import type { CapturedRequest, RequestLogSink } from '../core/request_logs.js';
import { inTransaction } from '../store/database.js';
import type { Database } from '../store/database.js';
import { deleteRequestLogsBefore, insertRequestLogs } from '../store/request_logs.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface RequestLogWriterOptions {
  /** Rows older than this many days are deleted. */
  retentionDays: number;
  /** Captured requests held in memory at most; beyond it new ones are dropped and counted. */
  capacity?: number;
  /** A batch is written at least this often (ms)… */
  flushIntervalMs?: number;
  /** …or as soon as this many rows wait. */
  batchSize?: number;
  /** Retention runs at most this often (ms of the clock). */
  pruneIntervalMs?: number;
  /** Rows one retention DELETE removes; a run repeats it at most `pruneBatchesMax` times. */
  pruneBatch?: number;
  pruneBatchesMax?: number;
}

export const REQUEST_LOG_CAPACITY_DEFAULT = 10_000;
export const REQUEST_LOG_FLUSH_MS_DEFAULT = 250;
/**
 * 50 rows: a captured request holds its response text until written, and at 6,000 requests/s a
 * batch of 200 waited long enough (~35 ms) for most of them to outlive the young generation; the
 * old generation then grew by ~10 MB/s of dead responses between full collections (the create
 * run's peak memory, up to 253 MB).
 */
export const REQUEST_LOG_BATCH_DEFAULT = 50;
export const REQUEST_LOG_PRUNE_MS_DEFAULT = 5 * 60 * 1000;

/**
 * Writes request logs off the hot path: the HTTP hook `enqueue`s into a bounded in-memory buffer
 * (never waits, never grows past `capacity`: an overflow is dropped, counted and logged), and
 * this writer inserts batches with one multi-row INSERT each, every `flushIntervalMs` or when
 * `batchSize` rows wait, in a transaction of their own (on SQLite one that shares the COMMIT of
 * the requests' transactions running with it: store/transaction_batch.ts). `close` writes what is
 * left. A crash loses at most the unflushed buffer (≤ one interval of traffic): logs are
 * diagnostics, never the record of a payment.
 */
export class RequestLogWriter implements RequestLogSink {
  private buffer: CapturedRequest[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private lastPruneAt: number | null = null;
  private droppedSinceWarning = 0;
  private closed = false;
  /** Requests dropped because the buffer was full (since start). */
  dropped = 0;
  /** Rows written (since start). */
  written = 0;
  readonly capacity: number;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private readonly pruneIntervalMs: number;
  private readonly pruneBatch: number;
  private readonly pruneBatchesMax: number;

  constructor(
    private readonly deps: { database: Database; clock: Clock; logger: Logger },
    private readonly options: RequestLogWriterOptions,
  ) {
    this.capacity = options.capacity ?? REQUEST_LOG_CAPACITY_DEFAULT;
    this.flushIntervalMs = options.flushIntervalMs ?? REQUEST_LOG_FLUSH_MS_DEFAULT;
    this.batchSize = options.batchSize ?? REQUEST_LOG_BATCH_DEFAULT;
    this.pruneIntervalMs = options.pruneIntervalMs ?? REQUEST_LOG_PRUNE_MS_DEFAULT;
    this.pruneBatch = options.pruneBatch ?? 1000;
    this.pruneBatchesMax = options.pruneBatchesMax ?? 20;
  }

  /** Constant time and never throws: the request that called it is already answered. */
  enqueue(entry: CapturedRequest): void {
    if (this.closed || this.buffer.length >= this.capacity) {
      this.dropped += 1;
      this.droppedSinceWarning += 1;
      return;
    }
    this.buffer.push(entry);
    if (this.buffer.length >= this.batchSize && this.flushing === null && this.timer !== null) {
      // A full batch goes now rather than waiting for the tick (never inline: this is the request's turn).
      setImmediate(() => void this.flush());
    }
  }

  get pending(): number {
    return this.buffer.length;
  }

  start(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => void this.tick(), this.flushIntervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    await this.flush();
    const now = this.deps.clock.now();
    if (this.lastPruneAt === null || now - this.lastPruneAt >= this.pruneIntervalMs) await this.prune();
  }

  /** Writes everything buffered now, in batches; resolves when done. Failures are logged, not thrown. */
  async flush(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
    if (this.buffer.length === 0) return this.warnDrops();
    this.flushing = this.writeAll().finally(() => {
      this.flushing = null;
    });
    await this.flushing;
  }

  private async writeAll(): Promise<void> {
    this.warnDrops();
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.batchSize);
      try {
        const rows = batch.map(requestLogRow);
        await inTransaction(this.deps.database, (tx) => insertRequestLogs(tx, rows));
        this.written += batch.length;
      } catch (error) {
        // Dropped, not retried: a database that refuses logs must not make the buffer pile up.
        this.dropped += batch.length;
        this.deps.logger.error({ err: error, rows: batch.length }, 'request logs: a batch could not be written and was dropped');
      }
    }
  }

  private warnDrops(): void {
    if (this.droppedSinceWarning === 0) return;
    this.deps.logger.warn({ dropped: this.droppedSinceWarning, dropped_total: this.dropped, capacity: this.capacity }, 'request logs: buffer full, requests were not logged');
    this.droppedSinceWarning = 0;
  }

  /** Deletes rows older than the retention, in small batches; returns how many went. */
  async prune(): Promise<number> {
    this.lastPruneAt = this.deps.clock.now();
    const cutoff = this.lastPruneAt - this.options.retentionDays * DAY_MS;
    let deleted = 0;
    try {
      for (let i = 0; i < this.pruneBatchesMax; i += 1) {
        const n = await deleteRequestLogsBefore(this.deps.database.db, cutoff, this.pruneBatch);
        deleted += n;
        if (n < this.pruneBatch) break;
      }
    } catch (error) {
      this.deps.logger.error({ err: error }, 'request logs: retention could not delete old rows');
    }
    return deleted;
  }

  /**
   * Stops the timer and takes no more requests, writing nothing: the server stopped (on its way
   * to `close`, or killed, when no timer may touch a database about to be closed).
   */
  halt(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.closed = true;
  }

  /** Stops the timer and writes what is buffered; later requests are dropped (counted). */
  async close(): Promise<void> {
    this.halt();
    await this.flush();
  }
}
