import type { SandboxDatabase } from './database.js';

/**
 * When the sandbox's commits are on disk. Two ways, chosen by whoever starts the sandbox:
 * - per commit (the default): `synchronous = FULL` fsyncs the WAL inside every COMMIT, so a
 *   commit is durable when it returns and `durable()` has nothing to wait for;
 * - group commit (`zhifu sandbox`, hence `npm start`): commits run with `synchronous = NORMAL`
 *   and one fsync of the WAL, off the event loop, covers every commit made before it started —
 *   the host supplies it (the CLI gives the gateway's WalGroupCommit; the sandbox shares nothing
 *   with the gateway itself). Each payment cost the sandbox three fsyncs inside COMMIT, each
 *   blocking its loop for a disk flush; now commits of many payments share one.
 * Either way nothing leaves the process before it is durable: every HTTP answer (an `onSend`
 * hook) and every outbound notification first awaits `durable()`.
 */
export interface SandboxDurability {
  /** Resolves once everything committed before this call is on disk; rejects once an fsync failed. */
  durable(): Promise<void>;
  /** A last barrier (group commit), before the database is closed. */
  close(): Promise<void>;
}

/** What a group commit needs: `writtenSince()` says whether anything may have been written since its previous call. */
export type GroupCommitFactory = (databaseFile: string, writtenSince: () => boolean) => SandboxDurability;

const RESOLVED: Promise<void> = Promise.resolve();

/** Per-commit fsync: every commit is durable once it returns. */
export const commitEachDurability: SandboxDurability = { durable: () => RESOLVED, close: async () => {} };

/**
 * Switches the open database to group commit. Called after migrating (migrations still commit
 * with FULL), before the first request.
 */
export function groupCommitDurability(db: SandboxDatabase, databaseFile: string, groupCommit: GroupCommitFactory): SandboxDurability {
  db.pragma('synchronous = NORMAL');
  return groupCommit(databaseFile, writeProbe(db));
}

/**
 * Whether anything was written since the previous probe: a row changed on this connection
 * (total_changes counts every INSERT, UPDATE and DELETE, rolled back or not: at worst a needless
 * fsync, never a missed one), or another connection committed to the file (data_version changes).
 */
function writeProbe(db: SandboxDatabase): () => boolean {
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  const dataVersion = db.prepare('PRAGMA data_version').pluck();
  let seenChanges = totalChanges.get() as number;
  let seenVersion = dataVersion.get() as number;
  return () => {
    const changes = totalChanges.get() as number;
    const version = dataVersion.get() as number;
    const written = changes !== seenChanges || version !== seenVersion;
    seenChanges = changes;
    seenVersion = version;
    return written;
  };
}
