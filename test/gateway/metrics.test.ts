import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/gateway/config.js';
import { seedSessionRequest } from '../support/checkout-support.js';
import { api, ON_POSTGRES, seedWebRequest } from '../support/gateway-server.js';
import { codeValueOf, payInWallet, startPaymentStack, waitForIntentStatus, waitUntil, type PaymentStack } from '../support/e2e-harness.js';

const TOKEN = 'metrics-token-for-tests';

/** One sample of the text format: `name{labels} value`. */
interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses Prometheus text exposition (the subset prom-client writes: no timestamps). */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    samples.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return samples;
}

/** The value of the series with exactly these labels; 0 when it does not exist yet (a counter never incremented). */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).sort();
  const found = samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === JSON.stringify(wanted));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value ?? 0;
}

/** A webhook receiver that answers 200, or holds every request while `hold` is set. */
function startHoldingReceiver(): Promise<{ url: string; received: string[]; hold: boolean; release(): void; close(): Promise<void> }> {
  const held: ServerResponse[] = [];
  const state = {
    url: '', received: [] as string[], hold: false,
    release() { state.hold = false; for (const res of held.splice(0)) res.writeHead(200).end('ok'); },
    close: () => new Promise<void>((resolve) => { state.release(); server.close(() => resolve()); server.closeAllConnections(); }),
  };
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      state.received.push((JSON.parse(body) as { type: string }).type);
      if (state.hold) held.push(res);
      else res.writeHead(200).end('ok');
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    state.url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}/hooks`;
    resolve(state);
  }));
}

describe(`GET /metrics moves with the traffic (${ON_POSTGRES ? 'PostgreSQL' : 'SQLite'})`, () => {
  let stack: PaymentStack;
  let receiver: Awaited<ReturnType<typeof startHoldingReceiver>>;

  before(async () => {
    stack = await startPaymentStack({ config: { metricsToken: TOKEN } });
    receiver = await startHoldingReceiver();
  });
  after(async () => {
    await receiver.close();
    await stack.stop();
  });

  const scrape = async (): Promise<Sample[]> => {
    const got = await api(stack.gateway, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(got.status, 200, got.text);
    assert.match(got.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(got.text);
  };
  const key = () => stack.gateway.secretKey;

  it('refuses a scrape without the token (401) and serves it with the token, outside /v1 and without an API key', async () => {
    const none = await api(stack.gateway, 'GET', '/metrics');
    assert.equal(none.status, 401);
    assert.doesNotMatch(none.text, /zhifu_/);
    const wrong = await api(stack.gateway, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}x` } });
    assert.equal(wrong.status, 401);
    const apiKey = await api(stack.gateway, 'GET', '/metrics', { key: stack.gateway.secretKey });
    assert.equal(apiKey.status, 401, 'an API key is not the metrics token');
    const right = await api(stack.gateway, 'GET', '/metrics', { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(right.status, 200);
    const samples = parseExposition(right.text);
    assert.ok(valueOf(samples, 'zhifu_process_cpu_user_seconds_total') > 0, 'default process metrics, prefixed');
    assert.ok(samples.some((s) => s.name === 'zhifu_nodejs_eventloop_lag_seconds'));
    const connections = valueOf(samples, 'zhifu_database_connections', { state: 'total' });
    if (ON_POSTGRES) assert.ok(connections >= 1, `pool total ${connections}`);
    else assert.equal(connections, 1);
  });

  it('counts requests by route pattern and status, payments by outcome, Alipay+ calls by API and result code, webhook deliveries', async () => {
    const endpoint = await api(stack.gateway, 'POST', '/v1/webhook_endpoints', { key: key(), json: { url: receiver.url, enabled_events: ['payment_intent.succeeded', 'payment_intent.canceled'] } });
    assert.equal(endpoint.status, 200, endpoint.text);
    const s0 = await scrape();

    // A paid payment: create+confirm (pay answers U / PAYMENT_IN_PROCESS), the attempt waits for the shopper.
    const paid = await stack.createPaymentIntent({ ...seedWebRequest(), amount: 2500 });
    assert.equal(paid.status, 200, paid.text);
    assert.equal(paid.body.status, 'requires_action');
    const waiting = await scrape();
    assert.equal(valueOf(waiting, 'zhifu_worker_backlog', { queue: 'payment_attempts' }), 1, 'the open attempt is in the worker backlog');
    assert.equal((await payInWallet(stack, { codeValue: codeValueOf(paid.body), shopper: 'alice' })).status, 200);
    await waitForIntentStatus(stack, paid.body.id, 'succeeded');

    // A declined one.
    const declined = await stack.createPaymentIntent({ ...seedWebRequest(), amount: 1300 });
    assert.equal(declined.status, 200, declined.text);
    assert.equal((await payInWallet(stack, { codeValue: codeValueOf(declined.body), outcome: 'decline' })).status, 200);
    await waitForIntentStatus(stack, declined.body.id, 'requires_payment_method');

    // A partial refund of the paid one (refund answers S / SUCCESS).
    const refund = await api(stack.gateway, 'POST', '/v1/refunds', { key: key(), json: { payment_intent: paid.body.id, amount: 500 } });
    assert.equal(refund.status, 200, refund.text);
    assert.equal(refund.body.status, 'succeeded');

    // A 400 (the documented envelope, not a 500).
    const bad = await api(stack.gateway, 'POST', '/v1/payment_intents', { key: key(), json: { amount: 'lots', currency: 'cny' } });
    assert.equal(bad.status, 400, bad.text);

    // The succeeded event reaches the receiver.
    await waitUntil(() => receiver.received.includes('payment_intent.succeeded'), 'the payment_intent.succeeded webhook', 10_000);
    const delivered = await waitUntil(async () => {
      const now = await scrape();
      return valueOf(now, 'zhifu_webhook_delivery_attempts_total', { outcome: 'delivered' }) - valueOf(s0, 'zhifu_webhook_delivery_attempts_total', { outcome: 'delivered' }) >= 1 ? now : null;
    }, 'the delivery to be counted');
    const s1 = delivered;
    const delta = (name: string, labels: Record<string, string> = {}) => valueOf(s1, name, labels) - valueOf(s0, name, labels);

    assert.equal(delta('zhifu_http_requests_total', { method: 'POST', route: '/v1/payment_intents', status_code: '200' }), 2);
    assert.equal(delta('zhifu_http_requests_total', { method: 'POST', route: '/v1/payment_intents', status_code: '400' }), 1);
    assert.equal(delta('zhifu_http_requests_total', { method: 'POST', route: '/v1/refunds', status_code: '200' }), 1);
    assert.ok(delta('zhifu_http_requests_total', { method: 'GET', route: '/v1/payment_intents/:id', status_code: '200' }) >= 2, 'polls are counted under the route pattern');
    assert.equal(delta('zhifu_http_request_duration_seconds_count', { method: 'POST', route: '/v1/payment_intents' }), 3);
    assert.equal(delta('zhifu_http_request_duration_seconds_count', { method: 'POST', route: '/v1/refunds' }), 1);
    assert.ok(delta('zhifu_http_request_duration_seconds_sum', { method: 'POST', route: '/v1/payment_intents' }) > 0);
    assert.equal(delta('zhifu_http_request_duration_seconds_bucket', { method: 'POST', route: '/v1/payment_intents', le: '+Inf' }), 3);
    // Labels carry route patterns, never ids.
    assert.ok(!s1.some((s) => Object.values(s.labels).some((v) => /pi_|re_\d|ch_\d/.test(v))), 'no id in any label');

    assert.equal(delta('zhifu_payments_total', { outcome: 'succeeded', mode: 'test' }), 1);
    assert.equal(delta('zhifu_payments_total', { outcome: 'failed', mode: 'test' }), 1);
    assert.equal(delta('zhifu_payments_total', { outcome: 'canceled', mode: 'test' }), 0);

    assert.equal(delta('zhifu_alipayplus_calls_total', { api: 'pay', mode: 'test', result_status: 'U', result_code: 'PAYMENT_IN_PROCESS' }), 2);
    assert.equal(delta('zhifu_alipayplus_calls_total', { api: 'refund', mode: 'test', result_status: 'S', result_code: 'SUCCESS' }), 1);
    assert.equal(delta('zhifu_alipayplus_call_duration_seconds_count', { api: 'pay', mode: 'test' }), 2);
    assert.equal(delta('zhifu_alipayplus_call_duration_seconds_count', { api: 'refund', mode: 'test' }), 1);

    assert.equal(delta('zhifu_webhook_delivery_attempts_total', { outcome: 'delivered' }), 1);
    assert.equal(delta('zhifu_webhook_delivery_attempts_total', { outcome: 'retrying' }), 0);
    assert.equal(delta('zhifu_webhook_delivery_duration_seconds_count'), 1);
    assert.ok(delta('zhifu_worker_passes_total', { worker: 'webhooks' }) >= 1);
    // The attempt worker polls every 500 ms: its passes are counted too.
    await waitUntil(async () => valueOf(await scrape(), 'zhifu_worker_passes_total', { worker: 'attempts' }) > valueOf(s0, 'zhifu_worker_passes_total', { worker: 'attempts' }), 'an attempt worker pass');

    assert.equal(valueOf(s1, 'zhifu_worker_backlog', { queue: 'payment_attempts' }), 0, 'both attempts are final');
    assert.equal(valueOf(s1, 'zhifu_worker_backlog', { queue: 'refunds' }), 0);
    assert.equal(valueOf(s1, 'zhifu_worker_backlog', { queue: 'disputes' }), 0);
    assert.equal(valueOf(s1, 'zhifu_requires_attention_items', { object: 'payment_attempt' }), 0);
    assert.equal(valueOf(s1, 'zhifu_requires_attention_items', { object: 'refund' }), 0);
    assert.equal(valueOf(s1, 'zhifu_webhook_delivery_backlog'), 0);
  });

  it('shows a due delivery the receiver has not taken as backlog with a lag, and a cancel as a canceled payment', async () => {
    const s0 = await scrape();
    receiver.hold = true;
    const created = await stack.createPaymentIntent({ amount: 800, currency: 'cny' });
    assert.equal(created.status, 200, created.text);
    const canceled = await api(stack.gateway, 'POST', `/v1/payment_intents/${created.body.id}/cancel`, { key: key(), json: {} });
    assert.equal(canceled.status, 200, canceled.text);
    assert.equal(canceled.body.status, 'canceled');
    await waitUntil(() => receiver.received.filter((type) => type === 'payment_intent.canceled').length >= 1, 'the canceled webhook to be attempted', 10_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const pending = await scrape();
    assert.equal(valueOf(pending, 'zhifu_webhook_delivery_backlog'), 1, 'the held delivery is due and not delivered');
    assert.ok(valueOf(pending, 'zhifu_webhook_delivery_lag_seconds') >= 0.05, `lag ${valueOf(pending, 'zhifu_webhook_delivery_lag_seconds')}`);
    assert.equal(valueOf(pending, 'zhifu_payments_total', { outcome: 'canceled', mode: 'test' }) - valueOf(s0, 'zhifu_payments_total', { outcome: 'canceled', mode: 'test' }), 1);

    // A Checkout Session expired through the API cancels its PaymentIntent: one more canceled payment.
    const session = await api(stack.gateway, 'POST', '/v1/checkout/sessions', { key: key(), json: seedSessionRequest() });
    assert.equal(session.status, 200, session.text);
    const expired = await api(stack.gateway, 'POST', `/v1/checkout/sessions/${session.body.id}/expire`, { key: key(), json: {} });
    assert.equal(expired.status, 200, expired.text);
    const afterExpiry = await scrape();
    assert.equal(valueOf(afterExpiry, 'zhifu_payments_total', { outcome: 'canceled', mode: 'test' }) - valueOf(s0, 'zhifu_payments_total', { outcome: 'canceled', mode: 'test' }), 2);
    assert.equal(valueOf(afterExpiry, 'zhifu_http_requests_total', { method: 'POST', route: '/v1/checkout/sessions/:id/expire', status_code: '200' }), 1);

    receiver.release();
    // Both payment_intent.canceled events (the API cancel, the expired session's) are delivered once released.
    const deliveredSince = (now: Sample[]) => valueOf(now, 'zhifu_webhook_delivery_attempts_total', { outcome: 'delivered' }) - valueOf(s0, 'zhifu_webhook_delivery_attempts_total', { outcome: 'delivered' });
    const after = await waitUntil(async () => {
      const now = await scrape();
      return valueOf(now, 'zhifu_webhook_delivery_backlog') === 0 && deliveredSince(now) >= 2 ? now : null;
    }, 'the backlog to drain', 10_000);
    assert.equal(valueOf(after, 'zhifu_webhook_delivery_lag_seconds'), 0);
    assert.equal(deliveredSince(after), 2);
    assert.equal(valueOf(after, 'zhifu_webhook_delivery_attempts_total', { outcome: 'retrying' }), 0);
  });
});

