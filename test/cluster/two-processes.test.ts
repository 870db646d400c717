import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { API_PATHS } from '../../src/alipayplus/wire.js';
import { NETWORK_SENDS_MAX } from '../../src/gateway/domain/schedule.js';
import { api, ON_POSTGRES } from '../support/gateway-server.js';
import { startReceiver, type Receiver } from '../support/webhook-harness.js';
import { startClusterStack, type ClusterStack, type SandboxRequest } from './cluster-stack.js';

/**
 * Two gateway processes of `zhifu start --processes 2` share one database: every scheduled piece
 * of work (an inquiry, a refund retry, a webhook delivery) must be done by exactly one of them,
 * and the rate limit must count both processes' requests together.
 */

const RATE_LIMIT = 20;
/** Two worker sends of one request id closer than this would be two processes doing one due check (the schedule's shortest step is 2 s). */
const SAME_CHECK_MS = 1_000;

describe('zhifu start --processes 2 (PostgreSQL)', { skip: !ON_POSTGRES && 'PostgreSQL only: SQLite runs one gateway process (cluster mode refuses it)' }, () => {
  let stack: ClusterStack;
  let receiver: Receiver;
  const key = () => stack.secretKey;
  const gateway = () => ({ url: stack.gatewayUrl });

  before(async () => {
    stack = await startClusterStack({ rateLimit: RATE_LIMIT });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await stack?.stop();
  });

  const control = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(stack.sandboxUrl + path, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const text = await response.text();
    assert.ok(response.ok, `${method} ${path}: HTTP ${response.status} ${text}`);
    return JSON.parse(text) as Record<string, unknown>;
  };
  const createAndConfirm = async (amount: number) => {
    const created = await api(gateway(), 'POST', '/v1/payment_intents', {
      key: key(),
      json: { amount, currency: 'CNY', payment_method_types: ['alipay'], payment_method_data: { type: 'alipay' }, payment_method_options: { alipay: { terminal_type: 'WEB', client_ip: '10.0.0.1' } }, return_url: 'https://shop.example/return', confirm: true },
    });
    assert.equal(created.status, 200, created.text);
    assert.equal(created.body.status, 'requires_action');
    return created.body as { id: string; next_action: { alipay_handle_redirect: { qr_code: { data: string } } } };
  };
  const waitFor = async <T>(check: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value) return value;
      assert.ok(Date.now() < deadline, `timed out waiting for ${what}\n${stack.output().slice(-3000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  const sendsOf = (path: string, field: string, id: string, fromMs = 0): SandboxRequest[] =>
    stack.sandboxRequests.filter((r) => r.path === path && r.body[field] === id && r.atMs >= fromMs);
  const assertOneSendPerCheck = (sends: SandboxRequest[], what: string) => {
    for (let i = 1; i < sends.length; i += 1) {
      const gap = (sends[i] as SandboxRequest).atMs - (sends[i - 1] as SandboxRequest).atMs;
      assert.ok(gap >= SAME_CHECK_MS, `${what}: two sends ${gap} ms apart — two processes did one check (${sends.map((s) => s.atMs).join(', ')})`);
    }
  };

  it('inquires an open attempt, retries a refund and delivers each webhook once across both processes', async () => {
    const endpoint = await api(gateway(), 'POST', '/v1/webhook_endpoints', { key: key(), json: { url: receiver.url, enabled_events: ['*'] } });
    assert.equal(endpoint.status, 200, endpoint.text);

    // A payment the shopper pays: notified by the sandbox, then refunded through a faulty network.
    const paid = await createAndConfirm(1200);
    await control('POST', '/sandbox/v1/wallet/pay', { codeValue: paid.next_action.alipay_handle_redirect.qr_code.data, outcome: 'success' });
    await waitFor(async () => (await api(gateway(), 'GET', `/v1/payment_intents/${paid.id}`, { key: key() })).body.status === 'succeeded', `${paid.id} to succeed`);

    // A payment left open: only the workers' inquiries can tell what became of it.
    const open = await createAndConfirm(800);
    const attempt = await stack.database.db.selectFrom('payment_attempts').select('payment_request_id').where('payment_intent_id', '=', open.id).executeTakeFirstOrThrow();

    // Each check (the request path's, then each worker retry) sends the refund up to
    // NETWORK_SENDS_MAX times while the answer is U. With twice that many U faults the request path
    // and the workers' first retry get only U, and the second retry succeeds at its first send.
    // Every send either takes a fault or gets the success, and a check stops at the success: so
    // exactly faults + 1 sends unless two processes ran one retry.
    const faults = 2 * NETWORK_SENDS_MAX;
    await control('POST', '/sandbox/v1/faults', { target: 'refund', kind: 'unknown', count: faults });
    const refund = await api(gateway(), 'POST', '/v1/refunds', { key: key(), json: { payment_intent: paid.id } });
    assert.equal(refund.status, 200, refund.text);
    assert.equal(refund.body.status, 'pending');
    const answeredAt = Date.now();
    await waitFor(async () => (await api(gateway(), 'GET', `/v1/refunds/${refund.body.id}`, { key: key() })).body.status === 'succeeded', `${refund.body.id} to succeed on the workers' retry`, 40_000);
    const refundRequestId = (await stack.database.db.selectFrom('refunds').select('refund_request_id').where('id', '=', refund.body.id).executeTakeFirstOrThrow()).refund_request_id;

    await waitFor(async () => sendsOf(API_PATHS.inquiryPayment, 'paymentRequestId', attempt.payment_request_id).length >= 3 || null, 'three inquiries of the open attempt', 40_000);

    // Let a duplicate, if there were one, arrive.
    const events = await stack.database.db.selectFrom('events').select('id').execute();
    await waitFor(async () => receiver.acceptedCounts().size >= events.length || null, `${events.length} webhook deliveries`);
    await new Promise((resolve) => setTimeout(resolve, 2_500));

    const refundSends = sendsOf(API_PATHS.refund, 'refundRequestId', refundRequestId);
    assert.equal(refundSends.length, faults + 1, `refund sends: ${faults} answered U, then the one that succeeded`);
    const retries = sendsOf(API_PATHS.refund, 'refundRequestId', refundRequestId, answeredAt);
    assert.equal(retries.length, NETWORK_SENDS_MAX + 1, 'the workers retried the refund twice in all');
    const retryChecks = checksOf(retries);
    assert.deepEqual(retryChecks.map((check) => check.length), [NETWORK_SENDS_MAX, 1], 'two retries, each one check by one process');
    const sandboxPayment = await control('GET', `/sandbox/v1/payments/${(await stack.database.db.selectFrom('payment_attempts').select('external_payment_id').where('payment_intent_id', '=', paid.id).executeTakeFirstOrThrow()).external_payment_id}`);
    assert.equal((sandboxPayment.refunds as unknown[]).length, 1, 'the sandbox holds one refund');

    assertOneSendPerCheck(sendsOf(API_PATHS.inquiryPayment, 'paymentRequestId', attempt.payment_request_id), 'inquiries of the open attempt');

    const allEvents = await stack.database.db.selectFrom('events').select('id').execute();
    const accepted = receiver.acceptedCounts();
    assert.deepEqual([...accepted.keys()].sort(), allEvents.map((e) => e.id).sort(), 'every event delivered');
    for (const [eventId, count] of accepted) assert.equal(count, 1, `${eventId} delivered ${count} times`);
    assert.equal(receiver.received.length, allEvents.length, 'no delivery sent twice');
  });

  it('shares the rate limit: twice the limit across both processes within one second gets 429s', async () => {
    // A burst that fits one window: start just after a second begins. Each request on its own
    // connection, so node:cluster's round robin hands them to the two processes alternately:
    // each process alone sees no more than the limit.
    let statuses: number[] = [];
    for (let tries = 0; tries < 10; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10));
      const startedAt = Date.now();
      statuses = await Promise.all(Array.from({ length: 2 * RATE_LIMIT }, () => getOnNewConnection(`${stack.gatewayUrl}/v1/payment_intents?limit=1`, `Basic ${Buffer.from(`${key()}:`).toString('base64')}`)));
      if (Math.floor(Date.now() / 1000) === Math.floor(startedAt / 1000)) break;
      statuses = [];
    }
    assert.ok(statuses.length > 0, 'no burst fitted in one second in 10 tries');
    const granted = statuses.filter((s) => s === 200).length;
    const refused = statuses.filter((s) => s === 429).length;
    assert.equal(granted + refused, statuses.length, `only 200 and 429: ${statuses.join(',')}`);
    assert.ok(granted <= RATE_LIMIT, `${granted} granted in one second with a limit of ${RATE_LIMIT}`);
    assert.ok(refused >= RATE_LIMIT, `${refused} refused`);
  });

  it('a revoked key stops working in every process within the key cache\'s few seconds', async () => {
    // Both processes have the key cached (the bursts above went to both).
    await stack.database.db.updateTable('api_keys').set({ revoked_at: Date.now() }).where('kind', '=', 'secret').execute();
    const authorization = `Bearer ${key()}`;
    await waitFor(async () => {
      const statuses = await Promise.all(Array.from({ length: 6 }, () => getOnNewConnection(`${stack.gatewayUrl}/v1/payment_intents?limit=1`, authorization)));
      return statuses.every((status) => status === 401) || null;
    }, 'the revoked key to be refused by both processes', 20_000);
  });

  it('stops both processes gracefully on SIGTERM', async () => {
    assert.equal(await stack.stopGateways(), 0, stack.output().slice(-3000));
  });
});

/** Sends grouped into checks: a check's own re-sends follow each other within NETWORK_RESEND_BACKOFF_MS × n; checks are seconds apart. */
function checksOf(sends: SandboxRequest[]): SandboxRequest[][] {
  const checks: SandboxRequest[][] = [];
  for (const send of sends) {
    const last = checks.at(-1);
    if (last !== undefined && send.atMs - (last.at(-1) as SandboxRequest).atMs < SAME_CHECK_MS) last.push(send);
    else checks.push([send]);
  }
  return checks;
}

function getOnNewConnection(url: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { authorization } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}
