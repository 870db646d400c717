import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { migrate, type Database } from '../../src/gateway/index.js';
import { databaseCounter, SharedRateLimiter } from '../../src/gateway/http/rate_limit.js';
import { freshDatabase } from '../support/gateway-server.js';

/**
 * The shared counter behind the rate limit, with two limiters on one database standing for two
 * gateway processes (the real two-process run is two-processes.test.ts, PostgreSQL only). Its SQL
 * runs on SQLite too, though a SQLite gateway counts in memory (one process).
 */
describe('SharedRateLimiter over one database', () => {
  let database: Database;
  let cleanup: () => Promise<void>;
  const log = pino({ level: 'silent' });
  const WINDOW = 1_796_000_000_000;

  before(async () => {
    ({ database, cleanup } = await freshDatabase(4));
    await migrate(database);
  });
  after(async () => await cleanup());

  it('grants two processes together exactly the limit in a window, then refuses both; a new window starts over', async () => {
    const limit = 50;
    const first = new SharedRateLimiter(databaseCounter(database), limit);
    const second = new SharedRateLimiter(databaseCounter(database), limit);
    let granted = 0;
    let refused = 0;
    for (let i = 0; i < 3 * limit; i += 1) {
      const limiter = i % 3 === 0 ? second : first;
      if (await limiter.take('key-a', WINDOW + i, log)) granted += 1;
      else refused += 1;
    }
    // Each keeps asking until the window is used up, so no block is left unspent.
    while (await first.take('key-a', WINDOW + 999, log)) granted += 1;
    while (await second.take('key-a', WINDOW + 999, log)) granted += 1;
    assert.equal(granted, limit);
    assert.ok(refused >= 2 * limit, `${refused} refused`);
    assert.equal(first.remaining('key-a'), 0);
    const row = await database.db.selectFrom('rate_limit_windows').selectAll().where('key_hash', '=', 'key-a').executeTakeFirstOrThrow();
    assert.ok(Number(row.granted) >= limit, 'the shared row counted every grant');
    // Another key has its own counter; the next second its own window.
    assert.equal(await first.take('key-b', WINDOW + 10, log), true);
    assert.equal(await second.take('key-a', WINDOW + 1_000, log), true);
  });

  it('one process alone gets exactly the limit, claimed in blocks, and no more', async () => {
    const limit = 160;
    const limiter = new SharedRateLimiter(databaseCounter(database), limit);
    const windowStart = WINDOW + 10_000;
    for (let i = 0; i < limit; i += 1) assert.equal(await limiter.take('key-c', windowStart, log), true);
    const row = await database.db.selectFrom('rate_limit_windows').selectAll().where('key_hash', '=', 'key-c').where('window_start', '=', windowStart).executeTakeFirstOrThrow();
    // Blocks of 160/16 = 10 requests: the last block ends exactly at the limit.
    assert.equal(Number(row.granted), limit);
    assert.equal(await limiter.take('key-c', windowStart, log), false);
  });

  it('concurrent requests of one key wait on one claim', async () => {
    const limiter = new SharedRateLimiter(databaseCounter(database), 32);
    const results = await Promise.all(Array.from({ length: 40 }, () => limiter.take('key-d', WINDOW + 20_000, log)));
    assert.equal(results.filter(Boolean).length, 32);
  });
});
