import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createIdGenerator, ensureDefaultAccount, migrate, openDatabase, systemClock } from '../../src/gateway/index.js';
import { signIn } from '../../src/gateway/core/operators.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** `zhifu users create|list` over a SQLite file: the password comes from standard input only. */
describe('zhifu users', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let defaultAccount: string;

  const run = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, 'users', ...args], { env, input: input ?? '', encoding: 'utf8', timeout: 30_000 });

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'zhifu-users-'));
    env = { PATH: process.env.PATH, ZHIFU_DATA_DIR: dataDir };
    const database = openDatabase(`sqlite:${path.join(dataDir, 'zhifu.db')}`);
    await migrate(database);
    const config = { testSecretKey: null, testPublishableKey: null };
    defaultAccount = (await ensureDefaultAccount(database, systemClock, createIdGenerator(systemClock), config as never)).account.id;
    await database.close();
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates an admin of the default account with the password from standard input, who can then sign in', async () => {
    const created = run(['create', '--email', 'Ops@Shop.test', '--role', 'admin', '--live', '--password-stdin'], 'a long enough secret\n');
    assert.equal(created.status, 0, created.stderr);
    assert.match(created.stdout, new RegExp(`operator: usr_\\d{19} ops@shop\\.test \\(admin, live access\\) of ${defaultAccount}`));
    assert.doesNotMatch(created.stdout + created.stderr, /a long enough secret/);
    const database = openDatabase(`sqlite:${path.join(dataDir, 'zhifu.db')}`);
    try {
      const deps = { database, clock: systemClock, ids: createIdGenerator(systemClock) };
      assert.equal((await signIn(deps, 'ops@shop.test', 'a long enough secret', '10.0.0.1')).kind, 'signed_in', 'the line ending is not part of the password');
      assert.equal((await signIn(deps, 'ops@shop.test', 'a long enough secret\n', '10.0.0.1')).kind, 'invalid');
    } finally {
      await database.close();
    }
  });

  it('creates a viewer without live access, and lists both', () => {
    assert.equal(run(['create', '--email', 'desk@shop.test', '--role', 'viewer'], 'another long secret').status, 0);
    const listed = run(['list']);
    assert.equal(listed.status, 0, listed.stderr);
    const lines = listed.stdout.trim().split('\n');
    assert.equal(lines.length, 2);
    assert.match(lines.find((line) => line.includes('desk@shop.test')) ?? '', new RegExp(`^usr_\\d{19}  ${defaultAccount}  viewer  test  desk@shop\\.test$`));
    assert.match(lines.find((line) => line.includes('ops@shop.test')) ?? '', new RegExp(`^usr_\\d{19}  ${defaultAccount}  admin   live  ops@shop\\.test$`));
  });

  it('refuses a short password, a taken e-mail, an unknown account, a bad role and an empty standard input', () => {
    const short = run(['create', '--email', 'short@shop.test', '--role', 'viewer'], 'tooshort\n');
    assert.equal(short.status, 1);
    assert.match(short.stderr, /at least 10 characters/);
    const taken = run(['create', '--email', 'DESK@shop.test', '--role', 'admin'], 'another long secret\n');
    assert.equal(taken.status, 1);
    assert.match(taken.stderr, /exists already/);
    const account = run(['create', '--email', 'x@shop.test', '--role', 'admin', '--account', 'acct_0000000000000000001'], 'another long secret\n');
    assert.equal(account.status, 1);
    assert.match(account.stderr, /no such account/);
    const role = run(['create', '--email', 'y@shop.test', '--role', 'owner'], 'another long secret\n');
    assert.notEqual(role.status, 0);
    assert.match(role.stderr, /admin or viewer/);
    const empty = run(['create', '--email', 'z@shop.test', '--role', 'admin'], '');
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /no password on standard input/);
    assert.equal(run(['list']).stdout.trim().split('\n').length, 2, 'nothing was created');
  });
});
