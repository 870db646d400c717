import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Stripe from 'stripe';
import { api, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

describe('webhook endpoints API (api.md §5)', () => {
  let gw: TestGateway;
  let other: Awaited<ReturnType<TestGateway['newAccount']>>;
  const create = (json: unknown, key = gw.secretKey) => api(gw, 'POST', '/v1/webhook_endpoints', { key, json });
  const errorOf = (response: { status: number; body: { error: { code?: string; param?: string } } }) => [response.status, response.body.error.code, response.body.error.param];

  before(async () => {
    gw = await startTestGateway();
    other = await gw.newAccount();
  });
  after(async () => {
    await gw.stop();
  });

  it('creates an endpoint and shows its whsec_ secret only in the create response', async () => {
    const created = await create({ url: 'https://example.com/hooks', enabled_events: ['payment_intent.succeeded', 'charge.succeeded'], description: 'orders', metadata: { team: 'shop' }, api_version: '2023-10-16' });
    assert.equal(created.status, 200);
    const endpoint = created.body;
    assert.match(endpoint.id, /^we_\d{19}$/);
    assert.match(endpoint.secret, /^whsec_[A-Za-z0-9]{32}$/);
    assert.deepEqual(
      { object: endpoint.object, url: endpoint.url, enabled_events: endpoint.enabled_events, status: endpoint.status, livemode: endpoint.livemode, description: endpoint.description, metadata: endpoint.metadata, api_version: endpoint.api_version },
      { object: 'webhook_endpoint', url: 'https://example.com/hooks', enabled_events: ['payment_intent.succeeded', 'charge.succeeded'], status: 'enabled', livemode: false, description: 'orders', metadata: { team: 'shop' }, api_version: '2023-10-16' },
    );
    const retrieved = await api(gw, 'GET', `/v1/webhook_endpoints/${endpoint.id}`, { key: gw.secretKey });
    assert.equal(retrieved.status, 200);
    assert.equal(retrieved.body.secret, undefined);
    assert.equal(retrieved.body.url, endpoint.url);
    const listed = await api(gw, 'GET', '/v1/webhook_endpoints', { key: gw.secretKey });
    assert.ok(listed.body.data.every((e: { secret?: string }) => e.secret === undefined));
    assert.ok(!gw.logs.join('').includes(endpoint.secret), 'the secret never reaches the log');
  });

  it('accepts form bodies with bracket notation and "*"', async () => {
    const created = await api(gw, 'POST', '/v1/webhook_endpoints', { key: gw.secretKey, form: 'url=http%3A%2F%2F127.0.0.1%3A3000%2Fwebhooks&enabled_events[0]=*' });
    assert.equal(created.status, 200);
    assert.deepEqual(created.body.enabled_events, ['*']);
  });

  it('refuses missing, empty and unknown parameters, naming them', async () => {
    assert.deepEqual(errorOf(await create({ enabled_events: ['*'] })), [400, 'parameter_missing', 'url']);
    assert.deepEqual(errorOf(await create({ url: 'https://example.com' })), [400, 'parameter_missing', 'enabled_events']);
    assert.deepEqual(errorOf(await create({ url: 'https://example.com', enabled_events: [] })), [400, 'parameter_invalid', 'enabled_events']);
    assert.deepEqual(errorOf(await create({ url: 'https://example.com', enabled_events: '*' })), [400, 'parameter_invalid', 'enabled_events']);
    assert.deepEqual(errorOf(await create({ url: '', enabled_events: ['*'] })), [400, 'parameter_invalid_empty', 'url']);
    assert.deepEqual(errorOf(await create({ url: 'https://example.com', enabled_events: ['*'], secret: 'whsec_mine' })), [400, 'parameter_unknown', 'secret']);
    assert.deepEqual(errorOf(await create({ url: 'https://example.com', enabled_events: ['*'], metadata: 'x' })), [400, 'parameter_invalid', 'metadata']);
  });

  it('names every unknown event type in enabled_events', async () => {
    const response = await create({ url: 'https://example.com', enabled_events: ['payment_intent.succeeded', 'payment_intent.exploded', 'invoice.paid'] });
    assert.deepEqual(errorOf(response), [400, 'parameter_invalid', 'enabled_events']);
    assert.match(response.body.error.message, /"payment_intent\.exploded", "invoice\.paid"/);
  });

  it('accepts only http(s) URLs; live mode only https to public hosts', async () => {
    for (const url of ['ftp://example.com/x', 'example.com/hooks', 'javascript:alert(1)']) {
      assert.deepEqual(errorOf(await create({ url, enabled_events: ['*'] })), [400, 'url_invalid', 'url'], url);
    }
    for (const url of ['http://localhost:3000/hooks', 'http://127.0.0.1/hooks', 'http://10.1.2.3/hooks', 'http://[::1]:3000/hooks']) {
      assert.equal((await create({ url, enabled_events: ['*'] })).status, 200, `test mode allows ${url}`);
    }
    const live = other.live.secretKey;
    const refused = [
      'http://example.com/hooks', 'https://localhost/hooks', 'https://api.localhost/hooks', 'https://127.0.0.1/hooks', 'https://10.0.0.8/hooks',
      'https://172.20.1.1/hooks', 'https://192.168.1.10/hooks', 'https://169.254.169.254/latest', 'https://[::1]/hooks', 'https://[fe80::1]/hooks',
      'https://[fd00::5]/hooks', 'https://[::ffff:127.0.0.1]/hooks', 'https://0x7f000001/hooks', 'https://100.64.0.1/hooks',
    ];
    for (const url of refused) assert.deepEqual(errorOf(await create({ url, enabled_events: ['*'] }, live)), [400, 'url_invalid', 'url'], url);
    const ok = await create({ url: 'https://shop.example.com/hooks', enabled_events: ['*'] }, live);
    assert.deepEqual([ok.status, ok.body.livemode], [200, true]);
  });

  it('updates url, enabled_events, disabled, description and metadata', async () => {
    const endpoint = (await create({ url: 'https://example.com/a', enabled_events: ['*'], metadata: { a: '1', b: '2' } })).body;
    const updated = await api(gw, 'POST', `/v1/webhook_endpoints/${endpoint.id}`, {
      key: gw.secretKey, json: { url: 'https://example.com/b', enabled_events: ['charge.succeeded'], disabled: true, description: 'moved', metadata: { a: '', c: '3' } },
    });
    assert.equal(updated.status, 200);
    assert.deepEqual(
      [updated.body.url, updated.body.enabled_events, updated.body.status, updated.body.description, updated.body.metadata, updated.body.secret],
      ['https://example.com/b', ['charge.succeeded'], 'disabled', 'moved', { b: '2', c: '3' }, undefined],
    );
    const enabled = await api(gw, 'POST', `/v1/webhook_endpoints/${endpoint.id}`, { key: gw.secretKey, form: 'disabled=false&description=' });
    assert.deepEqual([enabled.body.status, enabled.body.description], ['enabled', null]);
    const path = `/v1/webhook_endpoints/${endpoint.id}`;
    assert.deepEqual(errorOf(await api(gw, 'POST', path, { key: gw.secretKey, json: { disabled: 'maybe' } })), [400, 'parameter_invalid', 'disabled']);
    assert.deepEqual(errorOf(await api(gw, 'POST', path, { key: gw.secretKey, json: { url: '' } })), [400, 'parameter_invalid_empty', 'url']);
    assert.deepEqual(errorOf(await api(gw, 'POST', path, { key: gw.secretKey, json: { enabled_events: ['nope'] } })), [400, 'parameter_invalid', 'enabled_events']);
    assert.deepEqual(errorOf(await api(gw, 'POST', path, { key: gw.secretKey, json: { api_version: '2020-01-01' } })), [400, 'parameter_unknown', 'api_version']);
    assert.deepEqual(errorOf(await api(gw, 'POST', path, { key: gw.secretKey, json: { url: 'gopher://x' } })), [400, 'url_invalid', 'url']);
  });

  it('deletes an endpoint; it is then gone', async () => {
    const endpoint = (await create({ url: 'https://example.com/del', enabled_events: ['*'] })).body;
    const deleted = await api(gw, 'DELETE', `/v1/webhook_endpoints/${endpoint.id}`, { key: gw.secretKey });
    assert.deepEqual([deleted.status, deleted.body], [200, { id: endpoint.id, object: 'webhook_endpoint', deleted: true }]);
    for (const [method, extra] of [['GET', ''], ['DELETE', ''], ['POST', ''], ['GET', '/deliveries']] as const) {
      const response = await api(gw, method, `/v1/webhook_endpoints/${endpoint.id}${extra}`, { key: gw.secretKey, ...(method === 'POST' ? { json: { description: 'x' } } : {}) });
      assert.deepEqual(errorOf(response), [404, 'resource_missing', 'id'], `${method}${extra}`);
    }
  });

  it('refuses malformed ids and unknown query parameters', async () => {
    // we_123 is well-formed (another length) and names nothing: 404 (issue 12); a character no id has is a 400.
    assert.deepEqual(errorOf(await api(gw, 'GET', '/v1/webhook_endpoints/we_123', { key: gw.secretKey })), [404, 'resource_missing', 'id']);
    assert.deepEqual(errorOf(await api(gw, 'GET', '/v1/webhook_endpoints/we_1%2B3', { key: gw.secretKey })), [400, 'parameter_invalid', 'id']);
    assert.deepEqual(errorOf(await api(gw, 'GET', '/v1/webhook_endpoints?limit=0', { key: gw.secretKey })), [400, 'parameter_invalid_integer', 'limit']);
    assert.deepEqual(errorOf(await api(gw, 'GET', '/v1/webhook_endpoints?color=red', { key: gw.secretKey })), [400, 'parameter_unknown', 'color']);
    assert.equal((await api(gw, 'GET', '/v1/webhook_endpoints', { key: gw.publishableKey })).status, 403);
    assert.equal((await api(gw, 'GET', '/v1/webhook_endpoints', {})).status, 401);
  });

  it('keeps accounts and modes apart (404, empty lists)', async () => {
    const mine = (await create({ url: 'https://example.com/mine', enabled_events: ['*'] })).body;
    for (const key of [other.test.secretKey, other.live.secretKey]) {
      assert.deepEqual(errorOf(await api(gw, 'GET', `/v1/webhook_endpoints/${mine.id}`, { key })), [404, 'resource_missing', 'id']);
      assert.equal((await api(gw, 'POST', `/v1/webhook_endpoints/${mine.id}`, { key, json: { disabled: true } })).status, 404);
      assert.equal((await api(gw, 'DELETE', `/v1/webhook_endpoints/${mine.id}`, { key })).status, 404);
      assert.equal((await api(gw, 'GET', `/v1/webhook_endpoints/${mine.id}/deliveries`, { key })).status, 404);
    }
    const otherList = await api(gw, 'GET', '/v1/webhook_endpoints', { key: other.test.secretKey });
    assert.equal(otherList.body.data.length, 0);
    assert.equal((await api(gw, 'GET', `/v1/webhook_endpoints/${mine.id}`, { key: gw.secretKey })).body.status, 'enabled');
  });

  it('lists newest first with keyset pagination', async () => {
    const fresh = await gw.newAccount();
    const key = fresh.test.secretKey;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await create({ url: `https://example.com/${i}`, enabled_events: ['*'] }, key)).body.id);
    const first = await api(gw, 'GET', '/v1/webhook_endpoints?limit=2', { key });
    assert.deepEqual([first.body.object, first.body.url, first.body.has_more], ['list', '/v1/webhook_endpoints', true]);
    assert.deepEqual(first.body.data.map((e: { id: string }) => e.id), [ids[4], ids[3]]);
    const next = await api(gw, 'GET', `/v1/webhook_endpoints?limit=10&starting_after=${ids[3]}`, { key });
    assert.deepEqual([next.body.data.map((e: { id: string }) => e.id), next.body.has_more], [[ids[2], ids[1], ids[0]], false]);
    const before = await api(gw, 'GET', `/v1/webhook_endpoints?limit=1&ending_before=${ids[1]}`, { key });
    assert.deepEqual(before.body.data.map((e: { id: string }) => e.id), [ids[2]]);
  });

  it('works with the official stripe package', async () => {
    const stripe = new Stripe(gw.secretKey, { host: '127.0.0.1', port: gw.port, protocol: 'http', maxNetworkRetries: 0 });
    const endpoint = await stripe.webhookEndpoints.create({ url: 'https://example.com/sdk', enabled_events: ['payment_intent.succeeded'] });
    assert.match(endpoint.secret ?? '', /^whsec_/);
    const updated = await stripe.webhookEndpoints.update(endpoint.id, { disabled: true });
    assert.equal(updated.status, 'disabled');
    const deleted = await stripe.webhookEndpoints.del(endpoint.id);
    assert.equal(deleted.deleted, true);
  });
});
