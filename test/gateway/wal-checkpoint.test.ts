import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { openDatabase } from '../../src/gateway/store/database.js';

const ROW_BYTES = 2_000;
const ROWS_PER_COMMIT = 500;
const COMMITS = 80; // ~80 MB of rows: far past where an unchecked WAL would stop
const RESTART_FRAMES = 10_000; // ~40 MB

const sizeOf = (file: string) => (existsSync(file) ? statSync(file).size : 0);

describe('WAL checkpoints off the event loop', () => {
  it('copies commits into the database file and keeps the WAL bounded while the writer only writes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-checkpoint-'));
    const file = path.join(dir, 'zhifu.db');
    // The shipped restart point (128 MiB) would need far more rows than this test writes.
    const database = openDatabase(`sqlite:${file}`, { walRestartFrames: RESTART_FRAMES });
    try {
      await sql`create table ledger (id integer primary key, memo text not null)`.execute(database.db);
      let walMax = 0;
      for (let commit = 0; commit < COMMITS; commit++) {
        await database.db.transaction().execute(async (tx) => {
          for (let row = 0; row < ROWS_PER_COMMIT; row++) await sql`insert into ledger (memo) values (${'m'.repeat(ROW_BYTES)})`.execute(tx);
        });
        await database.durable();
        walMax = Math.max(walMax, sizeOf(`${file}-wal`));
        // Lets the checkpoint thread's timer come round, as idle moments between requests do.
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const written = COMMITS * ROWS_PER_COMMIT * ROW_BYTES;
      // The gateway's connection never checkpoints (wal_autocheckpoint = 0): only the checkpoint
      // thread copies the frames, so the database file holding the rows proves it ran.
      const deadline = Date.now() + 10_000;
      while (sizeOf(file) < written && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(sizeOf(file) >= written, `the database file holds the ${written} bytes written (it has ${sizeOf(file)})`);
      // Unchecked, the WAL would hold all of it; the checkpointer restarts it past RESTART_FRAMES.
      assert.ok(walMax < written * 0.75, `the WAL stayed bounded: at most ${walMax} bytes for ${written} written`);
    } finally {
      await database.close();
    }
    try {
      assert.equal(existsSync(`${file}-wal`), false, 'closing checkpoints everything and removes the WAL, as before');
      const reopened = new BetterSqlite3(file, { readonly: true });
      try {
        assert.deepEqual(reopened.prepare('select count(*) as rows, sum(length(memo)) as bytes from ledger').get(), { rows: COMMITS * ROWS_PER_COMMIT, bytes: COMMITS * ROWS_PER_COMMIT * ROW_BYTES });
      } finally {
        reopened.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
