import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIdGenerator } from '../../src/gateway/ids.js';
import { createOperator } from '../../src/gateway/core/operators.js';
import { api, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';
import { DashboardClient, csrfTokenIn } from '../support/dashboard-client.js';
import { startReceiver } from '../support/webhook-harness.js';
import type { Receiver } from '../support/webhook-harness.js';

const PASSWORD = 'correct horse battery';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` returns a value (the webhook worker and the request log writer work off the request path). */
async function eventually<T>(probe: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** The form of a page whose action is `action`, with its CSRF token. */
function formToken(page: string, action: string): string {
  const index = page.indexOf(`action="${action}"`);
  assert.ok(index >= 0, `a form posting to ${action}`);
  return csrfTokenIn(page.slice(index));
}

describe('dashboard: Developers (webhooks, events, request logs, audit log)', () => {
  let gw: TestGateway;
  let receiver: Receiver;
  let failing = true;
  let admin: DashboardClient;
  let viewer: DashboardClient;
  let stranger: DashboardClient;
  let other: Awaited<ReturnType<TestGateway['newAccount']>>;
  let endpointId = '';
  let secret = '';
  let eventId = '';

  before(async () => {
    gw = await startTestGateway();
    receiver = await startReceiver(() => (failing ? 500 : 200));
    other = await gw.newAccount();
    const deps = { database: gw.database, clock: gw.clock, ids: createIdGenerator(gw.clock) };
    await createOperator(deps, { accountId: gw.accountId, email: 'admin@shop.test', password: PASSWORD, role: 'admin', liveAccess: true });
    await createOperator(deps, { accountId: gw.accountId, email: 'viewer@shop.test', password: PASSWORD, role: 'viewer', liveAccess: false });
    await createOperator(deps, { accountId: other.accountId, email: 'admin@other.test', password: PASSWORD, role: 'admin', liveAccess: true });
    admin = new DashboardClient(gw);
    viewer = new DashboardClient(gw);
    stranger = new DashboardClient(gw);
    assert.equal((await admin.signIn('admin@shop.test', PASSWORD)).status, 303);
    assert.equal((await viewer.signIn('viewer@shop.test', PASSWORD)).status, 303);
    assert.equal((await stranger.signIn('admin@other.test', PASSWORD)).status, 303);
  });
  after(async () => {
    await receiver?.close();
    await gw?.stop();
  });

  it('creates an endpoint from the form, shows its signing secret exactly once, and the API sees it', async () => {
    const list = await admin.get('/dashboard/webhooks');
    assert.equal(list.status, 200);
    assert.match(list.text, /data-testid="tab-webhooks"[^>]*aria-current="page"/);
    assert.match(list.text, /data-testid="empty"/);
    const created = await admin.post('/dashboard/webhooks', {
      csrf_token: formToken(list.text, '/dashboard/webhooks'), url: receiver.url, description: 'Order system', 'enabled_events[0]': 'payment_intent.created',
    });
    assert.equal(created.status, 303, created.text);
    const match = /^\/dashboard\/webhooks\/(we_\w+)\?done=created$/.exec(created.location ?? '');
    assert.ok(match, `redirect to the new endpoint: ${created.location}`);
    endpointId = match[1]!;

    const first = await admin.get(created.location!);
    assert.equal(first.status, 200);
    secret = /data-testid="endpoint-secret">(whsec_\w+)</.exec(first.text)?.[1] ?? '';
    assert.match(secret, /^whsec_\w{32}$/, 'the secret is on the first view');
    assert.match(first.text, /data-testid="notice"/);
    const again = await admin.get(`/dashboard/webhooks/${endpointId}`);
    assert.equal(again.status, 200);
    assert.ok(!again.text.includes(secret), 'the secret is never shown again');
    assert.ok(!again.text.includes('endpoint-secret'));

    const seen = await api(gw, 'GET', `/v1/webhook_endpoints/${endpointId}`, { key: gw.secretKey });
    assert.equal(seen.status, 200);
    assert.deepEqual([seen.body.url, seen.body.enabled_events, seen.body.description, seen.body.status], [receiver.url, ['payment_intent.created'], 'Order system', 'enabled']);
    assert.equal(seen.body.secret, undefined);
    // Signed with the secret shown: a delivery's signature verifies with it (checked below), and no audit entry holds it.
    const audit = await gw.database.db.selectFrom('audit_log').selectAll().where('account_id', '=', gw.accountId).execute();
    assert.ok(audit.some((entry) => entry.action === 'webhook_endpoint.create.succeeded' && (entry.detail ?? '').includes(endpointId)));
    assert.ok(audit.every((entry) => !(entry.detail ?? '').includes(secret)), 'the secret is not in the audit log');
  });

  it('refuses a bad URL inline (400, nothing created) and an unknown event type', async () => {
    const list = await admin.get('/dashboard/webhooks');
    const token = formToken(list.text, '/dashboard/webhooks');
    const bad = await admin.post('/dashboard/webhooks', { csrf_token: token, url: 'ftp://example.com/hook', 'enabled_events[0]': '*' });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /data-testid="form-error">[^<]*(http|URL)/);
    assert.match(bad.text, /value="ftp:\/\/example.com\/hook"/, 'what was entered is kept');
    const unknown = await admin.post('/dashboard/webhooks', { csrf_token: token, url: 'https://example.com/hook', 'enabled_events[0]': 'payment_intent.exploded' });
    assert.equal(unknown.status, 400);
    assert.match(unknown.text, /payment_intent.exploded/);
    const none = await admin.post('/dashboard/webhooks', { csrf_token: token, url: 'https://example.com/hook' });
    assert.equal(none.status, 400);
    const endpoints = await api(gw, 'GET', '/v1/webhook_endpoints', { key: gw.secretKey });
    assert.equal(endpoints.body.data.length, 1);
  });

  it('shows a failed attempt\'s status, latency and body, and a retry makes a new successful attempt', async () => {
    const intent = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 1200, currency: 'cny' } });
    assert.equal(intent.status, 200);
    const event = await eventually(async () => {
      const events = await api(gw, 'GET', '/v1/events?type=payment_intent.created', { key: gw.secretKey });
      return (events.body.data as { id: string; data: { object: { id: string } } }[]).find((e) => e.data.object.id === intent.body.id);
    }, 'the event');
    eventId = event.id;
    const failedPage = await eventually(async () => {
      const page = await admin.get(`/dashboard/webhooks/${endpointId}`);
      return page.text.includes('data-testid="attempt"') ? page.text : null;
    }, 'the failed attempt in the delivery log');
    assert.ok(receiver.received.some((r) => r.eventId === eventId && r.status === 500));
    assert.match(failedPage, new RegExp(`data-testid="delivery-event">${eventId}<`));
    assert.match(failedPage, /data-testid="attempt" data-status-code="500"/);
    assert.match(failedPage, /data-field="status_code">500</);
    assert.match(failedPage, /data-field="latency">\d+ (ms|毫秒)</);
    assert.match(failedPage, /data-field="response_body">receiver says no \(500\)</);
    assert.match(failedPage, /data-status="retrying"/, 'a failed first attempt leaves the delivery retrying on its schedule');

    failing = false;
    const deliveryId = /data-testid="delivery" data-id="(whd_\d+)"/.exec(failedPage)?.[1];
    assert.ok(deliveryId);
    const retry = await admin.post(`/dashboard/webhooks/${endpointId}/deliveries/${deliveryId}/retry`, { csrf_token: formToken(failedPage, `/dashboard/webhooks/${endpointId}/deliveries/${deliveryId}/retry`) });
    assert.equal(retry.status, 303, retry.text);
    assert.equal(retry.location, `/dashboard/webhooks/${endpointId}?done=retried`);
    const delivered = await eventually(async () => {
      const page = await admin.get(`/dashboard/webhooks/${endpointId}`);
      return /data-status="delivered"/.test(page.text) ? page.text : null;
    }, 'the retried delivery');
    assert.match(delivered, /data-testid="attempt" data-status-code="200"/);
    assert.match(delivered, /data-field="response_body">ok</);
    // The old delivery was superseded (canceled), not sent twice; the receiver accepted the event once.
    assert.match(delivered, /data-status="canceled"/);
    assert.equal(receiver.acceptedCounts().get(eventId), 1);
    const accepted = receiver.received.find((r) => r.eventId === eventId && r.status === 200)!;
    assert.match(String(accepted.headers['stripe-signature']), /^t=\d+,v1=[0-9a-f]{64}$/);

    // The delivery log filters by status.
    const onlyFailed = await admin.get(`/dashboard/webhooks/${endpointId}?status=delivered`);
    assert.equal(onlyFailed.status, 200);
    assert.ok(!onlyFailed.text.includes('data-status="canceled"'));
    assert.equal((await admin.get(`/dashboard/webhooks/${endpointId}?status=exploded`)).status, 400);
  });

  it('edits, disables and enables an endpoint, with the API seeing each change', async () => {
    const page = await admin.get(`/dashboard/webhooks/${endpointId}`);
    const token = formToken(page.text, `/dashboard/webhooks/${endpointId}`);
    const edited = await admin.post(`/dashboard/webhooks/${endpointId}`, {
      csrf_token: token, url: `${receiver.url}?v=2`, description: 'Orders v2', 'enabled_events[0]': 'payment_intent.succeeded', 'enabled_events[1]': 'charge.refunded',
    });
    assert.equal(edited.status, 303, edited.text);
    let seen = await api(gw, 'GET', `/v1/webhook_endpoints/${endpointId}`, { key: gw.secretKey });
    assert.deepEqual([seen.body.url, seen.body.enabled_events, seen.body.description], [`${receiver.url}?v=2`, ['payment_intent.succeeded', 'charge.refunded'], 'Orders v2']);

    const refused = await admin.post(`/dashboard/webhooks/${endpointId}`, { csrf_token: token, url: 'not a url', 'enabled_events[0]': '*' });
    assert.equal(refused.status, 400);
    assert.match(refused.text, /data-testid="form-error"/);
    seen = await api(gw, 'GET', `/v1/webhook_endpoints/${endpointId}`, { key: gw.secretKey });
    assert.equal(seen.body.url, `${receiver.url}?v=2`, 'a refused edit changes nothing');

    const disabled = await admin.post(`/dashboard/webhooks/${endpointId}/disable`, { csrf_token: token });
    assert.equal(disabled.status, 303);
    assert.equal((await api(gw, 'GET', `/v1/webhook_endpoints/${endpointId}`, { key: gw.secretKey })).body.status, 'disabled');
    const shown = await admin.get(disabled.location!);
    assert.match(shown.text, /data-testid="endpoint-status"><span class="badge bad" data-status="disabled"/);
    assert.match(shown.text, /data-testid="enable-endpoint"/);
    const enabled = await admin.post(`/dashboard/webhooks/${endpointId}/enable`, { csrf_token: token });
    assert.equal(enabled.status, 303);
    assert.equal((await api(gw, 'GET', `/v1/webhook_endpoints/${endpointId}`, { key: gw.secretKey })).body.status, 'enabled');
  });

  it('lists events by type and shows one with its JSON (escaped) and its deliveries', async () => {
    const list = await admin.get('/dashboard/events?type=payment_intent.created');
    assert.equal(list.status, 200);
    assert.match(list.text, new RegExp(`data-testid="event-row" data-id="${eventId}"`));
    const none = await admin.get('/dashboard/events?type=charge.refunded');
    assert.ok(!none.text.includes(eventId));
    assert.equal((await admin.get('/dashboard/events?type=%3Cscript%3E')).status, 400);
    const detail = await admin.get(`/dashboard/events/${eventId}`);
    assert.equal(detail.status, 200);
    assert.match(detail.text, /data-testid="event-body"[^>]*>\{\n {2}&quot;id&quot;: &quot;evt_/);
    assert.match(detail.text, /data-testid="event-delivery" data-status="delivered"/);
    assert.match(detail.text, /data-testid="event-delivery" data-status="canceled"/);
  });

  it('links a /v1 error to its request log entry, which shows the request with its secrets redacted', async () => {
    const created = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 800, currency: 'cny' }, headers: { 'Idempotency-Key': 'dash-log-1' } });
    assert.equal(created.status, 200);
    const clientSecret = created.body.client_secret as string;
    const refused = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: -5, currency: 'cny', metadata: { api_key: 'sk_test_notreallyakey123' } } });
    assert.equal(refused.status, 400);
    const requestId = refused.headers.get('request-id')!;
    assert.equal(refused.body.error.request_log_url, `${gw.url}/dashboard/logs/${requestId}`);
    // Requests the log does not capture get no link: no key (401), and an unknown URL (404).
    const unauthenticated = await api(gw, 'POST', '/v1/payment_intents', { json: { amount: 1 } });
    assert.equal(unauthenticated.status, 401);
    assert.equal(unauthenticated.body.error.request_log_url, undefined);
    const unrouted = await api(gw, 'GET', '/v1/nothing_here', { key: gw.secretKey });
    assert.equal(unrouted.status, 404);
    assert.equal(unrouted.body.error.request_log_url, undefined);
    // Live keys link to the live page.
    const live = await api(gw, 'POST', '/v1/payment_intents', { key: other.live.secretKey, json: { amount: -1, currency: 'cny' } });
    assert.equal(live.body.error.request_log_url, `${gw.url}/dashboard/logs/${live.headers.get('request-id')}?mode=live`);

    const path = new URL(refused.body.error.request_log_url as string).pathname;
    const entry = await eventually(async () => {
      await gw.running.requestLogs!.flush();
      const page = await admin.get(path);
      return page.status === 200 ? page.text : null;
    }, 'the request log entry');
    assert.match(entry, new RegExp(`data-testid="log-request-id">${requestId}<`));
    assert.match(entry, /data-status="pending">400</);
    assert.match(entry, /data-testid="log-method-value">POST</);
    assert.match(entry, /data-testid="log-path-value">\/v1\/payment_intents</);
    assert.match(entry, new RegExp(`data-testid="log-api-key">…${gw.secretKey.slice(-4)}<`));
    assert.match(entry, /data-testid="log-duration">\d+ (ms|毫秒)</);
    assert.match(entry, /&quot;api_key&quot;: &quot;\[REDACTED\]&quot;/);
    assert.ok(!entry.includes('sk_test_notreallyakey123'));
    assert.match(entry, /data-testid="log-response-body"[^>]*>[^<]*parameter_invalid|amount/);

    const createdPath = `/dashboard/logs/${created.headers.get('request-id')}`;
    const createdEntry = await admin.get(createdPath);
    assert.equal(createdEntry.status, 200);
    assert.match(createdEntry.text, /data-testid="log-idempotency-key">dash-log-1</);
    assert.ok(!createdEntry.text.includes(clientSecret), 'the client secret is redacted from the logged response');
    assert.match(createdEntry.text, /&quot;client_secret&quot;: &quot;\[REDACTED\]&quot;/);

    // The list, filtered by status class and path; malformed filters are a 400 page.
    const errors = await admin.get('/dashboard/logs?status=4xx&path=%2Fv1%2Fpayment_intents');
    assert.equal(errors.status, 200);
    assert.match(errors.text, new RegExp(`data-testid="log-row" data-id="${requestId}"`));
    assert.ok(!errors.text.includes(`data-id="${created.headers.get('request-id')}"`), 'the 200 is not a 4xx');
    const posts = await admin.get(`/dashboard/logs?method=POST&status=200&date=${new Date().toISOString().slice(0, 10)}`);
    assert.match(posts.text, new RegExp(`data-id="${created.headers.get('request-id')}"`));
    for (const bad of ['status=4x', 'method=PATCH', 'date=2026-02-30', 'path=v1']) {
      const page = await admin.get(`/dashboard/logs?${bad}`);
      assert.equal(page.status, 400, bad);
    }
  });

  it('answers 404 for another account\'s log entry, endpoint and event, and refuses its actions', async () => {
    const log = await admin.get('/dashboard/logs');
    const requestId = /data-testid="log-row" data-id="(req_\d+)"/.exec(log.text)?.[1];
    assert.ok(requestId);
    assert.equal((await stranger.get(`/dashboard/logs/${requestId}`)).status, 404);
    assert.equal((await stranger.get(`/dashboard/webhooks/${endpointId}`)).status, 404);
    assert.equal((await stranger.get(`/dashboard/events/${eventId}`)).status, 404);
    const page = await stranger.get('/dashboard/webhooks');
    assert.ok(!page.text.includes(endpointId));
    const token = csrfTokenIn(page.text);
    assert.equal((await stranger.post(`/dashboard/webhooks/${endpointId}/disable`, { csrf_token: token })).status, 404);
    assert.equal((await stranger.post(`/dashboard/webhooks/${endpointId}`, { csrf_token: token, url: 'https://evil.test/', 'enabled_events[0]': '*' })).status, 404);
    assert.equal((await api(gw, 'GET', `/v1/webhook_endpoints/${endpointId}`, { key: gw.secretKey })).body.status, 'enabled');
    // Test pages do not show live logs either.
    assert.equal((await admin.get(`/dashboard/logs/${requestId}?mode=live`)).status, 404);
  });

  it('shows viewers the pages without forms and refuses their actions with 403', async () => {
    const list = await viewer.get('/dashboard/webhooks');
    assert.equal(list.status, 200);
    assert.ok(!list.text.includes('create-endpoint-form'));
    const detail = await viewer.get(`/dashboard/webhooks/${endpointId}`);
    assert.equal(detail.status, 200);
    assert.ok(!detail.text.includes('retry-delivery') && !detail.text.includes('disable-endpoint') && !detail.text.includes('edit-endpoint-form'));
    const token = csrfTokenIn(list.text);
    assert.equal((await viewer.post('/dashboard/webhooks', { csrf_token: token, url: 'https://example.com/x', 'enabled_events[0]': '*' })).status, 403);
    assert.equal((await viewer.post(`/dashboard/webhooks/${endpointId}/disable`, { csrf_token: token })).status, 403);
    const deliveryId = /data-testid="delivery" data-id="(whd_\d+)"/.exec(detail.text)?.[1];
    assert.equal((await viewer.post(`/dashboard/webhooks/${endpointId}/deliveries/${deliveryId}/retry`, { csrf_token: token })).status, 403);
    assert.equal((await api(gw, 'GET', '/v1/webhook_endpoints', { key: gw.secretKey })).body.data.length, 1);
    assert.equal((await api(gw, 'GET', `/v1/webhook_endpoints/${endpointId}`, { key: gw.secretKey })).body.status, 'enabled');
    // A form without its token is refused before anything runs.
    assert.equal((await admin.post(`/dashboard/webhooks/${endpointId}/disable`, {})).status, 403);
  });

  it('lists the account\'s audit log for viewers too: who did what to which object', async () => {
    const page = await viewer.get('/dashboard/audit');
    assert.equal(page.status, 200);
    for (const action of ['webhook_endpoint.create', 'webhook_endpoint.create.succeeded', 'webhook_endpoint.update.succeeded', 'webhook_endpoint.disable.succeeded', 'webhook_delivery.retry.succeeded', 'webhook_endpoint.create.failed']) {
      assert.match(page.text, new RegExp(`data-testid="audit-row" data-action="${action.replace(/\./g, '\\.')}"`), action);
    }
    assert.match(page.text, new RegExp(`href="/dashboard/webhooks/${endpointId}" data-testid="audit-object"`));
    assert.match(page.text, /admin@shop\.test/);
    assert.ok(!page.text.includes('admin@other.test'), 'another account\'s operators are not in this log');
    assert.ok(!page.text.includes(secret));
    assert.equal((await viewer.get('/dashboard/audit?starting_after=aud_nope')).status, 400);
  });
});

describe('request_log_url with the request log off', () => {
  it('is left out of errors when ZHIFU_REQUEST_LOG_RETENTION_DAYS=0 turned the log off (no entry would exist)', async () => {
    const gw = await startTestGateway({ config: { requestLogRetentionDays: 0 } });
    try {
      assert.equal(gw.running.requestLogs, null);
      const refused = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: -5, currency: 'cny' } });
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.param, 'amount');
      assert.equal(refused.body.error.request_log_url, undefined);
    } finally {
      await gw.stop();
    }
  });
});
