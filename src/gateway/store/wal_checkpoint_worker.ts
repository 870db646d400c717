import { parentPort, workerData } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';

/**
 * The gateway's WAL checkpoints, on their own thread and connection (see wal_checkpointer.ts):
 * copying WAL frames into the database file and the two fsyncs that go with it never block the
 * event loop that answers requests.
 */
interface CheckpointWorkerData {
  file: string;
  intervalMs: number;
  restartFrames: number;
  busyTimeoutMs: number;
}

const { file, intervalMs, restartFrames, busyTimeoutMs } = workerData as CheckpointWorkerData;
const port = parentPort;
if (port === null) throw new Error('wal_checkpoint_worker runs as a worker thread');

const connection = new BetterSqlite3(file);
// Waiting for the writer is this thread's to do, never the event loop's.
connection.pragma(`busy_timeout = ${busyTimeoutMs}`);
// This connection only checkpoints; its syncs stay as SQLite's default (FULL: WAL synced before
// frames are copied, database file synced after), whatever the writer's connection uses.
connection.pragma('synchronous = FULL');
const dataVersion = connection.prepare('pragma data_version').pluck();
let seenVersion = dataVersion.get() as number;

interface CheckpointResult { busy: number; log: number; checkpointed: number }
const checkpoint = (mode: 'PASSIVE' | 'RESTART') => (connection.pragma(`wal_checkpoint(${mode})`) as CheckpointResult[])[0]!;

function tick(): void {
  // data_version changes when another connection (the gateway's) committed: nothing to copy otherwise.
  const version = dataVersion.get() as number;
  if (version === seenVersion) return;
  seenVersion = version;
  // PASSIVE copies what it can without taking the write lock: the writer is never held up.
  const passive = checkpoint('PASSIVE');
  // Under continuous writes the WAL is never fully copied between two commits, so the writer
  // never restarts it and it grows without bound. Past `restartFrames`, RESTART takes the write
  // lock for the tail the PASSIVE left (frames of the last interval) and makes the next writer
  // start the WAL from its beginning.
  if (passive.log >= restartFrames) checkpoint('RESTART');
}

const timer = setInterval(() => {
  try {
    tick();
  } catch (error) {
    port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}, intervalMs);

port.on('message', (message: unknown) => {
  if (message !== 'close') return;
  clearInterval(timer);
  try {
    connection.close();
  } finally {
    port.postMessage({ kind: 'closed' });
    port.close();
  }
});
port.postMessage({ kind: 'ready' });
