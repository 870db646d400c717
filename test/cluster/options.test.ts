import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import pg from 'pg';
import { parseProcessCount } from '../../src/cli/cluster.js';
import { ConfigError } from '../../src/gateway/index.js';
import { ON_POSTGRES, TEST_DATABASE_URL } from '../support/gateway-server.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('--processes / ZHIFU_PROCESSES', () => {
  it('is a whole number from 1 to 64, default 1; the option wins over the variable', () => {
    assert.equal(parseProcessCount(undefined, undefined), 1);
    assert.equal(parseProcessCount(undefined, ' '), 1);
    assert.equal(parseProcessCount(undefined, '4'), 4);
    assert.equal(parseProcessCount('2', '8'), 2);
    assert.equal(parseProcessCount('64', undefined), 64);
    for (const bad of ['0', '65', '1.5', '-1', 'two', '100']) {
      assert.throws(() => parseProcessCount(bad, undefined), (error: Error) => error instanceof ConfigError && error.message.includes('--processes') && error.message.includes(`"${bad}"`));
      assert.throws(() => parseProcessCount(undefined, bad), (error: Error) => error instanceof ConfigError && error.message.includes('ZHIFU_PROCESSES'));
    }
  });

  it('zhifu start refuses more than one process on SQLite, saying why, before starting anything', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-processes-'));
    try {
      const env: NodeJS.ProcessEnv = {};
      for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ZHIFU_')) env[name] = value;
      const run = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
        spawnSync(process.execPath, [CLI, 'start', ...args], { env: { ...env, ZHIFU_DATA_DIR: dir, ZHIFU_PORT: '0', ZHIFU_SANDBOX_PORT: '0', ...extra }, encoding: 'utf8', timeout: 30_000 });
      const sqlite = run(['--processes', '2']);
      assert.equal(sqlite.status, 2, sqlite.stderr);
      assert.match(sqlite.stderr, /needs PostgreSQL/);
      const tooMany = run([], { ZHIFU_PROCESSES: '65' });
      assert.equal(tooMany.status, 2, tooMany.stderr);
      assert.match(tooMany.stderr, /ZHIFU_PROCESSES must be a whole number of gateway processes from 1 to 64, got "65"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('zhifu start --processes 2 when a gateway cannot start (PostgreSQL)', { skip: !ON_POSTGRES && 'PostgreSQL only: SQLite runs one gateway process' }, () => {
  it('exits non-zero, saying so, instead of restarting it forever', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-processes-'));
    const schema = `processes_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = async (text: string) => {
      const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
      await client.connect();
      await client.query(text);
      await client.end();
    };
    await admin(`create schema ${schema}`);
    // The port is taken: the first gateway's listen fails.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const address = taken.address();
    try {
      const url = new URL(TEST_DATABASE_URL);
      url.searchParams.set('options', `-c search_path=${schema}`);
      const env: NodeJS.ProcessEnv = {};
      for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('ZHIFU_')) env[name] = value;
      const run = spawnSync(process.execPath, [CLI, 'start', '--processes', '2'], {
        env: { ...env, ZHIFU_DATA_DIR: dir, ZHIFU_DATABASE_URL: url.toString(), ZHIFU_HOST: '127.0.0.1', ZHIFU_PORT: String(typeof address === 'object' && address !== null ? address.port : 0), ZHIFU_SANDBOX_PORT: '0', ZHIFU_LOG_LEVEL: 'warn' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.notEqual(run.status, 0, run.stdout + run.stderr);
      assert.notEqual(run.status, null, `still running after 60 s: ${run.stdout}${run.stderr}`);
      assert.match(run.stderr, /a gateway process exited while starting/);
      assert.doesNotMatch(run.stdout, /Zhifu cluster: 2 gateway processes listening/);
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
      await admin(`drop schema ${schema} cascade`);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
