import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { buildGatewayApp, createGatewayLogger } from '../../src/gateway/index.js';
import { CLIENT_SAFE_PAYMENT_INTENT_FIELDS } from '../../src/gateway/core/views.js';
import { redactUrl, requestLoggerFactory } from '../../src/gateway/http/logging.js';
import { api, ManualClock, ScriptedConnector, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

/** Issue 9, bad input and security at the HTTP edge. */
describe('the HTTP edge', () => {
  let gw: TestGateway;
  const inject = (options: { method: string; url: string; key?: string | null; headers?: Record<string, string>; payload?: string }) =>
    gw.running.app.inject({
      method: options.method as 'GET',
      url: options.url,
      headers: { ...(options.key ? { authorization: `Bearer ${options.key}` } : {}), ...options.headers },
      ...(options.payload === undefined ? {} : { payload: options.payload }),
    });
  const post = (path: string, json: unknown, key = gw.secretKey) => api(gw, 'POST', path, { key, json });

  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });

  describe('authentication is decided by the route that runs, not by the URL as sent', () => {
    it('an encoded /v1 (/%761/payment_intents) is the same route: 401 without a key, 200 with one', async () => {
      const anonymous = await inject({ method: 'GET', url: '/%761/payment_intents' });
      assert.equal(anonymous.statusCode, 401, anonymous.body);
      assert.equal(anonymous.json().error.type, 'invalid_request_error');
      const keyed = await inject({ method: 'GET', url: '/%761/payment_intents', key: gw.secretKey });
      assert.equal(keyed.statusCode, 200, keyed.body);
      assert.equal(keyed.json().object, 'list');
      const encodedPublishable = await inject({ method: 'GET', url: '/v1/pay%6dent_intents', key: gw.publishableKey });
      assert.deepEqual([encodedPublishable.statusCode, encodedPublishable.json().error.code], [403, 'secret_key_required']);
    });

    it('every route declares its authentication; only health, hosted pages and inbound Alipay+ need no key', () => {
      const routes = gw.running.app.declaredRoutes;
      assert.ok(routes.length > 30, `${routes.length} routes`);
      for (const route of routes) {
        if (route.url.startsWith('/v1/')) assert.notEqual(route.auth, 'none', `${route.method} ${route.url}`);
        else assert.equal(route.auth, 'none', `${route.method} ${route.url}`);
      }
      const publishable = routes.filter((route) => route.auth === 'publishable').map((route) => `${route.method} ${route.url}`).sort();
      assert.deepEqual(publishable, ['GET /v1/payment_intents/:id', 'HEAD /v1/payment_intents/:id', 'POST /v1/payment_intents/:id/confirm']);
    });

    it('a route registered without a declaration stops the app from being built', async () => {
      const app = buildGatewayApp({
        config: { port: 0, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:0', dataDir: '/nonexistent', databaseUrl: 'sqlite::memory:', testSecretKey: null, testPublishableKey: null },
        database: gw.database,
        clock: new ManualClock(),
        logger: createGatewayLogger({ level: 'silent' }),
        connector: new ScriptedConnector(),
      });
      let refused: unknown = null;
      try {
        app.get('/v1/forgotten', async () => ({ leaked: true }));
        await app.ready();
      } catch (error) {
        refused = error;
      }
      assert.match(String((refused as Error | null)?.message), /GET \/v1\/forgotten declares no authentication/);
      await app.close().catch(() => undefined);
    });
  });

  describe('empty updates are a no-op returning the object', () => {
    it('prices, products, PaymentIntents, refunds-free objects and webhook endpoints answer 200 and write no event', async () => {
      const product = (await post('/v1/products', { name: 'Tea' })).body;
      const price = (await post('/v1/prices', { currency: 'cny', unit_amount: 500, product: product.id })).body;
      const intent = (await post('/v1/payment_intents', { amount: 20, currency: 'cny' })).body;
      const endpoint = (await post('/v1/webhook_endpoints', { url: 'https://merchant.test/hook', enabled_events: ['*'] })).body;
      const eventCount = async () => (await gw.database.db.selectFrom('events').select('id').execute()).length;
      const before = await eventCount();
      for (const [path, object] of [
        [`/v1/prices/${price.id}`, price],
        [`/v1/products/${product.id}`, product],
        [`/v1/payment_intents/${intent.id}`, intent],
      ] as const) {
        for (const send of [
          () => post(path, {}),
          () => api(gw, 'POST', path, { key: gw.secretKey, form: '' }),
          () => api(gw, 'POST', path, { key: gw.secretKey }),
        ]) {
          const answer = await send();
          assert.equal(answer.status, 200, `${path}: ${answer.text}`);
          assert.deepEqual(answer.body, object, `${path} unchanged`);
        }
      }
      const sameEndpoint = await post(`/v1/webhook_endpoints/${endpoint.id}`, {});
      assert.equal(sameEndpoint.status, 200, sameEndpoint.text);
      assert.equal(sameEndpoint.body.url, endpoint.url);
      assert.equal(await eventCount(), before, 'an empty update writes no event');
      const withKey = await api(gw, 'POST', `/v1/prices/${price.id}`, { key: gw.secretKey, json: {}, headers: { 'idempotency-key': 'empty-update-1' } });
      const replay = await api(gw, 'POST', `/v1/prices/${price.id}`, { key: gw.secretKey, json: {}, headers: { 'idempotency-key': 'empty-update-1' } });
      assert.equal(withKey.status, 200);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true', 'the no-op answer is stored for its key');
    });
  });

  describe('nesting deeper than 20 levels is a 400 parameter_invalid', () => {
    const nested = (levels: number): unknown => {
      let value: unknown = 'x';
      for (let i = 0; i < levels; i += 1) value = { k: value };
      return value;
    };
    it('in JSON bodies (also 100 000 levels, which used to overflow the stack)', async () => {
      for (const levels of [21, 100, 100_000]) {
        const payload = levels === 100_000 ? `${'{"k":'.repeat(levels)}1${'}'.repeat(levels)}` : JSON.stringify({ metadata: nested(levels) });
        const answer = await inject({ method: 'POST', url: '/v1/payment_intents', key: gw.secretKey, headers: { 'content-type': 'application/json', 'idempotency-key': `deep-${levels}` }, payload });
        assert.equal(answer.statusCode, 400, answer.body);
        assert.equal(answer.json().error.code, 'parameter_invalid');
        assert.match(answer.json().error.message, /nested at most 20 levels/);
      }
      const arrays = await inject({ method: 'POST', url: '/v1/refunds', key: gw.secretKey, headers: { 'content-type': 'application/json' }, payload: `${'['.repeat(5000)}${']'.repeat(5000)}` });
      assert.deepEqual([arrays.statusCode, arrays.json().error.code], [400, 'parameter_invalid']);
    });
    it('in form bodies and query strings', async () => {
      const deepForm = `metadata${'[a]'.repeat(21)}=1`;
      const form = await inject({ method: 'POST', url: '/v1/payment_intents', key: gw.secretKey, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: deepForm });
      assert.deepEqual([form.statusCode, form.json().error.code], [400, 'parameter_invalid'], form.body);
      const query = await inject({ method: 'GET', url: `/v1/payment_intents?created${'[gt]'.repeat(40)}=1`, key: gw.secretKey });
      assert.deepEqual([query.statusCode, query.json().error.code], [400, 'parameter_invalid'], query.body);
    });
    it('20 levels are still parsed (and refused by the schema, naming the parameter)', async () => {
      const answer = await inject({ method: 'POST', url: '/v1/payment_intents', key: gw.secretKey, headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ amount: 20, currency: 'cny', metadata: nested(20) }) });
      assert.equal(answer.statusCode, 400, answer.body);
      assert.deepEqual([answer.json().error.code, answer.json().error.param], ['parameter_invalid', 'metadata[k]']);
    });
  });

  describe('U+0000 never reaches the database (PostgreSQL refuses it in text: a 500)', () => {
    it('in path parameters of keyed and keyless routes, query values, JSON and form bodies: 400 naming the parameter', async () => {
      const intent = (await post('/v1/payment_intents', { amount: 20, currency: 'cny' })).body;
      const path = await inject({ method: 'GET', url: `/v1/payment_intents/${intent.id}%00`, key: gw.secretKey });
      assert.deepEqual([path.statusCode, path.json().error.param], [400, 'id'], path.body);
      const page = await inject({ method: 'GET', url: `/pay/cs_1%00?key=${gw.publishableKey}` });
      assert.deepEqual([page.statusCode, page.json().error.param], [400, 'id'], page.body);
      const query = await inject({ method: 'GET', url: '/v1/payment_intents?customer=a%00b', key: gw.secretKey });
      assert.deepEqual([query.statusCode, query.json().error.param], [400, 'customer'], query.body);
      const json = await post(`/v1/payment_intents/${intent.id}`, { metadata: { order: 'a\u0000b' } });
      assert.deepEqual([json.status, json.body.error.code, json.body.error.param], [400, 'parameter_invalid', 'metadata[order]']);
      const form = await api(gw, 'POST', `/v1/payment_intents/${intent.id}`, { key: gw.secretKey, form: 'description=a%00' });
      assert.deepEqual([form.status, form.body.error.param], [400, 'description']);
    });
  });

  describe('URLs the shopper is sent to are http(s) only', () => {
    it('refuses javascript:, data: and unparseable return_url with the parameter', async () => {
      for (const bad of ['javascript:alert(1)', 'JAVASCRIPT:alert(document.cookie)', 'data:text/html,<script>1</script>', 'ftp://files.test/x', 'https://', 'https://[::1', 'myapp://return']) {
        const create = await post('/v1/payment_intents', { amount: 20, currency: 'cny', return_url: bad });
        assert.deepEqual([create.status, create.body.error.code, create.body.error.param], [400, 'parameter_invalid', 'return_url'], bad);
      }
      const intent = (await post('/v1/payment_intents', { amount: 20, currency: 'cny' })).body;
      const update = await post(`/v1/payment_intents/${intent.id}`, { return_url: 'javascript:alert(1)' });
      assert.deepEqual([update.status, update.body.error.param], [400, 'return_url']);
      const confirm = await post(`/v1/payment_intents/${intent.id}/confirm`, { return_url: 'javascript:alert(1)', payment_method_data: { type: 'alipay' } });
      assert.deepEqual([confirm.status, confirm.body.error.param], [400, 'return_url']);
      const good = await post('/v1/payment_intents', { amount: 20, currency: 'cny', return_url: 'http://localhost:3000/done?order=1' });
      assert.equal(good.status, 200, good.text);
    });
    it('refuses them as success_url and cancel_url of a Checkout Session; bare hosts stay https', async () => {
      const lineItems = [{ price_data: { currency: 'cny', unit_amount: 100, product_data: { name: 'Tea' } }, quantity: 1 }];
      for (const param of ['success_url', 'cancel_url']) {
        const body = { mode: 'payment', success_url: 'https://shop.test/ok', line_items: lineItems, [param]: 'javascript:alert(1)' };
        const answer = await post('/v1/checkout/sessions', body);
        assert.deepEqual([answer.status, answer.body.error.code, answer.body.error.param], [400, 'parameter_invalid', param]);
      }
      const bare = await post('/v1/checkout/sessions', { mode: 'payment', success_url: 'https://shop.test/ok', cancel_url: 'www.baidu.com', line_items: lineItems });
      assert.equal(bare.status, 200, bare.text);
    });
  });

  describe('a publishable key sees the client-safe subset of a PaymentIntent', () => {
    it('on retrieve and confirm, including replays', async () => {
      const intent = (await post('/v1/payment_intents', { amount: 20, currency: 'cny', metadata: { order: 'A-1' }, customer: 'cus_1', merchant_order_id: 'A-1', description: 'Tea' })).body;
      const secretView = await api(gw, 'GET', `/v1/payment_intents/${intent.id}`, { key: gw.secretKey });
      assert.equal(secretView.body.metadata.order, 'A-1', 'the secret key sees everything');
      const read = await api(gw, 'GET', `/v1/payment_intents/${intent.id}?client_secret=${intent.client_secret}`, { key: gw.publishableKey });
      assert.equal(read.status, 200, read.text);
      assert.deepEqual(Object.keys(read.body).sort(), Object.keys(secretView.body).filter((key) => (CLIENT_SAFE_PAYMENT_INTENT_FIELDS as readonly string[]).includes(key)).sort());
      for (const hidden of ['metadata', 'customer', 'merchant_order_id', 'latest_charge', 'payment_method_options', 'amount_received', 'return_url']) assert.ok(!(hidden in read.body), hidden);
      assert.deepEqual([read.body.id, read.body.amount, read.body.currency, read.body.client_secret, read.body.description], [intent.id, 20, 'CNY', intent.client_secret, 'Tea']);

      const body = { client_secret: intent.client_secret, return_url: 'https://shop.test/back', payment_method_data: { type: 'alipay' } };
      const headers = { 'idempotency-key': `pk-confirm-${intent.id}` };
      const confirmed = await api(gw, 'POST', `/v1/payment_intents/${intent.id}/confirm`, { key: gw.publishableKey, json: body, headers });
      assert.equal(confirmed.status, 200, confirmed.text);
      assert.equal(confirmed.body.status, 'requires_action');
      assert.ok(!('metadata' in confirmed.body) && !('customer' in confirmed.body), 'the confirm answer is the subset');
      const replayed = await api(gw, 'POST', `/v1/payment_intents/${intent.id}/confirm`, { key: gw.publishableKey, json: body, headers });
      assert.equal(replayed.headers.get('idempotent-replayed'), 'true');
      assert.deepEqual(replayed.body, confirmed.body, 'the replay is the subset too');
    });
  });

  describe('logs', () => {
    it('carry the route pattern and never a client secret, token or key, whatever the encoding of its name', async () => {
      const intent = (await post('/v1/payment_intents', { amount: 20, currency: 'cny' })).body;
      const start = gw.logs.length;
      await inject({ method: 'GET', url: `/v1/payment_intents/${intent.id}?client%5Fsecret=${intent.client_secret}`, key: gw.publishableKey });
      await inject({ method: 'GET', url: `/v1/payment_intents/${intent.id}?%63lient_secret=${intent.client_secret}`, key: gw.publishableKey });
      await inject({ method: 'GET', url: `/alipayplus/return/${intent.id}?token=return-token-123456` });
      await inject({ method: 'GET', url: `/nowhere?payment_intent_client_secret=${intent.client_secret}&t%6Fken=tok-987654&plain=visible` });
      const lines = gw.logs.slice(start).map((line) => JSON.parse(line) as { req?: { route?: string; url?: string } });
      const text = gw.logs.slice(start).join('');
      assert.ok(!text.includes(intent.client_secret), 'no client secret');
      assert.ok(!text.includes('return-token-123456') && !text.includes('tok-987654'), 'no token');
      assert.ok(!text.includes(gw.publishableKey), 'no key');
      assert.ok(lines.some((line) => line.req?.route === '/v1/payment_intents/:id'), 'the route pattern is logged');
      assert.ok(!lines.some((line) => line.req?.route !== undefined && line.req.url !== undefined), 'a matched request logs no URL');
      assert.ok(lines.some((line) => line.req?.url?.startsWith('/nowhere?') && line.req.url.includes('plain=visible')), 'an unmatched URL is logged, blanked');
    });
    it('one line per request, laid out as the request logger writes it: its request id once, first, then the request, status and time', async () => {
      const intent = (await post('/v1/payment_intents', { amount: 20, currency: 'cny' })).body;
      const start = gw.logs.length;
      const answered = await inject({ method: 'GET', url: `/v1/payment_intents/${intent.id}`, key: gw.secretKey });
      const unmatched = await inject({ method: 'GET', url: '/nowhere?token=tok-123456&plain=visible' });
      for (const [response, status] of [[answered, 200], [unmatched, 404]] as const) {
        assert.equal(response.statusCode, status);
        const requestId = String(response.headers['request-id']);
        const lines = gw.logs.slice(start).filter((line) => line.includes(`"${requestId}"`));
        assert.equal(lines.length, 1, lines.join(''));
        const line = lines[0]!;
        assert.equal(line.split('"request_id"').length, 2, `the request id is written once: ${line}`);
        const parsed = JSON.parse(line) as Record<string, unknown>;
        assert.deepEqual(Object.keys(parsed), ['level', 'time', 'pid', 'hostname', 'request_id', 'req', 'res', 'responseTime', 'msg']);
        assert.equal(parsed.request_id, requestId);
        assert.equal(parsed.msg, 'request completed');
        assert.equal(parsed.level, 30);
        assert.deepEqual(parsed.res, { statusCode: status });
        assert.equal(typeof parsed.responseTime, 'number');
        const req = parsed.req as Record<string, unknown>;
        assert.equal(req.method, 'GET');
        if (status === 200) assert.equal(req.route, '/v1/payment_intents/:id');
        else assert.equal(req.url, '/nowhere?token=[REDACTED]&plain=visible');
      }
    });
    it("a request's logger writes the request child's lines, redacted, and makes the child only when the request logs", () => {
      const out: string[] = [];
      const root = createGatewayLogger({ level: 'info' }, new Writable({ write(chunk, _enc, done) { out.push(String(chunk)); done(); } }));
      let children = 0;
      const parent = new Proxy(root, { get: (target, name, receiver) => (name === 'child' ? (...args: Parameters<typeof root.child>) => { children++; return target.child(...args); } : Reflect.get(target, name, receiver)) });
      const requestLogger = requestLoggerFactory(parent, { request_id: 'req_lazy' }, {});
      assert.equal(children, 0, 'no child for a request that does not log');
      assert.equal(requestLogger.level, 'info');
      requestLogger.warn({ intent: { client_secret: 'pi_1_secret_x' }, note: 'kept' }, 'rejected %s', 'twice');
      requestLogger.debug('below the level');
      requestLogger.error(new Error('boom'));
      assert.equal(children, 1, 'one child, made on the first line');
      root.child({ request_id: 'req_lazy' }, {}).warn({ intent: { client_secret: 'pi_1_secret_x' }, note: 'kept' }, 'rejected %s', 'twice');
      const withoutTime = (line: string) => line.replace(/"time":\d+,/, '');
      assert.equal(out.length, 3, out.join(''));
      assert.equal(withoutTime(out[0]!), withoutTime(out[2]!));
      assert.ok(out[0]!.includes('"request_id":"req_lazy"') && out[0]!.includes('"msg":"rejected twice"') && !out[0]!.includes('pi_1_secret_x'), out[0]);
      assert.match(out[1]!, /"level":50,.*"request_id":"req_lazy".*"msg":"boom"/);
    });
    it('redactUrl blanks secret values by their decoded parameter name', () => {
      assert.equal(redactUrl('/v1/payment_intents/pi_1?client_secret=pi_1_secret_abc&x=1'), '/v1/payment_intents/pi_1?client_secret=[REDACTED]&x=1');
      assert.equal(redactUrl('/x?client%5Fsecret=s&a[token]=t&%ZZ=u&k=v'), '/x?client%5Fsecret=[REDACTED]&a[token]=[REDACTED]&%ZZ=[REDACTED]&k=v');
      assert.equal(redactUrl('/x?limit=3&starting_after=pi_1'), '/x?limit=3&starting_after=pi_1');
    });
    it('pino redacts secrets attached to log objects', () => {
      const out: string[] = [];
      const logger = createGatewayLogger({ level: 'info' }, new Writable({ write(chunk, _enc, done) { out.push(String(chunk)); done(); } }));
      logger.info({ intent: { client_secret: 'pi_1_secret_x' }, token: 'tok_y', attempt: { token: 'tok_z' } }, 'x');
      assert.ok(!/pi_1_secret_x|tok_y|tok_z/.test(out.join('')), out.join(''));
    });
  });
});
