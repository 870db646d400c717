import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConcurrentUpdate } from '../../src/gateway/core/context.js';
import { isAbortedByDatabase, withCasRetries } from '../../src/gateway/core/payment_intent_rules.js';
import { ApiError } from '../../src/gateway/errors.js';
import { inTransaction } from '../../src/gateway/index.js';
import { ON_POSTGRES, startTestGateway, type TestGateway } from '../support/gateway-server.js';

describe('withCasRetries', () => {
  const aborted = (code: string) => Object.assign(new Error(`aborted ${code}`), { code, severity: 'ERROR' });

  it('retries PostgreSQL deadlocks (40P01) and serialization failures (40001) like a lost compare-and-set', async () => {
    for (const code of ['40P01', '40001']) {
      let runs = 0;
      const value = await withCasRetries(async () => {
        runs++;
        if (runs < 3) throw aborted(code);
        return 'committed';
      });
      assert.deepEqual([value, runs], ['committed', 3], code);
    }
    let mixed = 0;
    assert.equal(await withCasRetries(async () => (++mixed === 1 ? Promise.reject(new ConcurrentUpdate()) : mixed === 2 ? Promise.reject(aborted('40P01')) : 'ok')), 'ok');
  });

  it('gives up after a bounded number of runs with 409 lock_timeout, and never retries other errors', async () => {
    let runs = 0;
    await assert.rejects(withCasRetries(async () => { runs++; throw aborted('40001'); }), (e: unknown) => e instanceof ApiError && e.fields.status === 409 && e.fields.code === 'lock_timeout');
    assert.equal(runs, 5);
    for (const code of ['23503', '57014', '40000', undefined]) {
      let once = 0;
      await assert.rejects(withCasRetries(async () => { once++; throw Object.assign(new Error('other'), { code }); }), /other/);
      assert.equal(once, 1, String(code));
    }
    assert.equal(isAbortedByDatabase(null), false);
    assert.equal(isAbortedByDatabase({ code: 40001 }), false);
  });

  describe('on a real deadlock (PostgreSQL)', { skip: !ON_POSTGRES && 'PostgreSQL only: SQLite runs one writer at a time' }, () => {
    let gw: TestGateway;
    before(async () => {
      gw = await startTestGateway();
    });
    after(async () => {
      await gw.stop();
    });

    it('the deadlock victim is run again and both transactions commit', async () => {
      const a = gw.accountId;
      const b = (await gw.newAccount()).accountId;
      let firstLocked!: () => void;
      let secondLocked!: () => void;
      const firstHas = new Promise<void>((resolve) => (firstLocked = resolve));
      const secondHas = new Promise<void>((resolve) => (secondLocked = resolve));
      let runs = 0;
      // Each locks one row, waits for the other, then wants the other's row: PostgreSQL aborts one with 40P01.
      const cross = (mine: string, theirs: string, lockedMine: () => void, theirsLocked: Promise<void>, name: string) =>
        withCasRetries(() =>
          inTransaction(gw.database, async (tx) => {
            runs++;
            await tx.updateTable('accounts').set({ name: `${name} first` }).where('id', '=', mine).execute();
            lockedMine();
            await theirsLocked;
            await tx.updateTable('accounts').set({ name: `${name} second` }).where('id', '=', theirs).execute();
            return name;
          }),
        );
      const results = await Promise.all([cross(a, b, firstLocked, secondHas, 'one'), cross(b, a, secondLocked, firstHas, 'two')]);
      assert.deepEqual(results, ['one', 'two']);
      assert.equal(runs, 3, 'exactly one of the two was aborted and run again');
    });
  });
});
