import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { WEBHOOK_ATTEMPTS_MAX, WEBHOOK_RETRY_DELAYS_MS, retryDelayMs } from '../../src/gateway/webhooks/schedule.js';
import { signatureHeader } from '../../src/gateway/webhooks/signing.js';
import { claimDeliveries } from '../../src/gateway/store/webhook_deliveries.js';
import { ManualClock, api } from '../support/gateway-server.js';
import {
  TEST_KEYS, createEndpoint, createIntent, createdEventOf, deleteAllEndpoints, parseSignature, sharedDatabase, startReceiver, startWebhookGateway,
} from '../support/webhook-harness.js';
import type { Receiver, SharedDatabase, WebhookGateway } from '../support/webhook-harness.js';

const MINUTE = 60_000;
const stripe = new Stripe('sk_test_unused', { maxNetworkRetries: 0 });
const key = TEST_KEYS.secretKey;

/** The deliveries of an endpoint (GET …/deliveries), newest first. */
async function deliveriesOf(gw: WebhookGateway, endpointId: string, query = ''): Promise<any[]> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const response = await api(gw, 'GET', `/v1/webhook_endpoints/${endpointId}/deliveries?limit=100${query}`, { key });
  assert.equal(response.status, 200, response.text);
  return response.body.data;
}

async function pendingWebhooks(gw: WebhookGateway, eventId: string): Promise<number> {
  return (await api(gw, 'GET', `/v1/events/${eventId}`, { key })).body.pending_webhooks;
}

describe('webhook schedule and signing (pure)', () => {
  it('has 18 attempts over about 72 hours, doubling from one minute capped at eight hours', () => {
    assert.equal(WEBHOOK_ATTEMPTS_MAX, 18);
    assert.deepEqual(WEBHOOK_RETRY_DELAYS_MS.map((ms) => ms / MINUTE), [1, 2, 4, 8, 16, 32, 64, 128, 256, 480, 480, 480, 480, 480, 480, 480, 480]);
    const totalMs = WEBHOOK_RETRY_DELAYS_MS.reduce((a, b) => a + b, 0);
    assert.equal(totalMs, (72 * 60 + 31) * MINUTE);
    assert.equal(retryDelayMs(1, () => 0.5), MINUTE);
    assert.equal(retryDelayMs(1, () => 0), 54_000);
    assert.equal(retryDelayMs(17, () => 0.999999), Math.round(480 * MINUTE * (1 + 0.1 * (2 * 0.999999 - 1))));
    assert.equal(retryDelayMs(18, () => 0.5), null);
    assert.throws(() => retryDelayMs(0, () => 0.5), RangeError);
  });

  it('signs with the documented test vector', () => {
    assert.equal(signatureHeader('whsec_test_vector_secret', 1700000000, '{"id":"evt_1"}'), 't=1700000000,v1=badac81e2c6f6428bad5ac0b02c605d3b7d54bf37b9377c4a358c1119ffccb5c');
  });
});

