import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseProcessCount } from '../../src/cli/cluster.js';
import { ConfigError } from '../../src/gateway/index.js';

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
