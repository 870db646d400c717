import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createGatewayLogger, openDatabase, startGateway } from '../../src/gateway/index.js';
import type { GatewayConfig } from '../../src/gateway/index.js';
import { WalGroupCommit, nodeWalSyncIo } from '../../src/gateway/store/durability.js';
import type { WalSyncIo } from '../../src/gateway/store/durability.js';
import { ScriptedConnector, api } from '../support/gateway-server.js';

/** A promise's state without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(() => { done = true; }, () => { done = true; });
  // Two macrotask turns: every microtask chained on an already-settled promise has run by then.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** File operations whose fsyncs wait until the test lets them finish, counted. */
class HeldIo implements WalSyncIo {
  inode: number | null = 1;
  fsyncs: Array<{ fd: number; finish: (error?: Error) => void }> = [];
  opened: number[] = [];
  closed: number[] = [];
  directorySyncs = 0;
  #nextFd = 10;
  async inodeOf(): Promise<number | null> {
    return this.inode;
  }
  async open(): Promise<{ fd: number; inode: number } | null> {
    if (this.inode === null) return null;
    const fd = this.#nextFd++;
    this.opened.push(fd);
    return { fd, inode: this.inode };
  }
  fsync(fd: number): Promise<void> {
    return new Promise((resolve, reject) => this.fsyncs.push({ fd, finish: (error) => (error ? reject(error) : resolve()) }));
  }
  async close(fd: number): Promise<void> {
    this.closed.push(fd);
  }
  async syncDirectory(): Promise<void> {
    this.directorySyncs++;
  }
  /** Waits for the `n`-th fsync (1-based) to be started. */
  async started(n: number): Promise<void> {
    while (this.fsyncs.length < n) await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('group commit: the durability barrier', () => {
  it('resolves at once when nothing was written, and only after the fsync when something was', async () => {
    const io = new HeldIo();
    let written = false;
    const barrier = new WalGroupCommit('/data/zhifu.db', () => { const was = written; written = false; return was; }, io);
    await barrier.durable();
    assert.equal(io.fsyncs.length, 0, 'no write, no fsync');
    written = true;
    const waiting = barrier.durable();
    await io.started(1);
    assert.equal(await settled(waiting), false, 'a commit is not durable before its fsync completes');
    io.fsyncs[0]!.finish();
    await waiting;
    assert.equal(io.directorySyncs, 1, 'the newly opened WAL is named durably in its directory');
  });

  it('makes commits during an fsync wait for the next one, shared by all of them', async () => {
    const io = new HeldIo();
    let written = false;
    const barrier = new WalGroupCommit('/data/zhifu.db', () => { const was = written; written = false; return was; }, io);
    written = true;
    const first = barrier.durable();
    await io.started(1);
    // Three commits while the first fsync runs: it may have started before them, so they wait for another.
    const later: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      written = true;
      later.push(barrier.durable());
    }
    // A reader that wrote nothing may have read those commits: it waits for the same next fsync.
    const reader = barrier.durable();
    io.fsyncs[0]!.finish();
    await first;
    await io.started(2);
    assert.equal(await settled(Promise.any(later)), false, 'the first fsync does not cover commits made while it ran');
    assert.equal(await settled(reader), false);
    io.fsyncs[1]!.finish();
    await Promise.all([...later, reader]);
    assert.equal(io.fsyncs.length, 2, 'one fsync for the whole group');
  });

  it('re-opens the WAL when its path names a new file, and skips the fsync when there is none', async () => {
    const io = new HeldIo();
    let written = true;
    const barrier = new WalGroupCommit('/data/zhifu.db', () => { const was = written; written = false; return was; }, io, { identityCheckIntervalMs: 0 });
    const one = barrier.durable();
    await io.started(1);
    io.fsyncs[0]!.finish();
    await one;
    io.inode = 2;
    written = true;
    const two = barrier.durable();
    await io.started(2);
    assert.deepEqual(io.closed, [io.opened[0]], 'the old descriptor is closed');
    assert.equal(io.fsyncs[1]!.fd, io.opened[1], 'the fsync goes to the file now at the path');
    assert.equal(io.directorySyncs, 2);
    io.fsyncs[1]!.finish();
    await two;
    io.inode = null;
    written = true;
    await barrier.durable();
    assert.equal(io.fsyncs.length, 2, 'no WAL file: everything is in the (synced) database file');
  });

  it('stays failed once an fsync failed: the kernel may have dropped what it could not write', async () => {
    const io = new HeldIo();
    let written = true;
    const barrier = new WalGroupCommit('/data/zhifu.db', () => { const was = written; written = false; return was; }, io);
    const failing = barrier.durable();
    await io.started(1);
    io.fsyncs[0]!.finish(new Error('EIO'));
    await assert.rejects(failing, /EIO/);
    written = true;
    await assert.rejects(barrier.durable(), /EIO/);
    await assert.rejects(barrier.durable(), /EIO/);
    assert.equal(io.fsyncs.length, 1);
  });
});

describe('group commit: what counts as written', () => {
  it('fsyncs after any write (an autocommit INSERT … RETURNING too) and not after plain reads', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-durability-'));
    let fsyncs = 0;
    const io: WalSyncIo = { ...nodeWalSyncIo, fsync: async (fd) => { await nodeWalSyncIo.fsync(fd); fsyncs++; } };
    const database = openDatabase(`sqlite:${path.join(dir, 'zhifu.db')}`, { walSyncIo: io });
    try {
      await database.db.schema.createTable('probe').addColumn('id', 'integer', (c) => c.primaryKey()).execute();
      await database.durable();
      const afterCreate = fsyncs;
      assert.ok(afterCreate >= 1, 'DDL is a write');
      await database.db.selectFrom('probe' as never).selectAll().execute();
      await database.durable();
      assert.equal(fsyncs, afterCreate, 'a read needs no fsync');
      const inserted = await database.db.insertInto('probe' as never).values({ id: 7 } as never).returning('id' as never).execute();
      assert.equal(inserted.length, 1);
      await database.durable();
      assert.equal(fsyncs, afterCreate + 1, 'an INSERT … RETURNING (a reader statement) is a write');
    } finally {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('group commit: the gateway answers only after the fsync', () => {
  it('holds a create until the WAL holding it is fsync\'d, and a read of it too', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-durability-'));
    // The real file operations; only the fsync can be held, and each is counted.
    let hold: Array<() => void> | null = null;
    let fsyncs = 0;
    const io: WalSyncIo = {
      ...nodeWalSyncIo,
      async fsync(fd) {
        if (hold !== null) await new Promise<void>((resolve) => hold!.push(resolve));
        await nodeWalSyncIo.fsync(fd);
        fsyncs++;
      },
    };
    const database = openDatabase(`sqlite:${path.join(dir, 'zhifu.db')}`, { walSyncIo: io });
    const config: GatewayConfig = {
      port: 0, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:0', dataDir: dir, databaseUrl: `sqlite:${path.join(dir, 'zhifu.db')}`, testSecretKey: null, testPublishableKey: null,
    };
    const logger = createGatewayLogger({ level: 'warn' }, new Writable({ write(_chunk, _enc, done) { done(); } }));
    const running = await startGateway({ config, connector: new ScriptedConnector(), clock: { now: () => Date.now() }, logger, database });
    try {
      const key = running.generatedKeys!.secretKey;
      hold = [];
      const creating = api(running, 'POST', '/v1/payment_intents', { key, json: { amount: 1234, currency: 'CNY' }, headers: { 'Idempotency-Key': 'durable-1' } });
      // The create commits (the row is there) while its fsync is held …
      let committed: { id: string; amount: number } | undefined;
      while (committed === undefined) {
        committed = await database.db.selectFrom('payment_intents').select(['id', 'amount']).executeTakeFirst();
        if (committed === undefined) await new Promise((resolve) => setTimeout(resolve, 2));
      }
      while (hold.length === 0 && !(await settled(creating))) await new Promise((resolve) => setTimeout(resolve, 2));
      // … and a read of it waits for the same fsync: nothing not yet durable is shown.
      const reading = api(running, 'GET', `/v1/payment_intents/${committed.id}`, { key });
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await settled(creating), false, 'the create is not answered before its fsync');
      assert.equal(await settled(reading), false, 'the read is not answered before that fsync');
      const fsyncsBefore = fsyncs;
      const held = hold;
      hold = null;
      for (const release of held) release();
      const [created, read] = await Promise.all([creating, reading]);
      assert.equal(created.status, 200);
      assert.equal(created.body.id, committed.id);
      assert.equal(created.body.amount, 1234);
      assert.equal(read.status, 200);
      assert.equal(read.body.id, committed.id);
      assert.ok(fsyncs > fsyncsBefore, 'the answers came after an fsync completed');
      const replay = await api(running, 'POST', '/v1/payment_intents', { key, json: { amount: 1234, currency: 'CNY' }, headers: { 'Idempotency-Key': 'durable-1' } });
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.body.id, committed.id);
    } finally {
      const stillHeld = hold ?? [];
      hold = null;
      for (const release of stillHeld) release();
      await running.stop();
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
