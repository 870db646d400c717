import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIdGenerator } from '../../src/gateway/index.js';
import { createOperator, listAudit, loadSession, SESSION_IDLE_MS, SIGN_IN_WINDOW_MS } from '../../src/gateway/core/operators.js';
import type { OperatorDeps } from '../../src/gateway/core/operators.js';
import { api, ManualClock, seedWebRequest, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';
import { csrfTokenIn, DashboardClient } from '../support/dashboard-client.js';

const PASSWORD = 'correct horse battery';

/**
 * Dashboard sign-in (api.md §8, core/operators.ts): sessions, CSRF, the sign-in rate limit,
 * expiry, sign-out, roles, live access, and Home's figures against the API's. Runs on SQLite or,
 * with ZHIFU_TEST_DATABASE_URL, PostgreSQL.
 */
describe('dashboard sign-in and sessions', () => {
  let gw: TestGateway;
  let clock: ManualClock;
  let deps: OperatorDeps;
  let other: Awaited<ReturnType<TestGateway['newAccount']>>;

  before(async () => {
    clock = new ManualClock();
    gw = await startTestGateway({ clock });
    deps = { database: gw.database, clock, ids: createIdGenerator(clock) };
    gw.connector.nextPay = async (request) => ({ kind: 'succeeded', externalPaymentId: `ext_${request.paymentRequestId}`, buyerId: 'buyer_1', wallet: 'ALIPAY_CN' });
    other = await gw.newAccount();
    await createOperator(deps, { accountId: gw.accountId, email: 'Admin@Shop.test', password: PASSWORD, role: 'admin', liveAccess: true });
    await createOperator(deps, { accountId: gw.accountId, email: 'viewer@shop.test', password: PASSWORD, role: 'viewer', liveAccess: false });
    await createOperator(deps, { accountId: other.accountId, email: 'owner@other.test', password: PASSWORD, role: 'admin', liveAccess: false });
  });
  after(async () => {
    await gw.stop();
  });

  async function auditActions(email: string): Promise<string[]> {
    return (await listAudit(deps, null, 1000)).filter((row) => row.actor_email === email).map((row) => row.action).reverse();
  }

  it('signs in with e-mail and password and sets a HttpOnly, SameSite=Lax session cookie', async () => {
    const browser = new DashboardClient(gw);
    const home = await browser.get('/dashboard');
    assert.deepEqual([home.status, home.location], [303, '/dashboard/login']);
    const login = await browser.get('/dashboard/login');
    assert.equal(login.status, 200);
    assert.match(login.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.match(login.text, /<label for="email">/);
    const signedIn = await browser.post('/dashboard/login', { csrf_token: csrfTokenIn(login.text), email: ' admin@shop.test ', password: PASSWORD });
    assert.deepEqual([signedIn.status, signedIn.location], [303, '/dashboard']);
    const cookie = signedIn.setCookies.find((line) => line.startsWith('zhifu_session='));
    assert.ok(cookie, signedIn.setCookies.join('\n'));
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Lax/);
    assert.match(cookie, /Path=\/dashboard/);
    assert.doesNotMatch(cookie, /Secure/, 'the public URL is http');
    assert.match(browser.cookies.get('zhifu_session') ?? '', /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
    const rows = await gw.database.db.selectFrom('operator_sessions').selectAll().execute();
    assert.ok(!rows.some((row) => row.id === browser.cookies.get('zhifu_session')), 'only the hash of the token is stored');
    const page = await browser.get('/dashboard');
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /admin@shop\.test/);
    assert.match(page.text, /data-testid="role">管理员</);
    const audit = (await listAudit(deps, gw.accountId, 10)).find((row) => row.action === 'sign_in');
    assert.equal(audit?.actor_email, 'admin@shop.test');
    assert.match(audit?.ip ?? '', /127\.0\.0\.1/);
  });

  it('answers a wrong password and an unknown e-mail identically, and audits both', async () => {
    const wrong = await new DashboardClient(gw).signIn('viewer@shop.test', 'not the password');
    const unknown = await new DashboardClient(gw).signIn('nobody@shop.test', 'not the password');
    assert.equal(wrong.status, 401);
    assert.equal(unknown.status, 401);
    const normalize = (text: string) => text.replace(/value="[^"]*"/g, 'value=""');
    assert.equal(normalize(wrong.text), normalize(unknown.text));
    assert.match(wrong.text, /邮箱或密码不正确/);
    assert.ok(!wrong.setCookies.some((line) => line.startsWith('zhifu_session=')));
    assert.deepEqual(await auditActions('viewer@shop.test'), ['sign_in.failed']);
    assert.deepEqual(await auditActions('nobody@shop.test'), ['sign_in.failed']);
  });

  it('refuses further sign-ins for an e-mail and IP after 5 failures in 15 minutes, even with the right password', async () => {
    await createOperator(deps, { accountId: gw.accountId, email: 'target@shop.test', password: PASSWORD, role: 'viewer', liveAccess: false });
    for (let i = 0; i < 5; i++) assert.equal((await new DashboardClient(gw).signIn('target@shop.test', `guess ${i} xxxxx`)).status, 401);
    const limited = await new DashboardClient(gw).signIn('target@shop.test', PASSWORD);
    assert.equal(limited.status, 429);
    assert.ok(!limited.setCookies.some((line) => line.startsWith('zhifu_session=')));
    assert.equal((await new DashboardClient(gw).signIn('admin@shop.test', PASSWORD)).status, 303, 'another e-mail from the same IP is not limited');
    clock.advance(SIGN_IN_WINDOW_MS);
    assert.equal((await new DashboardClient(gw).signIn('target@shop.test', PASSWORD)).status, 303, 'the window has passed');
    assert.deepEqual(await auditActions('target@shop.test'), [...Array(5).fill('sign_in.failed'), 'sign_in.rate_limited', 'sign_in']);
  });

  it('refuses a sign-in form without or with a wrong CSRF token, signing nobody in', async () => {
    const browser = new DashboardClient(gw);
    const page = await browser.get('/dashboard/login');
    const token = csrfTokenIn(page.text);
    const before = (await listAudit(deps, null, 1000)).length;
    const missing = await browser.post('/dashboard/login', { email: 'admin@shop.test', password: PASSWORD });
    const wrong = await browser.post('/dashboard/login', { csrf_token: `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, email: 'admin@shop.test', password: PASSWORD });
    const noCookie = await new DashboardClient(gw).post('/dashboard/login', { csrf_token: token, email: 'admin@shop.test', password: PASSWORD });
    assert.deepEqual([missing.status, wrong.status, noCookie.status], [403, 403, 403]);
    assert.ok(![missing, wrong, noCookie].some((answer) => answer.setCookies.some((line) => line.startsWith('zhifu_session='))));
    assert.equal((await listAudit(deps, null, 1000)).length, before, 'nothing was attempted');
  });

  it('refuses sign-out without its session CSRF token and keeps the session; with it, revokes the session', async () => {
    const browser = new DashboardClient(gw);
    assert.equal((await browser.signIn('viewer@shop.test', PASSWORD)).status, 303);
    const home = await browser.get('/dashboard');
    const token = csrfTokenIn(home.text);
    assert.equal((await browser.post('/dashboard/logout', {})).status, 403);
    assert.equal((await browser.post('/dashboard/logout', { csrf_token: 'x'.repeat(43) })).status, 403);
    const stolen = browser.cookies.get('zhifu_session') as string;
    const other = new DashboardClient(gw);
    assert.equal((await other.signIn('admin@shop.test', PASSWORD)).status, 303);
    assert.equal((await browser.post('/dashboard/logout', { csrf_token: csrfTokenIn((await other.get('/dashboard')).text) })).status, 403, "another session's token is not this one's");
    assert.equal((await browser.get('/dashboard')).status, 200, 'still signed in');

    const out = await browser.post('/dashboard/logout', { csrf_token: token });
    assert.deepEqual([out.status, out.location], [303, '/dashboard/login']);
    assert.equal(browser.cookies.has('zhifu_session'), false, 'the cookie is cleared');
    browser.cookies.set('zhifu_session', stolen);
    const replay = await browser.get('/dashboard');
    assert.deepEqual([replay.status, replay.location], [303, '/dashboard/login'], 'the old token no longer signs in');
    assert.equal(await loadSession(deps, stolen), null);
    assert.deepEqual((await auditActions('viewer@shop.test')).slice(-2), ['sign_in', 'sign_out']);
  });

  it('ends a session after 12 hours without a request, and activity keeps it alive', async () => {
    const browser = new DashboardClient(gw);
    assert.equal((await browser.signIn('admin@shop.test', PASSWORD)).status, 303);
    clock.advance(SESSION_IDLE_MS - 60_000);
    assert.equal((await browser.get('/dashboard')).status, 200, 'used just before expiry');
    clock.advance(SESSION_IDLE_MS - 60_000);
    assert.equal((await browser.get('/dashboard')).status, 200, 'the use moved the expiry');
    clock.advance(SESSION_IDLE_MS);
    const expired = await browser.get('/dashboard');
    assert.deepEqual([expired.status, expired.location], [303, '/dashboard/login']);
  });

  it('stores the role and exposes it to handlers: viewer and admin', async () => {
    const viewer = new DashboardClient(gw);
    await viewer.signIn('viewer@shop.test', PASSWORD);
    const session = await loadSession(deps, viewer.cookies.get('zhifu_session') as string);
    assert.deepEqual([session?.operator.role, session?.operator.liveAccess, session?.operator.accountId], ['viewer', false, gw.accountId]);
    const page = await viewer.get('/dashboard?lang=en');
    assert.match(page.text, /data-testid="role">Viewer</);
    const admin = new DashboardClient(gw);
    await admin.signIn('admin@shop.test', PASSWORD);
    assert.equal((await loadSession(deps, admin.cookies.get('zhifu_session') as string))?.operator.role, 'admin');
  });

  it('shows live data only to users with live access', async () => {
    const viewer = new DashboardClient(gw);
    await viewer.signIn('viewer@shop.test', PASSWORD);
    const refused = await viewer.get('/dashboard?mode=live');
    assert.equal(refused.status, 403);
    assert.doesNotMatch((await viewer.get('/dashboard')).text, /data-testid="mode-live"/, 'no switch offered');
    const admin = new DashboardClient(gw);
    await admin.signIn('admin@shop.test', PASSWORD);
    const live = await admin.get('/dashboard?mode=live');
    assert.equal(live.status, 200);
    assert.match(live.text, /data-mode="live"/);
    assert.match(live.text, /data-testid="mode-live"[^>]*aria-current="true"/);
  });

  it('shows on Home the volume and payment counts the API reports, per account and mode, and the attention count', async () => {
    const pay = async (key: string, amount: number, currency = 'CNY') => {
      const created = await api(gw, 'POST', '/v1/payment_intents', { key, json: { ...seedWebRequest(), amount, currency } });
      assert.equal(created.body.status, 'succeeded', created.text);
      return created.body;
    };
    await pay(gw.secretKey, 1250);
    await pay(gw.secretKey, 749);
    const paidOther = await pay(other.test.secretKey, 99_900);
    await pay(other.live.secretKey, 5_000);
    const charges = await api(gw, 'GET', '/v1/charges?limit=100', { key: gw.secretKey });
    const apiVolume = (charges.body.data as Array<{ amount: number; status: string; currency: string }>).filter((c) => c.status === 'succeeded' && c.currency.toUpperCase() === 'CNY').reduce((sum, c) => sum + c.amount, 0);
    assert.equal(apiVolume, 1999);
    const refund = await api(gw, 'POST', '/v1/refunds', { key: other.test.secretKey, json: { payment_intent: paidOther.id, amount: 100 } });
    assert.equal(refund.status, 200, refund.text);

    const admin = new DashboardClient(gw);
    await admin.signIn('admin@shop.test', PASSWORD);
    const home = (await admin.get('/dashboard?lang=en')).text;
    assert.match(home, /data-testid="today"><th scope="row">Today<\/th><td data-field="volume" data-minor="1999">CNY 19\.99<\/td><td data-field="payments">2<\/td><td data-field="success_rate">100\.0%<\/td><td data-field="refunded" data-minor="0">/);
    assert.match(home, /data-testid="last30">.*data-minor="1999"/);
    assert.match(home, /data-testid="chart-CNY"/);
    assert.match(home, new RegExp(`data-day="${new Date(clock.now()).toISOString().slice(0, 10)}" data-volume="1999"`));
    assert.match(home, /data-testid="attention-count">0</);
    assert.doesNotMatch(home, /99,900|999\.00/, "another account's payment is not shown");

    const owner = new DashboardClient(gw);
    await owner.signIn('owner@other.test', PASSWORD);
    const otherHome = (await owner.get('/dashboard?lang=en')).text;
    assert.match(otherHome, /data-testid="today">.*data-minor="99900">CNY 999\.00<\/td><td data-field="payments">1</);
    assert.doesNotMatch(otherHome, /data-minor="1999"/);
    assert.doesNotMatch(otherHome, /5,000|CNY 50\.00/, 'live payments are not in test mode');
    // The refund is pending (this connector cannot refund): only succeeded refunds count, as in the API's sums.
    assert.match(otherHome, /data-field="refunded" data-minor="0"/);

    await gw.database.db.insertInto('attention_items').values({
      id: 'att_1', object: 'refund', account_id: gw.accountId, livemode: 0, created: clock.now(), payment_intent_id: 'pi_x', request_id: 'r', amount: 1, currency: 'CNY', reason: 'test',
    }).execute();
    assert.match((await admin.get('/dashboard')).text, /data-testid="attention-count">1</);
    assert.match((await owner.get('/dashboard')).text, /data-testid="attention-count">0</);
  });

  it('switches language and remembers it', async () => {
    const browser = new DashboardClient(gw);
    const en = await browser.get('/dashboard/login?lang=en');
    assert.match(en.text, /<html lang="en">/);
    assert.match(en.text, />Sign in</);
    const again = await browser.get('/dashboard/login');
    assert.match(again.text, /<html lang="en">/, 'remembered');
    const zh = await browser.get('/dashboard/login?lang=zh');
    assert.match(zh.text, /<html lang="zh-CN">/);
    assert.match(zh.text, />登录</);
  });
});
