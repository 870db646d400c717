import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

describe('API conventions (api.md §1)', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });

  describe('authentication', () => {
    it('accepts Bearer and Basic secret keys', async () => {
      const bearer = await api(gw, 'GET', '/v1/payment_intents', { key: gw.secretKey });
      const basic = await api(gw, 'GET', '/v1/payment_intents', { key: gw.secretKey, basic: true });
      assert.equal(bearer.status, 200);
      assert.equal(basic.status, 200);
      assert.equal(basic.body.object, 'list');
    });

    it('answers 401 without a key or with an unknown one', async () => {
      const missing = await api(gw, 'GET', '/v1/payment_intents');
      assert.equal(missing.status, 401);
      assert.equal(missing.body.error.type, 'invalid_request_error');
      assert.match(missing.body.error.message, /did not provide an API key/);
      for (const key of ['sk_test_unknownunknownunknown', 'sk_live_unknownunknownunknown', 'rk_test_x', 'hello']) {
        const unknown = await api(gw, 'GET', '/v1/payment_intents', { key });
        assert.equal(unknown.status, 401, key);
        assert.ok(!unknown.text.includes(key) || key.length <= 12, 'the full key is not echoed back');
      }
    });

    it('answers 403 secret_key_required to a publishable key outside its uses', async () => {
      for (const [method, path] of [['GET', '/v1/payment_intents'], ['POST', '/v1/payment_intents'], ['GET', '/v1/charges'], ['POST', '/v1/payment_intents/pi_1666729870215872512/cancel']] as const) {
        const response = await api(gw, method, path, { key: gw.publishableKey, ...(method === 'POST' ? { json: { amount: 1, currency: 'cny' } } : {}) });
        assert.equal(response.status, 403, path);
        assert.equal(response.body.error.code, 'secret_key_required');
      }
    });
  });

  describe('request ids and errors', () => {
    it('puts Request-Id: req_… on every response, errors and 404s included', async () => {
      const responses = [
        await api(gw, 'GET', '/healthz'),
        await api(gw, 'GET', '/v1/payment_intents', { key: gw.secretKey }),
        await api(gw, 'GET', '/v1/payment_intents'),
        await api(gw, 'GET', '/v1/nothing', { key: gw.secretKey }),
      ];
      const ids = responses.map((r) => r.headers.get('request-id'));
      for (const id of ids) assert.match(id ?? '', /^req_\d{19}$/);
      assert.equal(new Set(ids).size, ids.length);
    });

    it('answers an unknown URL with a 404 envelope', async () => {
      const response = await api(gw, 'GET', '/v1/nothing', { key: gw.secretKey });
      assert.equal(response.status, 404);
      assert.equal(response.body.error.type, 'invalid_request_error');
      assert.match(response.body.error.message, /GET: \/v1\/nothing/);
    });

    it('answers malformed JSON with 400 in the envelope', async () => {
      const response = await fetch(`${gw.url}/v1/payment_intents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${gw.secretKey}`, 'content-type': 'application/json' },
        body: '{"amount": 20,',
      });
      const body = (await response.json()) as { error: { type: string; message: string } };
      assert.equal(response.status, 400);
      assert.equal(body.error.type, 'invalid_request_error');
      assert.match(body.error.message, /Invalid JSON/);
    });

    it('answers a body over 1 MiB with 413 in the envelope', async () => {
      const response = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 1, currency: 'cny', description: 'x'.repeat(1024 * 1024) } });
      assert.equal(response.status, 413);
      assert.equal(response.body.error.type, 'invalid_request_error');
      assert.match(response.body.error.message, /1 MiB/);
    });

    it('answers an unsupported content type with 415 in the envelope', async () => {
      const response = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, headers: { 'content-type': 'text/plain' } });
      assert.equal(response.status, 415);
      assert.equal(response.body.error.type, 'invalid_request_error');
    });

    it('refuses more parameters or array items than the bounds, in bodies and query strings, without crashing', async () => {
      const many = Array.from({ length: 1001 }, (_, i) => `metadata[k${i}]=v`).join('&');
      const body = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, form: `amount=1&currency=cny&${many}` });
      assert.deepEqual([body.status, body.body.error.type], [400, 'invalid_request_error']);
      assert.match(body.body.error.message, /1000 parameters/);
      const query = await api(gw, 'GET', `/v1/payment_intents?${Array.from({ length: 1001 }, (_, i) => `k${i}=`).join('&')}`, { key: gw.secretKey });
      assert.equal(query.status, 400);
      assert.match(query.body.error.message, /1000 parameters/);
      const array = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, form: 'amount=1&currency=cny&payment_method_types[150]=alipay' });
      assert.equal(array.status, 400);
      const hugeUrl = await api(gw, 'GET', `/v1/payment_intents?x=${'a'.repeat(20_000)}`, { key: gw.secretKey });
      assert.deepEqual([hugeUrl.status, hugeUrl.body.error.type], [431, 'invalid_request_error']);
      assert.equal((await api(gw, 'GET', '/healthz')).status, 200, 'the server is still up');
    });

    it('names an unknown parameter, nested or not', async () => {
      const top = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 20, currency: 'cny', colour: 'red' } });
      assert.equal(top.status, 400);
      assert.deepEqual([top.body.error.code, top.body.error.param], ['parameter_unknown', 'colour']);
      const nested = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, form: 'amount=20&currency=cny&payment_method_options[alipay][colour]=red' });
      assert.deepEqual([nested.body.error.code, nested.body.error.param], ['parameter_unknown', 'payment_method_options[alipay][colour]']);
      const query = await api(gw, 'GET', '/v1/payment_intents?colour=red', { key: gw.secretKey });
      assert.deepEqual([query.status, query.body.error.param], [400, 'colour']);
    });
  });

  describe('form-encoded bodies', () => {
    it('coerces numbers and booleans and reads bracket notation, encoded or not', async () => {
      const form = 'amount=2500&currency=hkd&confirm=false&metadata[order]=42&metadata%5Bcart%5D=7&payment_method_types[0]=alipay'
        + '&payment_method_options[alipay][terminal_type]=app&payment_method_options[alipay][os_type]=android&description=%E5%87%A4%E6%A2%A8%E9%85%A5';
      const response = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, form });
      assert.equal(response.status, 200, response.text);
      assert.equal(response.body.amount, 2500);
      assert.equal(response.body.currency, 'HKD');
      assert.equal(response.body.status, 'requires_payment_method');
      assert.deepEqual(response.body.metadata, { order: '42', cart: '7' });
      assert.deepEqual(response.body.payment_method_types, ['alipay']);
      assert.deepEqual(response.body.payment_method_options, { alipay: { terminal_type: 'APP', os_type: 'ANDROID', client_ip: null } });
      assert.equal(response.body.description, '凤梨酥');
    });

    it('unsets fields with an empty string', async () => {
      const created = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, form: 'amount=100&currency=cny&description=hello&metadata[a]=1&metadata[b]=2' });
      const updated = await api(gw, 'POST', `/v1/payment_intents/${created.body.id}`, { key: gw.secretKey, form: 'description=&metadata[a]=' });
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.description, null);
      assert.deepEqual(updated.body.metadata, { b: '2' });
      const cleared = await api(gw, 'POST', `/v1/payment_intents/${created.body.id}`, { key: gw.secretKey, form: 'metadata=' });
      assert.deepEqual(cleared.body.metadata, {});
    });

    it('rejects booleans and integers that are not', async () => {
      const flag = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, form: 'amount=100&currency=cny&confirm=yes' });
      assert.deepEqual([flag.status, flag.body.error.param], [400, 'confirm']);
      const number = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, form: 'amount=1.5&currency=cny' });
      assert.deepEqual([number.status, number.body.error.code, number.body.error.param], [400, 'parameter_invalid_integer', 'amount']);
    });
  });

  describe('health', () => {
    it('serves /healthz and /readyz without a key', async () => {
      const health = await api(gw, 'GET', '/healthz');
      const ready = await api(gw, 'GET', '/readyz');
      assert.deepEqual([health.status, health.body], [200, { status: 'ok' }]);
      assert.deepEqual([ready.status, ready.body], [200, { status: 'ready' }]);
    });
  });

  describe('logs', () => {
    it('are JSON lines with the request id and without keys or client secrets', async () => {
      const created = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, json: { amount: 20, currency: 'cny' } });
      const secret = created.body.client_secret as string;
      await api(gw, 'GET', `/v1/payment_intents/${created.body.id}?client_secret=${secret}`, { key: gw.publishableKey });
      await api(gw, 'GET', '/v1/payment_intents', { key: gw.secretKey, basic: true });
      const text = gw.logs.join('');
      assert.ok(!text.includes(gw.secretKey), 'secret key absent');
      assert.ok(!text.includes(Buffer.from(`${gw.secretKey}:`).toString('base64')), 'basic credentials absent');
      assert.ok(!text.includes(secret), 'client secret absent');
      const requestId = created.headers.get('request-id');
      const lines = gw.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
      assert.ok(lines.some((line) => line.request_id === requestId), 'the request id is on its log lines');
    });
  });
});