describe('webhook delivery', () => {
  let shared: SharedDatabase;
  let clock: ManualClock;
  let gw: WebhookGateway;
  const receivers: Receiver[] = [];
  const receiver = async (answer?: Receiver['answer'], options?: { delayMs?: number }) => {
    const r = await startReceiver(answer, options);
    receivers.push(r);
    return r;
  };

  before(async () => {
    shared = await sharedDatabase();
    clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    gw = await startWebhookGateway(shared, { clock });
  });
  // Each test counts its own endpoints' deliveries: none survive it.
  afterEach(() => deleteAllEndpoints(gw));
  after(async () => {
    await gw.stop();
    for (const r of receivers) await r.close();
    await shared.cleanup();
  });

  it('POSTs the exact event JSON, signed so that stripe.webhooks.constructEvent and a plain HMAC check verify it', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(gw, { url: r.url, enabled_events: ['payment_intent.created'] });
    const pi = await createIntent(gw);
    assert.equal(await gw.running.webhooks.runOnce(), 1);
    assert.equal(r.received.length, 1);
    const got = r.received[0]!;
    const event = stripe.webhooks.constructEvent(got.body, got.headers['stripe-signature']!, endpoint.secret, 300, undefined, clock.now());
    assert.deepEqual([event.type, (event.data.object as { id: string }).id], ['payment_intent.created', pi]);
    assert.equal(got.headers['wooshpay-signature'], got.headers['stripe-signature']);
    assert.match(got.headers['content-type'] ?? '', /^application\/json/);
    const { t, v1 } = parseSignature(got.headers['wooshpay-signature']);
    assert.equal(t, Math.floor(clock.now() / 1000));
    assert.equal(v1, createHmac('sha256', endpoint.secret).update(`${t}.${got.body}`).digest('hex'));
    assert.throws(() => stripe.webhooks.constructEvent(got.body, got.headers['stripe-signature']!, 'whsec_wrong', 300, undefined, clock.now()));
    const stored = (await api(gw, 'GET', `/v1/events/${event.id}`, { key })).body;
    assert.deepEqual(JSON.parse(got.body), { ...stored, pending_webhooks: 1 }, 'the body is the event as created (one delivery pending then)');
    assert.equal(stored.pending_webhooks, 0);
  });

  it('retries a failing receiver exactly on schedule, re-signing the same bytes each time', async () => {
    const r = await receiver(({ index }) => (index < 3 ? 500 : 200));
    const endpoint = await createEndpoint(gw, { url: r.url, enabled_events: ['payment_intent.created'] });
    await gw.running.webhooks.runOnce();
    const t0 = clock.now();
    await createIntent(gw);
    assert.equal(await gw.running.webhooks.runOnce(), 1);
    for (const [waitMs, expected] of [[MINUTE - 1, 0], [1, 1], [2 * MINUTE - 1, 0], [1, 1], [4 * MINUTE, 1], [8 * MINUTE, 0]] as const) {
      clock.advance(waitMs);
      assert.equal(await gw.running.webhooks.runOnce(), expected, `after ${clock.now() - t0} ms`);
    }
    assert.deepEqual(r.received.map((x) => parseSignature(x.headers['wooshpay-signature']).t * 1000 - t0), [0, MINUTE, 3 * MINUTE, 7 * MINUTE]);
    assert.deepEqual(r.received.map((x) => x.status), [500, 500, 500, 200]);
    assert.equal(new Set(r.received.map((x) => x.body)).size, 1, 'every attempt sends identical bytes');
    const [delivery] = await deliveriesOf(gw, endpoint.id);
    assert.deepEqual([delivery.status, delivery.attempt_count, delivery.next_retry_at, delivery.delivered_at, delivery.last_status_code], ['delivered', 4, null, t0 + 7 * MINUTE, 200]);
    assert.deepEqual(delivery.attempts.map((a: { attempted_at: number }) => a.attempted_at - t0), [0, MINUTE, 3 * MINUTE, 7 * MINUTE]);
    assert.deepEqual(delivery.attempts.map((a: { status_code: number }) => a.status_code), [500, 500, 500, 200]);
    assert.deepEqual(delivery.attempts.map((a: { next_retry_at: number | null }) => (a.next_retry_at === null ? null : a.next_retry_at - t0)), [MINUTE, 3 * MINUTE, 7 * MINUTE, null]);
    assert.equal(delivery.attempts[0].error, 'HTTP 500: receiver says no (500)');
    assert.equal(delivery.attempts[3].error, null);
    assert.ok(delivery.attempts.every((a: { latency_ms: number }) => Number.isInteger(a.latency_ms) && a.latency_ms >= 0));
    assert.equal(await pendingWebhooks(gw, delivery.event), 0);
  });

  it('gives up after 18 attempts over about 72 hours (jitter from the injected random source)', async () => {
    // A second process over the same database, with its own clock and a low jitter draw.
    const clock2 = new ManualClock(clock.now() + 1000 * 60 * MINUTE);
    const low = await startWebhookGateway(shared, { clock: clock2, webhooks: { random: () => 0 } });
    try {
      const r = await receiver(() => 503);
      const endpoint = await createEndpoint(low, { url: r.url, enabled_events: ['*'] });
      const t0 = clock2.now();
      const eventId = (await createdEventOf(low, await createIntent(low))).id;
      const expected = [0];
      for (const ms of WEBHOOK_RETRY_DELAYS_MS) expected.push(expected[expected.length - 1]! + Math.round(ms * 0.9));
      for (const at of expected) {
        clock2.ms = t0 + at;
        assert.equal(await low.running.webhooks.runOnce(), 1, `attempt due at +${at} ms`);
      }
      clock2.advance(100 * 60 * MINUTE);
      assert.equal(await low.running.webhooks.runOnce(), 0);
      const [delivery] = await deliveriesOf(low, endpoint.id);
      assert.deepEqual([delivery.status, delivery.attempt_count, delivery.next_retry_at], ['failed', 18, null]);
      assert.deepEqual(delivery.attempts.map((a: { attempted_at: number }) => a.attempted_at - t0), expected);
      assert.equal(delivery.attempts[17].next_retry_at, null);
      assert.equal(expected[17], Math.round(0.9 * (72 * 60 + 31) * MINUTE));
      assert.equal(await pendingWebhooks(low, eventId), 1, 'a failed delivery still counts as not delivered');
    } finally {
      await deleteAllEndpoints(low);
      await low.stop();
    }
  });

  it('sends nothing to disabled endpoints, unsubscribed types, or endpoints created after the event', async () => {
    const subscribed = await receiver();
    const unsubscribed = await receiver();
    const disabled = await receiver();
    const late = await receiver();
    await createEndpoint(gw, { url: subscribed.url, enabled_events: ['*'] });
    await createEndpoint(gw, { url: unsubscribed.url, enabled_events: ['charge.succeeded', 'payment_intent.succeeded'] });
    const off = await createEndpoint(gw, { url: disabled.url, enabled_events: ['*'] });
    await api(gw, 'POST', `/v1/webhook_endpoints/${off.id}`, { key, json: { disabled: true } });
    const pi = await createIntent(gw);
    const event = await createdEventOf(gw, pi);
    assert.equal(event.pending_webhooks, 1);
    await createEndpoint(gw, { url: late.url, enabled_events: ['*'] });
    await gw.running.webhooks.runOnce();
    clock.advance(80 * 60 * MINUTE);
    await gw.running.webhooks.runOnce();
    assert.deepEqual(subscribed.received.map((x) => x.eventId), [event.id]);
    assert.deepEqual([unsubscribed.received.length, disabled.received.length, late.received.length], [0, 0, 0]);
    await api(gw, 'POST', `/v1/payment_intents/${pi}/cancel`, { key, json: {} });
    await gw.running.webhooks.runOnce();
    assert.deepEqual(late.received.map((x) => x.eventType), ['payment_intent.canceled'], 'a later event does reach it');
    assert.equal(disabled.received.length, 0);
  });

  it('stops retrying when the endpoint is disabled or deleted', async () => {
    const down1 = await receiver(() => 500);
    const down2 = await receiver(() => 500);
    const a = await createEndpoint(gw, { url: down1.url, enabled_events: ['payment_intent.created'] });
    const b = await createEndpoint(gw, { url: down2.url, enabled_events: ['payment_intent.created'] });
    const event = await createdEventOf(gw, await createIntent(gw));
    await gw.running.webhooks.runOnce();
    assert.deepEqual([down1.received.length, down2.received.length, await pendingWebhooks(gw, event.id)], [1, 1, 2]);
    await api(gw, 'POST', `/v1/webhook_endpoints/${a.id}`, { key, json: { disabled: true } });
    await api(gw, 'DELETE', `/v1/webhook_endpoints/${b.id}`, { key });
    assert.equal(await pendingWebhooks(gw, event.id), 0);
    clock.advance(80 * 60 * MINUTE);
    await gw.running.webhooks.runOnce();
    assert.deepEqual([down1.received.length, down2.received.length], [1, 1]);
    const [canceled] = await deliveriesOf(gw, a.id);
    assert.deepEqual([canceled.status, canceled.next_retry_at, canceled.last_error], ['canceled', null, 'endpoint disabled']);
    await api(gw, 'POST', `/v1/webhook_endpoints/${a.id}`, { key, json: { disabled: false } });
    clock.advance(MINUTE);
    await gw.running.webhooks.runOnce();
    assert.equal(down1.received.length, 1, 're-enabling does not resume canceled deliveries');
  });

  it('bounds attempts in flight overall and per endpoint, and reuses keep-alive connections', async () => {
    const slowA = await receiver(() => 200, { delayMs: 40 });
    const slowB = await receiver(() => 200, { delayMs: 40 });
    const bounded = await startWebhookGateway(shared, { clock, webhooks: { concurrency: 3, endpointConcurrency: 2 } });
    try {
      await createEndpoint(bounded, { url: slowA.url, enabled_events: ['payment_intent.created'] });
      await createEndpoint(bounded, { url: slowB.url, enabled_events: ['payment_intent.created'] });
      for (let i = 0; i < 8; i++) await createIntent(bounded);
      assert.equal(await bounded.running.webhooks.runOnce(), 16);
      assert.deepEqual([slowA.received.length, slowB.received.length], [8, 8]);
      assert.ok(slowA.concurrentMax <= 2 && slowB.concurrentMax <= 2, `per endpoint: ${slowA.concurrentMax}, ${slowB.concurrentMax}`);
      assert.ok(slowA.concurrentMax + slowB.concurrentMax >= 3, 'both endpoints were worked side by side');
      assert.ok(slowA.clientPorts.size <= 2 && slowB.clientPorts.size <= 2, `connections: ${slowA.clientPorts.size}, ${slowB.clientPorts.size}`);
    } finally {
      await deleteAllEndpoints(bounded);
      await bounded.stop();
    }
  });

  it('claims a round in one compare-and-set: only due, pending, unleased deliveries, each to one claimer until its lease runs out', async () => {
    const target = await receiver();
    await createEndpoint(gw, { url: target.url, enabled_events: ['payment_intent.created'] });
    for (let i = 0; i < 4; i++) await createIntent(gw);
    const ids = (await gw.database.db.selectFrom('webhook_deliveries').select('id').where('status', '=', 'pending').orderBy('id').execute()).map((row) => row.id);
    assert.equal(ids.length, 4);
    const now = clock.now();
    const lease = 60_000;
    assert.deepEqual(await claimDeliveries(gw.database.db, gw.database.kind, [ids[0]!], now, now + lease, 'other-process'), [ids[0]]);
    const mine = await claimDeliveries(gw.database.db, gw.database.kind, ids, now, now + lease, 'this-process');
    assert.deepEqual([...mine].sort(), ids.slice(1), 'the row another process holds is not taken');
    assert.deepEqual(await claimDeliveries(gw.database.db, gw.database.kind, ids, now, now + lease, 'third-process'), [], 'every row is leased');
    assert.deepEqual(await claimDeliveries(gw.database.db, gw.database.kind, ids, now - 1, now - 1 + lease, 'early'), [], 'nothing is due before its time');
    assert.equal(await gw.running.webhooks.runOnce(), 0, 'the worker leaves leased rows alone');
    assert.equal(target.received.length, 0);
    clock.advance(lease);
    assert.equal(await gw.running.webhooks.runOnce(), 4, 'expired leases are free again: each delivery is attempted once');
    assert.equal(target.received.length, 4);
    const rows = await gw.database.db.selectFrom('webhook_deliveries').select(['status', 'attempt_count', 'lease_token']).where('id', 'in', ids).execute();
    assert.deepEqual(rows.map((row) => [row.status, row.attempt_count, row.lease_token]), ids.map(() => ['delivered', 1, null]));
    const attempts = await gw.database.db.selectFrom('webhook_delivery_attempts').select('delivery_id').where('delivery_id', 'in', ids).execute();
    assert.deepEqual(attempts.map((row) => row.delivery_id).sort(), ids, 'one attempt row each, recorded together');
  });

  it('records refused connections and timeouts as failed attempts', async () => {
    const gone = await startReceiver();
    await gone.close();
    const slow = await receiver(() => 200, { delayMs: 2_000 });
    const hasty = await startWebhookGateway(shared, { clock: new ManualClock(clock.now() + 2000 * 60 * MINUTE), webhooks: { timeoutMs: 200 } });
    try {
      const refused = await createEndpoint(hasty, { url: gone.url, enabled_events: ['*'] });
      const timing = await createEndpoint(hasty, { url: slow.url, enabled_events: ['*'] });
      await createIntent(hasty);
      assert.equal(await hasty.running.webhooks.runOnce(), 2);
      const [r] = await deliveriesOf(hasty, refused.id);
      const [t] = await deliveriesOf(hasty, timing.id);
      assert.deepEqual([r.status, r.attempts[0].status_code], ['pending', null]);
      assert.match(r.attempts[0].error, /ECONNREFUSED/);
      assert.deepEqual([t.status, t.attempts[0].status_code, t.attempts[0].error], ['pending', null, 'timed out after 200 ms']);
      assert.ok(t.attempts[0].latency_ms >= 190 && t.attempts[0].latency_ms < 2_000, `latency ${t.attempts[0].latency_ms}`);
    } finally {
      await deleteAllEndpoints(hasty);
      await hasty.stop();
    }
  });

  it('lists deliveries with filters and pagination, and refuses bad parameters', async () => {
    const r = await receiver();
    const endpoint = await createEndpoint(gw, { url: r.url, enabled_events: ['payment_intent.created'] });
    const events: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      events.push((await createdEventOf(gw, await createIntent(gw))).id);
    }
    const all = await deliveriesOf(gw, endpoint.id);
    assert.deepEqual(all.map((d) => d.event), [...events].reverse());
    assert.deepEqual(all.map((d) => [d.object, d.status, d.event_type, d.webhook_endpoint, d.attempts.length]), events.map(() => ['webhook_delivery', 'pending', 'payment_intent.created', endpoint.id, 0]));
    await gw.running.webhooks.runOnce();
    const page = await api(gw, 'GET', `/v1/webhook_endpoints/${endpoint.id}/deliveries?limit=2`, { key });
    assert.deepEqual([page.body.has_more, page.body.url, page.body.data.length], [true, `/v1/webhook_endpoints/${endpoint.id}/deliveries`, 2]);
    const rest = await deliveriesOf(gw, endpoint.id, `&starting_after=${page.body.data[1].id}`);
    assert.deepEqual(rest.map((d) => d.event), [events[0]]);
    assert.deepEqual((await deliveriesOf(gw, endpoint.id, `&event=${events[1]}`)).map((d) => d.event), [events[1]]);
    assert.equal((await deliveriesOf(gw, endpoint.id, '&status=delivered')).length, 3);
    assert.equal((await deliveriesOf(gw, endpoint.id, '&status=failed')).length, 0);
    for (const [query, code, param] of [['status=lost', 'parameter_invalid', 'status'], ['event=pi_1', 'parameter_invalid', 'event'], ['limit=x', 'parameter_invalid_integer', 'limit'], ['starting_after=whd_0000000000000000001', 'resource_missing', 'starting_after']]) {
      const response = await api(gw, 'GET', `/v1/webhook_endpoints/${endpoint.id}/deliveries?${query}`, { key });
      assert.deepEqual([response.status, response.body.error.code, response.body.error.param], [400, code, param], query);
    }
  });

  it('re-delivers an event on POST /v1/events/:id/retry, to all subscribed endpoints or to one', async () => {
    const first = await receiver();
    const second = await receiver(({ index }) => (index === 0 ? 500 : 200));
    await createEndpoint(gw, { url: first.url, enabled_events: ['payment_intent.created'] });
    const b = await createEndpoint(gw, { url: second.url, enabled_events: ['payment_intent.created'] });
    const event = await createdEventOf(gw, await createIntent(gw));
    await gw.running.webhooks.runOnce();
    assert.deepEqual([first.received.length, second.received.length, await pendingWebhooks(gw, event.id)], [1, 1, 1]);
    // b has a retry scheduled a minute out; a retry now supersedes it instead of adding a second schedule.
    const retried = await api(gw, 'POST', `/v1/events/${event.id}/retry`, { key, json: { endpoint: b.id } });
    assert.deepEqual([retried.status, retried.body.id, retried.body.pending_webhooks], [200, event.id, 1]);
    assert.equal(await gw.running.webhooks.runOnce(), 1);
    clock.advance(10 * MINUTE);
    assert.equal(await gw.running.webhooks.runOnce(), 0);
    assert.deepEqual([first.received.length, second.acceptedCounts().get(event.id), await pendingWebhooks(gw, event.id)], [1, 1, 0]);
    const everyone = await api(gw, 'POST', `/v1/events/${event.id}/retry`, { key, form: '' });
    assert.deepEqual([everyone.status, everyone.body.pending_webhooks], [200, 2]);
    await gw.running.webhooks.runOnce();
    assert.deepEqual([first.acceptedCounts().get(event.id), second.acceptedCounts().get(event.id), await pendingWebhooks(gw, event.id)], [2, 2, 0]);
    const bDeliveries = await deliveriesOf(gw, b.id);
    assert.deepEqual(bDeliveries.map((d) => d.status), ['delivered', 'delivered', 'canceled']);
    assert.equal(bDeliveries[2].last_error, 'superseded by a manual retry');
  });
});
