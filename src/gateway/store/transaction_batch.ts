import type { ControlledTransaction, Kysely, Transaction } from 'kysely';
import { runPrecompiledDirectly } from './precompiled.js';
import { forgetWork } from './transaction_memo.js';
import type { DirectStatements } from './precompiled.js';
import type { Tables } from './schema.js';

/**
 * Most works in one SQLite transaction each would each pay a BEGIN IMMEDIATE and a COMMIT, and a
 * COMMIT appends every page the work dirtied to the WAL (a table leaf and a leaf of each index,
 * 4 KiB each): a quarter of a durable create's CPU. The works queued while one runs (SQLite runs one
 * at a time anyway) share one transaction instead, each inside its own SAVEPOINT: a work that
 * throws is rolled back to its savepoint alone, the others keep their writes, and the pages the
 * works share (the rightmost leaves of the same tables and indexes) reach the WAL once.
 *
 * What a caller sees does not change: `run` settles only after the COMMIT that holds the work, so
 * a resolved work is committed (and, like every commit, made durable by the barrier before anyone
 * is told); a work whose batch fails to commit is rejected with that error, never half-applied.
 * Works still run one after another, never interleaved, exactly as Kysely's connection mutex ran
 * them, so a work reads everything the works before it wrote.
 */
export class SqliteTransactionBatch {
  readonly #db: Kysely<Tables>;
  readonly #connection: BatchConnection;
  readonly #queue: Array<QueuedWork<unknown>> = [];
  #draining = false;

  /**
   * `connection` runs statements on SQLite's connection directly: the batch's transaction holds
   * it, so its savepoints and the works' precompiled statements need no Kysely executor.
   */
  constructor(db: Kysely<Tables>, connection: BatchConnection) {
    this.#db = db;
    this.#connection = connection;
  }

  run<T>(work: (tx: Transaction<Tables>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, resolve, reject } as QueuedWork<unknown>);
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) await this.#runBatch();
    } finally {
      this.#draining = false;
    }
  }

  /** One transaction: the works queued now and those queued while they run, up to the cap. */
  async #runBatch(): Promise<void> {
    let trx: ControlledTransaction<Tables>;
    try {
      trx = await this.#db.startTransaction().execute();
      runPrecompiledDirectly(trx, this.#connection);
    } catch (error) {
      // BEGIN IMMEDIATE failed (the write lock stayed busy past the timeout): every work waiting now
      // would have failed its own BEGIN the same way.
      for (const queued of this.#queue.splice(0)) queued.reject(error);
      return;
    }
    const done: Array<{ queued: QueuedWork<unknown>; value: unknown }> = [];
    try {
      let turns = 0;
      for (let count = 0; count < BATCH_WORKS_MAX; count++) {
        if (this.#queue.length === 0) {
          // A work runs start to end in one turn of the event loop (its statements are synchronous
          // underneath), so the requests that arrived with it have not reached their work yet: give
          // them a turn to join before committing, and another while each turn brings some.
          if (turns === BATCH_TURNS_MAX) break;
          turns++;
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.#queue.length === 0) break;
        }
        const queued = this.#queue.shift() as QueuedWork<unknown>;
        this.#connection.command(`savepoint ${SAVEPOINT}`);
        let value: unknown;
        try {
          value = await queued.work(trx);
        } catch (error) {
          queued.reject(error);
          // ROLLBACK TO keeps the savepoint open; RELEASE closes it. If SQLite already rolled the
          // whole transaction back (an I/O error, a full disk), this throws and the batch fails.
          this.#connection.command(`rollback to ${SAVEPOINT}`);
          this.#connection.command(`release ${SAVEPOINT}`);
          continue;
        } finally {
          // What the work remembered of its transaction (core/events.ts: the endpoints it read) must
          // not reach the next work, which may follow one that changed it.
          forgetWork(trx);
        }
        this.#connection.command(`release ${SAVEPOINT}`);
        done.push({ queued, value });
      }
      await trx.commit().execute();
    } catch (error) {
      try {
        await trx.rollback().execute();
      } catch {
        // Already rolled back by SQLite; the connection is free again either way.
      }
      for (const { queued } of done) queued.reject(error);
      return;
    }
    for (const { queued, value } of done) queued.resolve(value);
  }
}

/** What the batch runs on the connection it holds: its savepoint commands and precompiled statements. */
export interface BatchConnection extends DirectStatements {
  command(text: string): void;
}

interface QueuedWork<T> {
  work: (tx: Transaction<Tables>) => Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

const SAVEPOINT = 'work';

/**
 * At most this many works per transaction: other processes (the CLI, a checkpoint) get the write
 * lock between batches, and a batch's first work waits for at most this many others to commit.
 */
const BATCH_WORKS_MAX = 32;

/** At most this many turns of the event loop are given to works joining a batch (see #runBatch). */
const BATCH_TURNS_MAX = 4;
