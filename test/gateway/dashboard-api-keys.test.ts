import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIdGenerator, ensureDefaultAccount, loadConfig } from '../../src/gateway/index.js';
import { createOperator, listAudit } from '../../src/gateway/core/operators.js';
import { api, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';
import { csrfTokenIn, DashboardClient } from '../support/dashboard-client.js';

const PASSWORD = 'a long enough secret';

interface KeyRow { id: string; kind: string; state: string; key: string }

/** The key rows of the API keys page. */
function keysOn(page: string): KeyRow[] {
  return [...page.matchAll(/<tr data-testid="key-row" data-id="([^"]+)" data-kind="([^"]+)" data-state="([^"]+)">([\s\S]*?)<\/tr>/g)]
    .map((m) => ({ id: m[1]!, kind: m[2]!, state: m[3]!, key: /data-field="key">([^<]+)</.exec(m[4]!)![1]! }));
}

function secretOn(page: string): string | null {
  return /value="((?:sk|pk)_(?:test|live)_[A-Za-z0-9]+)"[^>]*data-testid="new-secret"/.exec(page)?.[1] ?? null;
}

/** Whether a key can call the API now. */
async function works(gw: TestGateway, key: string): Promise<number> {
  return (await api(gw, 'GET', '/v1/balance', { key })).status;
}

/**
 * Developers → API keys: the account's keys in the page's mode; admins create, roll and revoke
 * them; a new secret is shown exactly once; a revoked key stops working for the API at once.
 */
describe('dashboard API keys', () => {
  let gw: TestGateway;
  let admin: DashboardClient;
  let viewer: DashboardClient;

  before(async () => {
    gw = await startTestGateway();
    const deps = { database: gw.database, clock: gw.clock, ids: createIdGenerator(gw.clock) };
    await createOperator(deps, { accountId: gw.accountId, email: 'admin@shop.test', password: PASSWORD, role: 'admin', liveAccess: true });
    await createOperator(deps, { accountId: gw.accountId, email: 'viewer@shop.test', password: PASSWORD, role: 'viewer', liveAccess: true });
    admin = new DashboardClient(gw);
    assert.equal((await admin.signIn('admin@shop.test', PASSWORD)).status, 303);
    viewer = new DashboardClient(gw);
    assert.equal((await viewer.signIn('viewer@shop.test', PASSWORD)).status, 303);
  });
  after(async () => {
    await gw.stop();
  });

  async function post(client: DashboardClient, path: string, form: Record<string, string> = {}) {
    const page = await client.get('/dashboard/api_keys');
    return client.post(path, { csrf_token: csrfTokenIn(page.text), ...form });
  }

  async function activeKeys(mode = ''): Promise<KeyRow[]> {
    return keysOn((await admin.get(`/dashboard/api_keys${mode}`)).text).filter((key) => key.state === 'active');
  }

  it('lists the account\'s keys in the page\'s mode, redacted to their last four characters', async () => {
    const page = await admin.get('/dashboard/api_keys');
    assert.equal(page.status, 200);
    assert.match(page.text, /data-testid="tab-api_keys" href="\/dashboard\/api_keys" aria-current="page"/);
    const keys = keysOn(page.text);
    assert.deepEqual(keys.map((k) => [k.kind, k.state, k.key]).sort(), [
      ['publishable', 'active', `pk_test_…${gw.publishableKey.slice(-4)}`],
      ['secret', 'active', `sk_test_…${gw.secretKey.slice(-4)}`],
    ]);
    assert.ok(!page.text.includes(gw.secretKey) && !page.text.includes(gw.publishableKey), 'no plaintext on the page');
    assert.deepEqual(keysOn((await admin.get('/dashboard/api_keys?mode=live')).text), [], 'the default account has no live keys');
  });

  it('creates a secret key and shows it once: on the page after the redirect, never again, and only to its session', async () => {
    const created = await post(admin, '/dashboard/api_keys/create', { kind: 'secret' });
    assert.equal(created.status, 303);
    const location = created.location!;
    assert.match(location, /^\/dashboard\/api_keys\?revealed=[A-Za-z0-9_-]{32}$/);

    // Another admin's session cannot redeem the token, and trying does not burn it.
    const other = new DashboardClient(gw);
    await other.signIn('admin@shop.test', PASSWORD);
    const stolen = await other.get(location);
    assert.equal(secretOn(stolen.text), null);
    assert.match(stolen.text, /data-testid="notice"/);

    const shown = await admin.get(location);
    assert.equal(shown.status, 200);
    assert.equal(shown.headers.get('cache-control'), 'no-store');
    const secret = secretOn(shown.text);
    assert.match(secret ?? '', /^sk_test_[A-Za-z0-9]{32}$/);
    assert.equal(await works(gw, secret!), 200, 'the new key calls /v1');
    const row = keysOn(shown.text).find((key) => key.key === `sk_test_…${secret!.slice(-4)}`);
    assert.equal(row?.state, 'active');

    const again = await admin.get(location);
    assert.equal(secretOn(again.text), null, 'a reload shows no secret');
    assert.ok(!again.text.includes(secret!));
    assert.ok(!(await admin.get('/dashboard/api_keys')).text.includes(secret!));
    assert.ok(!gw.logs.join('').includes(secret!), 'the secret is in no log line');

    const audit = await listAudit({ database: gw.database }, gw.accountId);
    const entries = audit.filter((entry) => entry.action.startsWith('api_key.create'));
    assert.deepEqual(entries.map((entry) => entry.action).sort(), ['api_key.create', 'api_key.create.succeeded']);
    assert.ok(!JSON.stringify(audit).includes(secret!), 'the audit log holds no secret');
    assert.match(JSON.stringify(entries), new RegExp(row!.id));
  });

  it('shows a new secret whichever gateway process serves the redirect, having stored it only sealed', async () => {
    const created = await post(admin, '/dashboard/api_keys/create', { kind: 'secret' });
    assert.equal(created.status, 303);
    const waiting = await gw.database.db.selectFrom('api_key_reveals').selectAll().execute();
    // The redirect's GET lands on another process (several gateways share the database): here the
    // same gateway restarted, with nothing of the first one's memory.
    await gw.restart();
    const shown = await admin.get(created.location!);
    const secret = secretOn(shown.text);
    assert.match(secret ?? '', /^sk_test_[A-Za-z0-9]{32}$/);
    assert.equal(await works(gw, secret!), 200);
    // What waited in the database could not be read without the URL's token…
    const row = waiting.find((reveal) => keysOn(shown.text).some((key) => key.id === reveal.key_id && key.key.endsWith(secret!.slice(-4))));
    assert.ok(row !== undefined, 'the new key waited in the database');
    assert.ok(!JSON.stringify(waiting).includes(secret!) && !JSON.stringify(waiting).includes(secret!.slice(8)), 'only sealed');
    assert.ok(!created.location!.includes(row.token_hash), 'the URL holds the token, the database its hash');
    // …and is gone once shown.
    assert.deepEqual(await gw.database.db.selectFrom('api_key_reveals').select('key_id').where('token_hash', '=', row.token_hash).execute(), []);
    assert.equal(secretOn((await admin.get(created.location!)).text), null);
  });

  it('creates live keys in live mode, and a publishable key on request', async () => {
    const created = await post(admin, '/dashboard/api_keys/create?mode=live', { kind: 'secret' });
    assert.equal(created.status, 303);
    assert.match(created.location!, /^\/dashboard\/api_keys\?mode=live&revealed=/);
    const secret = secretOn((await admin.get(created.location!)).text);
    assert.match(secret ?? '', /^sk_live_/);
    const balance = await api(gw, 'GET', '/v1/balance', { key: secret! });
    assert.equal(balance.body.livemode, true);
    assert.deepEqual((await activeKeys('?mode=live')).map((key) => key.kind), ['secret']);

    const publishable = await post(admin, '/dashboard/api_keys/create', { kind: 'publishable' });
    assert.match(secretOn((await admin.get(publishable.location!)).text) ?? '', /^pk_test_/);
    const bad = await post(admin, '/dashboard/api_keys/create', { kind: 'restricted' });
    assert.equal(bad.status, 400);
  });

  it('rolls a key: the new one works and the old one stops at once, even though it was just used', async () => {
    const before = await post(admin, '/dashboard/api_keys/create', { kind: 'secret' });
    const old = secretOn((await admin.get(before.location!)).text)!;
    assert.equal(await works(gw, old), 200, 'used, so the gateway has it cached');
    const oldRow = (await activeKeys()).find((key) => key.key.endsWith(old.slice(-4)))!;

    const rolled = await post(admin, `/dashboard/api_keys/${oldRow.id}/roll`);
    assert.equal(rolled.status, 303);
    const fresh = secretOn((await admin.get(rolled.location!)).text)!;
    assert.match(fresh, /^sk_test_/);
    assert.notEqual(fresh, old);
    assert.equal(await works(gw, fresh), 200);
    assert.equal(await works(gw, old), 401, 'the rolled key is revoked now');
    const rows = keysOn((await admin.get('/dashboard/api_keys')).text);
    assert.equal(rows.find((key) => key.id === oldRow.id)?.state, 'revoked');

    const audit = await listAudit({ database: gw.database }, gw.accountId);
    const roll = audit.filter((entry) => entry.action.startsWith('api_key.roll'));
    assert.deepEqual(roll.map((entry) => [entry.action, entry.object_id]).sort(), [['api_key.roll', oldRow.id], ['api_key.roll.succeeded', oldRow.id]]);
    assert.ok(!JSON.stringify(audit).includes(fresh) && !JSON.stringify(audit).includes(old));

    const again = await post(admin, `/dashboard/api_keys/${oldRow.id}/roll`);
    assert.equal(again.status, 303);
    assert.match(again.location!, /error=api_key_revoked/);
  });

  it('revokes a key at once, and refuses to revoke the last active secret key of a mode', async () => {
    assert.equal(await works(gw, gw.secretKey), 200);
    const defaultRow = (await activeKeys()).find((key) => key.key === `sk_test_…${gw.secretKey.slice(-4)}`)!;
    const revoked = await post(admin, `/dashboard/api_keys/${defaultRow.id}/revoke`);
    assert.equal(revoked.status, 303);
    assert.equal(revoked.location, '/dashboard/api_keys?done=revoked');
    const after = await api(gw, 'GET', '/v1/balance', { key: gw.secretKey });
    assert.equal(after.status, 401, 'revoked: refused on the very next request');

    // Revoke every other secret key until one is left: that one is refused, and keeps working.
    let secrets = (await activeKeys()).filter((key) => key.kind === 'secret');
    while (secrets.length > 1) {
      assert.equal((await post(admin, `/dashboard/api_keys/${secrets[0]!.id}/revoke`)).status, 303);
      secrets = (await activeKeys()).filter((key) => key.kind === 'secret');
    }
    const last = secrets[0]!;
    const refused = await post(admin, `/dashboard/api_keys/${last.id}/revoke`);
    assert.equal(refused.status, 303);
    assert.equal(refused.location, '/dashboard/api_keys?error=last_secret_key');
    const page = await admin.get(refused.location!);
    assert.match(page.text, /data-testid="notice"[^>]*>[^<]*(last active secret key|最后一个)/);
    assert.equal((await activeKeys()).find((key) => key.id === last.id)?.state, 'active');
    const audit = await listAudit({ database: gw.database }, gw.accountId);
    assert.ok(audit.some((entry) => entry.action === 'api_key.revoke.failed' && entry.object_id === last.id));

    // A restart with the revoked key pinned (ZHIFU_TEST_SECRET_KEY) keeps it revoked instead of failing to start.
    const config = { ...loadConfig({}), testSecretKey: gw.secretKey };
    const restarted = await ensureDefaultAccount(gw.database, gw.clock, createIdGenerator(gw.clock), config);
    assert.equal(restarted.account.id, gw.accountId);
    assert.equal(await works(gw, gw.secretKey), 401);
  });

  it('refuses viewers (403) and form posts without their CSRF token, changing nothing', async () => {
    const before = keysOn((await admin.get('/dashboard/api_keys')).text);
    const target = before.find((key) => key.state === 'active' && key.kind === 'publishable')!;
    const viewerPage = await viewer.get('/dashboard/api_keys');
    assert.equal(viewerPage.status, 200);
    assert.ok(!viewerPage.text.includes('create-key-form') && !viewerPage.text.includes('/revoke'), 'no action forms for a viewer');
    assert.match(viewerPage.text, /data-testid="viewer-note"/);
    for (const path of ['/dashboard/api_keys/create', `/dashboard/api_keys/${target.id}/revoke`, `/dashboard/api_keys/${target.id}/roll`]) {
      assert.equal((await post(viewer, path, { kind: 'secret' })).status, 403, path);
      assert.equal((await admin.post(path, { kind: 'secret' })).status, 403, `${path} without csrf_token`);
      assert.equal((await admin.post(path, { kind: 'secret', csrf_token: 'forged' })).status, 403, `${path} with a wrong csrf_token`);
    }
    assert.deepEqual(keysOn((await admin.get('/dashboard/api_keys')).text), before, 'nothing changed');
  });

  it('answers another account\'s key as 404 by URL, and leaves it working', async () => {
    const other = await gw.newAccount();
    const row = await gw.database.db.selectFrom('api_keys').select('id').where('account_id', '=', other.accountId).where('kind', '=', 'secret').where('livemode', '=', 0).executeTakeFirstOrThrow();
    for (const action of ['revoke', 'roll']) {
      const answer = await post(admin, `/dashboard/api_keys/${row.id}/${action}`);
      assert.equal(answer.status, 404, action);
    }
    assert.equal(await works(gw, other.test.secretKey), 200);
    assert.ok(!keysOn((await admin.get('/dashboard/api_keys')).text).some((key) => key.id === row.id));
  });
});
