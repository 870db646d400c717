import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ManualClock, api, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

type EventBody = { id: string; type: string; created: number; data: { object: { id: string; status?: string }; previous_attributes?: Record<string, unknown> } };
const idsOf = (list: { body: { data: { id: string }[] } }) => list.body.data.map((e) => e.id);

describe('events (api.md §5)', () => {
  let gw: TestGateway;
  let clock: ManualClock;
  let other: Awaited<ReturnType<TestGateway['newAccount']>>;
  /** Events of the default account's test mode, oldest first. */
  const events: EventBody[] = [];
  let createResponse: { headers: Headers; body: { id: string } };
  const get = (path: string, key = gw.secretKey) => api(gw, 'GET', path, { key });

  before(async () => {
    clock = new ManualClock();
    gw = await startTestGateway({ clock });
    other = await gw.newAccount();
    createResponse = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 500, currency: 'cny' }, headers: { 'Idempotency-Key': 'evt-test-1' } });
    clock.advance(1000);
    const second = (await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 600, currency: 'cny' } })).body;
    clock.advance(1000);
    await api(gw, 'POST', `/v1/payment_intents/${second.id}/cancel`, { key: gw.secretKey, json: { cancellation_reason: 'duplicate' } });
    clock.advance(1000);
    await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 700, currency: 'cny', confirm: true, payment_method_data: { type: 'alipay' }, return_url: 'https://shop.example/return' } });
    const all = await get('/v1/events?limit=100');
    events.push(...(all.body.data as EventBody[]).reverse());
  });
  after(async () => {
    await gw.stop();
  });

  it('writes a complete Event for each state change', async () => {
    assert.deepEqual(events.map((e) => e.type), ['payment_intent.created', 'payment_intent.created', 'payment_intent.canceled', 'payment_intent.created', 'payment_intent.requires_action']);
    const first = (await get(`/v1/events/${events[0]!.id}`)).body;
    assert.deepEqual(Object.keys(first), ['id', 'object', 'api_version', 'created', 'data', 'livemode', 'pending_webhooks', 'request', 'type']);
    assert.match(first.id, /^evt_\d{19}$/);
    assert.deepEqual(
      [first.object, first.api_version, first.created, first.livemode, first.pending_webhooks, first.type],
      ['event', '2023-10-16', clock.ms - 3000, false, 0, 'payment_intent.created'],
    );
    assert.deepEqual(first.request, { id: createResponse.headers.get('request-id'), idempotency_key: 'evt-test-1' });
    assert.deepEqual(first.data.object, createResponse.body);
    assert.equal('previous_attributes' in first.data, false);
  });

  it('carries previous_attributes on updates', () => {
    const canceled = events[2]!;
    assert.equal(canceled.data.object.status, 'canceled');
    assert.deepEqual(canceled.data.previous_attributes, { status: 'requires_payment_method' });
  });

  it('filters by type, group, types[] and created', async () => {
    const created = events.filter((e) => e.type === 'payment_intent.created').map((e) => e.id).reverse();
    assert.deepEqual(idsOf(await get('/v1/events?type=payment_intent.created')), created);
    assert.deepEqual(idsOf(await get('/v1/events?type=payment_intent.*')).length, 5);
    assert.deepEqual(idsOf(await get('/v1/events?type=charge.*')), []);
    assert.deepEqual(idsOf(await get('/v1/events?types[]=payment_intent.canceled&types[]=payment_intent.requires_action')), [events[4]!.id, events[2]!.id]);
    assert.deepEqual(idsOf(await get('/v1/events?types[0]=payment_intent.canceled')), [events[2]!.id]);
    assert.deepEqual(idsOf(await get(`/v1/events?created[gte]=${events[2]!.created}&created[lt]=${events[3]!.created}`)), [events[2]!.id]);
    assert.deepEqual(idsOf(await get(`/v1/events?created=${events[1]!.created}`)), [events[1]!.id]);
  });

  it('pages newest first with starting_after and ending_before', async () => {
    const newestFirst = events.map((e) => e.id).reverse();
    const page1 = await get('/v1/events?limit=2');
    assert.deepEqual([idsOf(page1), page1.body.has_more, page1.body.url], [newestFirst.slice(0, 2), true, '/v1/events']);
    const page2 = await get(`/v1/events?limit=2&starting_after=${newestFirst[1]}`);
    assert.deepEqual([idsOf(page2), page2.body.has_more], [newestFirst.slice(2, 4), true]);
    const page3 = await get(`/v1/events?limit=2&starting_after=${newestFirst[3]}`);
    assert.deepEqual([idsOf(page3), page3.body.has_more], [newestFirst.slice(4), false]);
    const back = await get(`/v1/events?limit=2&ending_before=${newestFirst[4]}`);
    assert.deepEqual(idsOf(back), newestFirst.slice(2, 4));
  });

  it('refuses bad list parameters, naming them', async () => {
    const cases: Array<[string, string, string]> = [
      ['/v1/events?type=payment_intent.created&types[]=charge.succeeded', 'parameter_invalid', 'types'],
      ['/v1/events?type=PAYMENT', 'parameter_invalid', 'type'],
      ['/v1/events?type=a%25b', 'parameter_invalid', 'type'],
      ['/v1/events?types[]=payment_intent.*', 'parameter_invalid', 'types[0]'],
      ['/v1/events?limit=101', 'parameter_invalid_integer', 'limit'],
      ['/v1/events?created[after]=1', 'parameter_unknown', 'created[after]'],
      ['/v1/events?starting_after=evt_0000000000000000001', 'resource_missing', 'starting_after'],
      ['/v1/events?starting_after=a&ending_before=b', 'parameter_invalid', 'ending_before'],
      ['/v1/events?delivery_success=true', 'parameter_unknown', 'delivery_success'],
    ];
    for (const [path, code, param] of cases) {
      const response = await get(path);
      assert.deepEqual([response.status, response.body.error.code, response.body.error.param], [400, code, param], path);
    }
    // An id of another length is an unknown id (issue 12); characters no id has are a 400.
    const shortId = await get('/v1/events/evt_1');
    assert.deepEqual([shortId.status, shortId.body.error.code, shortId.body.error.param], [404, 'resource_missing', 'id']);
    const badId = await get('/v1/events/evt_1.2');
    assert.deepEqual([badId.status, badId.body.error.param], [400, 'id']);
    const missing = await get('/v1/events/evt_0000000000000000001');
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'resource_missing']);
  });

  it("never shows another account's or mode's events", async () => {
    const mine = events[0]!.id;
    for (const key of [other.test.secretKey, other.live.secretKey]) {
      assert.equal((await get(`/v1/events/${mine}`, key)).status, 404);
      assert.deepEqual(idsOf(await get('/v1/events', key)), []);
      assert.equal((await get(`/v1/events?starting_after=${mine}`, key)).status, 400);
      assert.equal((await api(gw, 'POST', `/v1/events/${mine}/retry`, { key, json: {} })).status, 404);
    }
    const live = (await api(gw, 'POST', '/v1/payment_intents', { key: other.live.secretKey, json: { amount: 1, currency: 'usd' } })).body;
    const liveEvents = await get('/v1/events', other.live.secretKey);
    assert.deepEqual(liveEvents.body.data.map((e: EventBody & { livemode: boolean }) => [e.data.object.id, e.livemode]), [[live.id, true]]);
    assert.deepEqual(idsOf(await get('/v1/events', other.test.secretKey)), []);
    assert.equal((await get('/v1/events', gw.publishableKey)).status, 403);
  });

  it('refuses retries that cannot be made', async () => {
    const id = events[0]!.id;
    const none = await api(gw, 'POST', `/v1/events/${id}/retry`, { key: gw.secretKey, json: {} });
    assert.deepEqual([none.status, none.body.error.code], [400, 'parameter_invalid']);
    const unknown = await api(gw, 'POST', `/v1/events/${id}/retry`, { key: gw.secretKey, json: { endpoint: 'we_0000000000000000001' } });
    assert.deepEqual([unknown.status, unknown.body.error.code, unknown.body.error.param], [400, 'resource_missing', 'endpoint']);
    const malformed = await api(gw, 'POST', `/v1/events/${id}/retry`, { key: gw.secretKey, json: { endpoint: 'https://x' } });
    assert.deepEqual([malformed.status, malformed.body.error.param], [400, 'endpoint']);
    const extra = await api(gw, 'POST', `/v1/events/${id}/retry`, { key: gw.secretKey, json: { now: true } });
    assert.deepEqual([extra.status, extra.body.error.code, extra.body.error.param], [400, 'parameter_unknown', 'now']);
    const foreign = (await api(gw, 'POST', '/v1/webhook_endpoints', { key: other.test.secretKey, json: { url: 'https://example.com', enabled_events: ['*'] } })).body;
    const borrowed = await api(gw, 'POST', `/v1/events/${id}/retry`, { key: gw.secretKey, json: { endpoint: foreign.id } });
    assert.deepEqual([borrowed.status, borrowed.body.error.code], [400, 'resource_missing']);
    const disabled = (await api(gw, 'POST', '/v1/webhook_endpoints', { key: gw.secretKey, json: { url: 'https://example.com', enabled_events: ['*'] } })).body;
    await api(gw, 'POST', `/v1/webhook_endpoints/${disabled.id}`, { key: gw.secretKey, json: { disabled: true } });
    const toDisabled = await api(gw, 'POST', `/v1/events/${id}/retry`, { key: gw.secretKey, json: { endpoint: disabled.id } });
    assert.deepEqual([toDisabled.status, toDisabled.body.error.param], [400, 'endpoint']);
  });
});
