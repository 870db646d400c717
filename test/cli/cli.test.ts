import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/ports.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const STARTUP_TIMEOUT_MS = 20_000;

interface Started {
  child: ChildProcess;
  output: () => string;
}

/** Runs `zhifu start` and resolves once both servers report listening. */
function start(env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(process.execPath, [CLI, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`zhifu start did not come up:\n${output}`)), STARTUP_TIMEOUT_MS);
    const check = setInterval(() => {
      if (/Alipay\+ live mode:/.test(output) && (!/Default test account created/.test(output) || /publishable key:/.test(output))) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ child, output: () => output });
      }
    }, 50);
    child.once('exit', (code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`zhifu start exited with ${code}:\n${output}`));
    });
  });
}

/** The pids of a process's children (Linux /proc). */
function childPids(pid: number): number[] {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return children === '' ? [] : children.split(/\s+/).map(Number);
}

/** Whether a process runs (a zombie waiting to be reaped does not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

function stop(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

describe('zhifu CLI', () => {
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let gatewayUrl: string;
  let sandboxUrl: string;

  before(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'zhifu-cli-'));
    const [port, sandboxPort] = [await freePort(), await freePort()];
    gatewayUrl = `http://127.0.0.1:${port}`;
    sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    // The CLI reads only its own variables; a PostgreSQL test run must not leak into it.
    env = { PATH: process.env.PATH, ZHIFU_DATA_DIR: dataDir, ZHIFU_PORT: String(port), ZHIFU_SANDBOX_PORT: String(sandboxPort), ZHIFU_LOG_LEVEL: 'warn' };
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('start: generates keys once, takes a payment end to end through the embedded sandbox, survives a restart', async () => {
    const first = await start(env);
    const secretKey = /secret key:\s+(sk_test_\w+)/.exec(first.output())?.[1];
    assert.ok(secretKey, first.output());
    assert.ok(/publishable key:\s+pk_test_\w+/.test(first.output()));
    assert.equal(statSync(path.join(dataDir, 'keys', 'gateway-private.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(path.join(dataDir, 'keys', 'alipayplus-sandbox-private.pem')).mode & 0o777, 0o600);

    const auth = { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' };
    const created = await fetch(`${gatewayUrl}/v1/payment_intents`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ amount: 20, currency: 'cny', confirm: true, payment_method_data: { type: 'alipay' }, return_url: 'https://example.com/done' }),
    }).then((r) => r.json() as Promise<{ id: string; status: string; next_action: { alipay_handle_redirect: { url: string; qr_code: { data: string } } } }>);
    assert.equal(created.status, 'requires_action');
    assert.ok(created.next_action.alipay_handle_redirect.url.startsWith(`${sandboxUrl}/api/open/v1/ac/cashier/`));

    const paid = await fetch(`${sandboxUrl}/sandbox/v1/wallet/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ codeValue: created.next_action.alipay_handle_redirect.qr_code.data, outcome: 'success' }),
    });
    assert.equal(paid.status, 200);
    const deadline = Date.now() + 5000;
    let status = '';
    while (status !== 'succeeded' && Date.now() < deadline) {
      status = ((await fetch(`${gatewayUrl}/v1/payment_intents/${created.id}`, { headers: auth }).then((r) => r.json())) as { status: string }).status;
      if (status !== 'succeeded') await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(status, 'succeeded');
    assert.equal(await stop(first.child), 0);

    const second = await start(env);
    assert.doesNotMatch(second.output(), /secret key:/, 'keys are printed on the first start only');
    const again = (await fetch(`${gatewayUrl}/v1/payment_intents/${created.id}`, { headers: auth }).then((r) => r.json())) as { status: string };
    assert.equal(again.status, 'succeeded');
    assert.equal((await fetch(`${gatewayUrl}/readyz`)).status, 200);
    assert.equal(await stop(second.child), 0);
  });

  it('start: the sandbox runs in its own process, and a gateway killed with SIGKILL leaves no sandbox behind', async () => {
    const started = await start(env);
    const gatewayPid = started.child.pid as number;
    const children = childPids(gatewayPid);
    assert.equal(children.length, 1, `one child process (the sandbox), got ${JSON.stringify(children)}`);
    const sandboxPid = children[0] as number;
    assert.notEqual(sandboxPid, gatewayPid);
    assert.equal((await fetch(`${sandboxUrl}/healthz`)).status, 200);

    const exited = new Promise((resolve) => started.child.once('exit', resolve));
    process.kill(gatewayPid, 'SIGKILL');
    await exited;
    const deadline = Date.now() + 10_000;
    while (alive(sandboxPid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(alive(sandboxPid), false, `sandbox process ${sandboxPid} outlived its gateway`);
    await assert.rejects(fetch(`${sandboxUrl}/healthz`), 'nothing listens on the sandbox port any more');
  });

  it('migrate, accounts create and keys create work on the same database', () => {
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
    assert.match(run('migrate').stdout, /up to date|applied/);
    const created = run('accounts', 'create', '--name', 'Tea House', '--settlement-currency', 'eur', '--live');
    assert.equal(created.status, 0, created.stderr);
    const account = /account: (acct_\d{19}) \(settles in EUR\)/.exec(created.stdout)?.[1];
    assert.ok(account, created.stdout);
    assert.match(created.stdout, /live secret key:\s+sk_live_\w{32}/);
    const keys = run('keys', 'create', '--account', account);
    assert.equal(keys.status, 0, keys.stderr);
    assert.match(keys.stdout, /test secret key:\s+sk_test_\w{32}/);

    const refused = run('accounts', 'create', '--settlement-currency', 'JPY');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /settlement currency must be one of/);
    const unknown = run('keys', 'create', '--account', 'acct_0000000000000000001');
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /no such account/);
  });

  it('a malformed setting is a clear error, not a stack trace', () => {
    const result = spawnSync(process.execPath, [CLI, 'start'], { env: { ...env, ZHIFU_PORT: 'abc' }, encoding: 'utf8' });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /ZHIFU_PORT must be 0–65535, got "abc"/);
  });
});
