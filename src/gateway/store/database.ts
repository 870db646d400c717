import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteDialect, SqliteDriver, sql } from 'kysely';
import type { DatabaseConnection, Driver, SqliteDatabase, Transaction } from 'kysely';
import pg from 'pg';
import { databaseKind } from '../config.js';
import { WalGroupCommit } from './durability.js';
import type { WalSyncIo } from './durability.js';
import { WalCheckpointer } from './wal_checkpointer.js';
import { SqliteTransactionBatch } from './transaction_batch.js';
import { CurrentSchemaPostgresDialect } from './pg_introspector.js';
import type { Executor, Tables } from './schema.js';

export type DatabaseKind = 'sqlite' | 'postgres';

/** An open store: the Kysely instance plus what differs between the two databases. */
export interface Database {
  kind: DatabaseKind;
  db: Kysely<Tables>;
  close(): Promise<void>;
  /**
   * The durability barrier: resolves once every commit made before the call is on disk. Every
   * response and every outbound call (Alipay+, webhooks) awaits it first, so nothing leaves the
   * process that a power loss could take back. SQLite with group commit: a shared fsync of the
   * WAL (durability.ts); PostgreSQL and per-commit SQLite: already true at commit, resolves at once.
   */
  durable(): Promise<void>;
  /** PostgreSQL only: the pool's connection counts, read by the metrics at scrape time. */
  pool?: { readonly totalCount: number; readonly idleCount: number; readonly waitingCount: number };
  /**
   * Test-only (the seeded simulation, sim/): awaited after each `inTransaction` commits, so a
   * simulated crash can stop a request between any two of its transactions. Never set in production.
   */
  afterCommit?: () => Promise<void>;
  /** SQLite only: concurrent `inTransaction` works share one transaction (transaction_batch.ts). */
  batch?: SqliteTransactionBatch;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL only: the schema to use (tests give each server its own). */
  searchPath?: string;
  /** PostgreSQL only: pool size. */
  poolMax?: number;
  /**
   * SQLite only: `group` (default) fsyncs the WAL off the event loop, once for every commit made
   * meanwhile, behind `durable()`; `each` fsyncs inside every COMMIT (synchronous = FULL) — for
   * short-lived processes (the CLI) that print their result without awaiting the barrier.
   */
  sqliteCommitSync?: 'group' | 'each';
  /** Test-only: the file operations of the group commit (an fsync to hold or fail). */
  walSyncIo?: WalSyncIo;
  /** Test-only: the WAL length that makes the checkpoint thread restart it (wal_checkpointer.ts). */
  walRestartFrames?: number;
}

const SQLITE_BUSY_TIMEOUT_MS = 5_000;
/** SQLite's default automatic checkpoint, restored if the checkpoint worker fails. */
const SQLITE_AUTOCHECKPOINT_PAGES = 1_000;
const PG_POOL_MAX = 10;
const PG_INT8_OID = 20;

/** Opens `sqlite:<path>` or `postgres://…`; does not migrate (see `migrate`). */
export function openDatabase(url: string, options: OpenDatabaseOptions = {}): Database {
  return databaseKind(url) === 'sqlite' ? openSqlite(url.slice('sqlite:'.length), options) : openPostgres(url, options);
}

/**
 * SQLite transactions start with BEGIN IMMEDIATE: the write lock is taken up front, so a
 * transaction that reads then writes never fails to upgrade its lock when another process
 * (the CLI, a second gateway) holds the file. Within one process Kysely's SQLite driver already
 * serializes every use of its single connection behind a mutex, so two transactions never
 * interleave their statements.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

function openSqlite(file: string, options: OpenDatabaseOptions): Database {
  const inMemory = file === ':memory:';
  if (!inMemory) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const connection = new BetterSqlite3(file);
  connection.pragma('journal_mode = WAL');
  const groupCommit = !inMemory && (options.sqliteCommitSync ?? 'group') === 'group';
  // A committed payment survives power loss, not only a process crash: FULL fsyncs the WAL in
  // every COMMIT; with group commit NORMAL writes it and the barrier fsyncs it before anyone is told.
  connection.pragma(groupCommit ? 'synchronous = NORMAL' : 'synchronous = FULL');
  connection.pragma('foreign_keys = ON');
  connection.pragma('temp_store = MEMORY');
  connection.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  const cache = withStatementCache(connection);
  const db = new Kysely<Tables>({ dialect: new ImmediateSqliteDialect({ database: cache.database }) });
  const batch = new SqliteTransactionBatch(db, {
    command: (text) => void cache.database.prepare(text).run([]),
    execute(text, parameters) {
      // As Kysely's SQLite driver runs it, through the same statement cache (which counts writes).
      const statement = cache.database.prepare(text) as unknown as BetterSqlite3.Statement;
      if (statement.reader) return { rows: statement.all(parameters) };
      const { changes, lastInsertRowid } = statement.run(parameters);
      return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
    },
  });
  if (!groupCommit) return { kind: 'sqlite', db, batch, durable: () => RESOLVED, close: () => db.destroy() };
  const barrier = new WalGroupCommit(path.resolve(file), writeProbe(connection, cache), options.walSyncIo);
  // Checkpoints (a copy and two fsyncs every ~1,000 pages) move to a worker thread (wal_checkpointer.ts);
  // should it fail, the commits checkpoint themselves again as SQLite does by default.
  connection.pragma('wal_autocheckpoint = 0');
  const checkpointer = new WalCheckpointer(path.resolve(file), () => {
    if (connection.open) connection.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_PAGES}`);
  }, options.walRestartFrames === undefined ? {} : { restartFrames: options.walRestartFrames });
  return {
    kind: 'sqlite',
    db,
    batch,
    durable: () => barrier.durable(),
    close: async () => {
      // Kysely's mutex lets the last transaction finish first; the barrier then covers it.
      try {
        await barrier.close();
      } finally {
        // The checkpointer goes first, so the writer's connection is the last: it checkpoints
        // everything and removes the WAL as it closes, as before.
        try {
          await checkpointer.close();
        } finally {
          await db.destroy();
        }
      }
    },
  };
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Whether anything was written since the previous probe: a statement that may write ran on this
 * connection (BEGIN and COMMIT count: a read-only transaction costs a needless fsync, never a
 * missed one), or another connection committed (PRAGMA data_version changes) — what this process
 * read from it must be durable before it is answered.
 */
