import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { createIdGenerator, inTransaction, migrate, openDatabase, systemClock } from '../../src/gateway/index.js';
import type { Database } from '../../src/gateway/index.js';
import { recordEvent } from '../../src/gateway/core/events.js';
import { insertWebhookEndpoint } from '../../src/gateway/store/webhook_endpoints.js';

/** SQLite only: PostgreSQL runs each transaction on its own pooled connection, unbatched. */
describe('SQLite transaction batches', () => {
  let dir: string;
  let file: string;
  let database: Database;
  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'zhifu-batch-'));
    file = path.join(dir, 'zhifu.db');
    database = openDatabase(`sqlite:${file}`);
    await migrate(database);
  });
  after(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const account = (id: string) => ({ id, created: 1, name: id, business_category: null, settlement_currency: 'HKD', is_default: null });
  /** What another connection (another process, the CLI) sees: committed rows only. */
  const committedAccounts = (ids: string[]) => {
    const other = new BetterSqlite3(file, { readonly: true });
    try {
      return ids.filter((id) => other.prepare('select 1 from accounts where id = ?').get(id) !== undefined);
    } finally {
      other.close();
    }
  };

  it('commits works queued together once, after the last of them ran, and rolls back one that throws alone', async () => {
    const ran: string[] = [];
    const first = inTransaction(database, async (tx) => {
      await tx.insertInto('accounts').values(account('acct_batch_first')).execute();
      ran.push('first');
      return 'first done';
    });
    const failing = inTransaction(database, async (tx) => {
      await tx.insertInto('accounts').values(account('acct_batch_failing')).execute();
      ran.push('failing');
      throw new Error('declined by the work itself');
    });
    const last = inTransaction(database, async (tx) => {
      // Reads what the works before it in the batch wrote, as one transaction after another would.
      const seen = await tx.selectFrom('accounts').select('id').where('id', 'in', ['acct_batch_first', 'acct_batch_failing']).execute();
      await tx.insertInto('accounts').values(account('acct_batch_last')).execute();
      ran.push('last');
      return seen.map((row) => row.id);
    });
    const outcome = await Promise.allSettled([first, failing, last]);
    assert.deepEqual(outcome[0], { status: 'fulfilled', value: 'first done' });
    assert.equal(outcome[1]!.status, 'rejected');
    assert.match(String((outcome[1] as PromiseRejectedResult).reason), /declined by the work itself/);
    assert.deepEqual(outcome[2], { status: 'fulfilled', value: ['acct_batch_first'] });
    assert.deepEqual(ran, ['first', 'failing', 'last']);
    // The first work's promise settled only after its commit, and that commit held the last work.
    assert.deepEqual(committedAccounts(['acct_batch_first', 'acct_batch_failing', 'acct_batch_last']), ['acct_batch_first', 'acct_batch_last']);
  });

  it('settles a work only once its transaction committed: the first of a batch waits for the others', async () => {
    let lastRan = false;
    const first = inTransaction(database, async (tx) => {
      await tx.insertInto('accounts').values(account('acct_wait_first')).execute();
    }).then(() => ({ lastRan, committed: committedAccounts(['acct_wait_first', 'acct_wait_last']) }));
    const last = inTransaction(database, async (tx) => {
      await tx.insertInto('accounts').values(account('acct_wait_last')).execute();
      lastRan = true;
    });
    const [seen] = await Promise.all([first, last]);
    assert.deepEqual(seen, { lastRan: true, committed: ['acct_wait_first', 'acct_wait_last'] });
  });

  it('lets no work of a batch see what an earlier one remembered of the transaction: an endpoint added by one work receives the events of the next', async () => {
    await inTransaction(database, async (tx) => {
      await tx.insertInto('accounts').values(account('acct_batch_events')).execute();
    });
    const deps = { clock: systemClock, ids: createIdGenerator(systemClock) };
    const ctx = { scope: { accountId: 'acct_batch_events', livemode: false }, requestId: null, idempotency: null };
    // Queued in one turn, so they run one after another in one batch (the first test shows it).
    const [before, , after] = await Promise.all([
      inTransaction(database, async (tx) => {
        await recordEvent(tx, deps, ctx, 'product.created', { id: 'prod_before', object: 'product' });
        return 'prod_before';
      }),
      inTransaction(database, async (tx) => {
        await insertWebhookEndpoint(tx, {
          id: 'we_batch', account_id: 'acct_batch_events', livemode: 0, created: 1, url: 'https://merchant.example/hooks',
          enabled_events: '["*"]', status: 'enabled', secret: 'whsec_batch', description: null, api_version: null, metadata: '{}',
        });
      }),
      inTransaction(database, async (tx) => {
        await recordEvent(tx, deps, ctx, 'product.created', { id: 'prod_after', object: 'product' });
        return 'prod_after';
      }),
    ]);
    const pending = await sql<{ object_id: string; pending_webhooks: number }>`
      select json_extract(data, '$.object.id') as object_id, pending_webhooks from events
      where account_id = 'acct_batch_events' order by created, id`.execute(database.db);
    assert.deepEqual(pending.rows.map((row) => [row.object_id, row.pending_webhooks]), [[before, 0], [after, 1]]);
    const deliveries = await sql<{ n: number }>`select count(*) as n from webhook_deliveries where endpoint_id = 'we_batch'`.execute(database.db);
    assert.equal(deliveries.rows[0]!.n, 1);
  });

  it('rejects every work of a batch whose COMMIT fails, keeps none of their writes, and runs the next batch', async () => {
    // A deferred foreign key is checked at COMMIT: the way to make a commit itself fail on demand.
    await sql`create table batch_parent (id text primary key)`.execute(database.db);
    await sql`create table batch_child (id text primary key, parent_id text references batch_parent (id) deferrable initially deferred)`.execute(database.db);
    const valid = inTransaction(database, async (tx) => {
      await sql`insert into batch_parent (id) values ('parent_1')`.execute(tx);
      return 'inserted';
    });
    const orphan = inTransaction(database, async (tx) => {
      await sql`insert into batch_child (id, parent_id) values ('child_1', 'no_such_parent')`.execute(tx);
      return 'inserted';
    });
    const outcome = await Promise.allSettled([valid, orphan]);
    for (const settled of outcome) {
      assert.equal(settled.status, 'rejected');
      assert.match(String((settled as PromiseRejectedResult).reason), /FOREIGN KEY constraint failed/);
    }
    const parents = await sql<{ n: number }>`select count(*) as n from batch_parent`.execute(database.db);
    assert.equal(parents.rows[0]!.n, 0);
    const next = await inTransaction(database, async (tx) => {
      await sql`insert into batch_parent (id) values ('parent_2')`.execute(tx);
      return 'committed';
    });
    assert.equal(next, 'committed');
    const after = await sql<{ id: string }>`select id from batch_parent`.execute(database.db);
    assert.deepEqual(after.rows, [{ id: 'parent_2' }]);
  });
});