describe('metrics configuration and isolation', () => {
  it('reads ZHIFU_METRICS_TOKEN (blank: no token)', () => {
    assert.equal(loadConfig({ ZHIFU_METRICS_TOKEN: ' s3cret ' }).metricsToken, 's3cret');
    assert.equal(loadConfig({ ZHIFU_METRICS_TOKEN: '' }).metricsToken ?? null, null);
    assert.equal(loadConfig({}).metricsToken ?? null, null);
  });

  it('serves /metrics without a token when none is configured, and two gateways in one process count apart', async () => {
    const one = await startPaymentStack({ worker: false });
    const two = await startPaymentStack({ worker: false });
    try {
      const bad = await api(one.gateway, 'POST', '/v1/payment_intents', { key: one.gateway.secretKey, json: { amount: -1, currency: 'cny' } });
      assert.equal(bad.status, 400);
      const labels = { method: 'POST', route: '/v1/payment_intents', status_code: '400' };
      const first = await api(one.gateway, 'GET', '/metrics');
      const second = await api(two.gateway, 'GET', '/metrics');
      assert.equal(first.status, 200);
      assert.equal(second.status, 200);
      assert.equal(valueOf(parseExposition(first.text), 'zhifu_http_requests_total', labels), 1);
      assert.equal(valueOf(parseExposition(second.text), 'zhifu_http_requests_total', labels), 0);
      assert.equal(valueOf(parseExposition(first.text), 'zhifu_http_requests_total', { method: 'GET', route: '/metrics', status_code: '200' }), 0, 'counted when answered, so not in its own body');
    } finally {
      await one.stop();
      await two.stop();
    }
  });
});