function writeProbe(connection: BetterSqlite3.Database, cache: { writes(): number }): () => boolean {
  const dataVersion = connection.prepare('pragma data_version').pluck();
  let seenWrites = cache.writes();
  let seenVersion = dataVersion.get() as number;
  return () => {
    const writes = cache.writes();
    const version = dataVersion.get() as number;
    const written = writes !== seenWrites || version !== seenVersion;
    seenWrites = writes;
    seenVersion = version;
    return written;
  };
}

/** Distinct SQL texts kept prepared; `IN (…)` lists of other lengths are the only source of variety. */
const SQLITE_STATEMENTS_CACHED_MAX = 512;

/**
 * Kysely prepares every query afresh; the hot paths run the same few dozen SQL texts, so they are
 * prepared once and reused. Safe because the driver runs one statement at a time to completion.
 * Counts the statements that may write, for the group commit's probe.
 */
function withStatementCache(connection: BetterSqlite3.Database): { database: SqliteDatabase; writes(): number } {
  const statements = new Map<string, BetterSqlite3.Statement>();
  let writes = 0;
  const database: SqliteDatabase = {
    close: () => connection.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = connection.prepare(text);
        if (statements.size >= SQLITE_STATEMENTS_CACHED_MAX) statements.delete(statements.keys().next().value as string);
        statements.set(text, statement);
      }
      // Prepared to be run (the driver runs every statement it prepares). `readonly` is SQLite's own
      // verdict (an INSERT … RETURNING is a reader yet writes); a non-reader (BEGIN, COMMIT) counts too.
      if (!statement.readonly || !statement.reader) writes++;
      return statement;
    },
  };
  return { database, writes: () => writes };
}

function openPostgres(url: string, options: OpenDatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.poolMax ?? PG_POOL_MAX,
    ...(options.searchPath === undefined ? {} : { options: `-c search_path=${options.searchPath}` }),
    types: { getTypeParser: pgTypeParser as typeof pg.types.getTypeParser },
  });
  const db = new Kysely<Tables>({ dialect: new CurrentSchemaPostgresDialect({ pool }) });
  // A commit returns once PostgreSQL has flushed it (and group-commits across connections itself).
  return { kind: 'postgres', db, pool, durable: () => RESOLVED, close: () => db.destroy() };
}

/** bigint columns (money, timestamps) come back as JS numbers; larger values are refused loudly. */
function pgTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
  if (oid === PG_INT8_OID && format !== 'binary') {
    return (text: string) => {
      const value = Number(text);
      if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} exceeds 2^53-1`);
      return value;
    };
  }
  return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
}

/**
 * Runs `work` in one transaction: everything it writes commits together or not at all.
 * Never call the network inside `work` (DESIGN.md: record the attempt, commit, then call).
 */
export async function inTransaction<T>(database: Database, work: (tx: Transaction<Tables>) => Promise<T>): Promise<T> {
  const result = database.batch === undefined ? await database.db.transaction().execute(work) : await database.batch.run(work);
  if (database.afterCommit !== undefined) await database.afterCommit();
  return result;
}

/**
 * A read on its own, outside the caller's transactions. On SQLite it joins the batch of
 * transactions in progress (or starts one): an autocommit read opens a read transaction of its
 * own, whose WAL locks cost more than a lookup by key, and in the batch it shares the batch's.
 * Like any work of a batch, its result arrives after the batch's COMMIT, so it never reports a
 * row that then fails to commit. PostgreSQL: the read itself, on the pool.
 */
export function readOnce<T>(database: Database, read: (ex: Executor) => Promise<T>): Promise<T> {
  return database.batch === undefined ? read(database.db) : database.batch.run(read);
}

/** Whether the database answers a trivial query (for `/readyz`). */
export async function isReachable(database: Database): Promise<boolean> {
  try {
    await sql`select 1`.execute(database.db);
    return true;
  } catch {
    return false;
  }
}

/** Unique-constraint violations on either database (used to detect lost insert races). */
export function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
