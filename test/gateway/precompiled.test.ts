import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { openDatabase } from '../../src/gateway/store/database.js';
import { Precompiled, insertParameters, insertShape } from '../../src/gateway/store/precompiled.js';
import type { Executor } from '../../src/gateway/store/schema.js';

interface Ledger { id: string; amount: number; memo?: string | null }
// A table the typed schema does not know: the builders are cast, as in the durability test.
const ledger = (ex: Executor) => ex.insertInto('ledger' as never);

describe('precompiled statements', () => {
  it('reuses the SQL text and binds each call\'s own values, per set of columns', async () => {
    const database = openDatabase('sqlite::memory:');
    try {
      await sql`create table ledger (id text primary key, amount integer not null, memo text)`.execute(database.db);
      const insert = new Precompiled(
        (ex: Executor, row: Ledger) => ledger(ex).values(row as never).compile(),
        (row) => insertParameters(row),
        (row) => insertShape(row),
      );
      await insert.execute(database.db, { id: 'a', amount: 100, memo: 'first' });
      await insert.execute(database.db, { id: 'b', amount: 250, memo: null });
      // Another column set is another statement, not the first one's text with a value missing.
      await insert.execute(database.db, { id: 'c', amount: 7, memo: undefined });
      const rows = await sql<Ledger>`select id, amount, memo from ledger order by id`.execute(database.db);
      assert.deepEqual(rows.rows, [{ id: 'a', amount: 100, memo: 'first' }, { id: 'b', amount: 250, memo: null }, { id: 'c', amount: 7, memo: null }]);
    } finally {
      await database.close();
    }
  });

  it('refuses parameters in another order than the SQL binds them, before writing anything', async () => {
    const database = openDatabase('sqlite::memory:');
    try {
      await sql`create table ledger (id text primary key, amount integer not null, memo text)`.execute(database.db);
      const swapped = new Precompiled(
        (ex: Executor, row: Ledger) => ledger(ex).values(row as never).compile(),
        (row) => [row.amount, row.id, row.memo],
        (row) => insertShape(row),
      );
      await assert.rejects(swapped.execute(database.db, { id: 'a', amount: 100, memo: 'x' }), /parameters disagree/);
      const count = await sql<{ n: number }>`select count(*) as n from ledger`.execute(database.db);
      assert.equal(count.rows[0]!.n, 0);
    } finally {
      await database.close();
    }
  });
});
