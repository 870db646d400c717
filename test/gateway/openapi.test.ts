import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { retrieveCheckoutSession } from '../../src/gateway/core/checkout_sessions.js';
import { retrieveCharge } from '../../src/gateway/core/charges.js';
import { retrievePaymentIntent } from '../../src/gateway/core/payment_intents.js';
import { retrieveRefund } from '../../src/gateway/core/refunds.js';
import { api, seedWebRequest, startTestGateway, type TestGateway } from '../support/gateway-server.js';
import { OPENAPI_FILE } from '../support/openapi-file.js';

// ajv-formats is CommonJS: its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (ajv: Ajv2020) => Ajv2020;

type Doc = { paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown> } } & Record<string, unknown>;

/** Every object schema that lists its properties made closed: an undeclared field fails validation. */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, closed(value)]));
  if ('properties' in out && out.additionalProperties === true) out.additionalProperties = false;
  return out;
}

const pointer = (...parts: string[]) => parts.map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1')).join('/');

describe('OpenAPI 3.1 document (/openapi.json, docs/openapi.json)', () => {
  let gw: TestGateway;
  let doc: Doc;
  let strict: Ajv2020;
  const validators = new Map<string, ValidateFunction>();

  /** Validates a response against the document's schema for its route and status, undeclared fields refused. */
  function assertMatches(method: string, path: string, response: { status: number; body: unknown; text: string }): void {
    const operation = doc.paths[path]?.[method];
    assert.ok(operation, `${method} ${path} is in the document`);
    const status = response.status === 200 ? '200' : `${String(response.status)[0]}XX`;
    assert.ok(operation.responses[status], `${method} ${path} declares ${status}`);
    const ref = `openapi.json#/${pointer('paths', path, method, 'responses', status, 'content', 'application/json', 'schema')}`;
    let validate = validators.get(ref);
    if (validate === undefined) {
      validate = strict.compile({ $ref: ref });
      validators.set(ref, validate);
    }
    assert.ok(validate(response.body), `${method} ${path} ${response.status}: ${JSON.stringify(validate.errors)}\n${response.text}`);
  }

  before(async () => {
    gw = await startTestGateway();
    gw.connector.nextPay = async (request) => ({ kind: 'succeeded', externalPaymentId: `ext_${request.paymentRequestId}`, buyerId: 'buyer_1', wallet: 'ALIPAY_CN' });
    const served = await api(gw, 'GET', '/openapi.json');
    assert.equal(served.status, 200, served.text);
    doc = served.body as Doc;
    strict = addFormats(new Ajv2020({ strict: false, allErrors: true }));
    strict.addSchema({ ...(closed(doc) as object), $id: 'openapi.json' });
  });
  after(async () => {
    await gw.stop();
  });

  it('is served without an API key and is a valid OpenAPI 3.1 document', async () => {
    assert.equal(doc.openapi, '3.1.0');
    const result = await new Validator().validate(structuredClone(doc) as Parameters<Validator['validate']>[0]);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2));
    assert.deepEqual(Object.keys((doc.components as unknown as { securitySchemes: object }).securitySchemes), ['bearerAuth', 'basicAuth']);
  });

  it('describes every /v1 route, each with a unique operationId, its parameters and the error envelope', () => {
    const routes = gw.running.app.declaredRoutes.filter((route) => route.url.startsWith('/v1/') && route.method !== 'HEAD');
    assert.ok(routes.length >= 40, `${routes.length} routes`);
    const ids = new Set<string>();
    for (const route of routes) {
      const operation = doc.paths[route.url.replace(/:([a-z_]+)/g, '{$1}')]?.[route.method.toLowerCase()];
      assert.ok(operation, `${route.method} ${route.url} is documented`);
      assert.ok(!ids.has(operation.operationId), `operationId ${operation.operationId} is unique`);
      ids.add(operation.operationId);
      assert.deepEqual(operation.responses['4XX'], { description: (operation.responses['4XX'] as { description: string }).description, content: { 'application/json': { schema: { $ref: '#/components/schemas/error' } } } });
    }
    const create = doc.paths['/v1/payment_intents']?.post as unknown as { requestBody: { content: Record<string, { schema: { required: string[]; properties: Record<string, unknown> } }> } };
    assert.deepEqual(Object.keys(create.requestBody.content), ['application/x-www-form-urlencoded', 'application/json']);
    assert.deepEqual(create.requestBody.content['application/json']?.schema.required, ['amount', 'currency']);
    assert.deepEqual(create.requestBody.content['application/json']?.schema.properties.confirm, { type: 'boolean' });
    const list = doc.paths['/v1/refunds']?.get as unknown as { parameters: { name: string; in: string }[] };
    assert.deepEqual(list.parameters.map((p) => `${p.in}:${p.name}`), ['query:limit', 'query:created', 'query:starting_after', 'query:ending_before', 'query:payment_intent', 'query:charge', 'query:expand']);
    const retrieve = doc.paths['/v1/charges/{id}']?.get as unknown as { parameters: { name: string; in: string; required: boolean }[] };
    assert.deepEqual(retrieve.parameters.map((p) => [p.in, p.name, p.required]), [['path', 'id', true], ['query', 'expand', false]]);
    // POSTs take `expand` in the body, beside their own parameters.
    assert.equal((create.requestBody.content['application/json']?.schema.properties.expand as { type: string }).type, 'array');
  });

  it('carries the examples of the Direct API and Checkout flows: curl, stripe for Node, Python', () => {
    for (const [path, method] of [['/v1/payment_intents', 'post'], ['/v1/payment_intents/{id}', 'get'], ['/v1/refunds', 'post'], ['/v1/checkout/sessions', 'post'], ['/v1/checkout/sessions/{id}', 'get']] as const) {
      const operation = doc.paths[path]?.[method] as unknown as { 'x-codeSamples': { label: string; source: string }[]; description: string };
      assert.deepEqual(operation['x-codeSamples'].map((sample) => sample.label), ['curl', 'Node (stripe)', 'Python (stripe)'], `${method} ${path}`);
      for (const sample of operation['x-codeSamples']) assert.ok(operation.description.includes(sample.source), `${method} ${path}: the ${sample.label} sample is in the description`);
    }
  });

  it('is the committed docs/openapi.json (run `npm run openapi` after changing a route)', () => {
    const committed = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as unknown;
    assert.deepEqual(committed, doc, 'docs/openapi.json is stale: run `npm run openapi` and commit it');
  });

  it('real responses match their route\'s response schema with no undeclared field, and serialization keeps every field', async () => {
    const key = gw.secretKey;
    const scope = { accountId: gw.accountId, livemode: false };
    const deps = { database: gw.database };
    const headers = { 'idempotency-key': 'openapi-create-1' };
    const created = await api(gw, 'POST', '/v1/payment_intents', { key, headers, json: { ...seedWebRequest(), amount: 1200, metadata: { order: '42' } } });
    assert.equal(created.body.status, 'succeeded', created.text);
    assertMatches('post', '/v1/payment_intents', created);
    // Serialization with the schema neither drops, changes nor reorders a field of the core's object:
    // the bytes are JSON.stringify's, as an Idempotency-Key replay (stored by the core) sends them.
    assert.equal(created.text, JSON.stringify(await retrievePaymentIntent(deps, scope, created.body.id)));
    const replay = await api(gw, 'POST', '/v1/payment_intents', { key, headers, json: { ...seedWebRequest(), amount: 1200, metadata: { order: '42' } } });
    assert.deepEqual([replay.headers.get('idempotent-replayed'), replay.text], ['true', created.text]);

    const draft = await api(gw, 'POST', '/v1/payment_intents', { key, form: 'amount=500&currency=cny&description=draft' });
    assert.equal(draft.body.status, 'requires_payment_method', draft.text);
    assertMatches('post', '/v1/payment_intents', draft);
    const confirmed = await api(gw, 'POST', `/v1/payment_intents/${draft.body.id}/confirm`, { key, form: 'payment_method_data[type]=alipay&return_url=https://shop.example/r' });
    assert.equal(confirmed.body.status, 'succeeded', confirmed.text);
    assertMatches('post', '/v1/payment_intents/{id}/confirm', confirmed);

    const retrieved = await api(gw, 'GET', `/v1/payment_intents/${created.body.id}`, { key });
    assertMatches('get', '/v1/payment_intents/{id}', retrieved);
    assert.equal(retrieved.text, created.text);
    const listed = await api(gw, 'GET', '/v1/payment_intents?limit=2', { key });
    assert.deepEqual(listed.body.data.map((pi: { id: string }) => pi.id), [draft.body.id, created.body.id]);
    assertMatches('get', '/v1/payment_intents', listed);

    const charge = await api(gw, 'GET', `/v1/charges/${created.body.latest_charge}`, { key });
    assertMatches('get', '/v1/charges/{id}', charge);
    assert.equal(charge.text, JSON.stringify(await retrieveCharge(deps, scope, created.body.latest_charge as string)));
    // Expanded answers (http/expand.ts) still match: an expandable field is an id or the whole object.
    const expanded = await api(gw, 'GET', `/v1/payment_intents/${created.body.id}?expand[]=latest_charge&expand[]=latest_charge.balance_transaction`, { key });
    assert.equal(expanded.body.latest_charge.id, created.body.latest_charge, expanded.text);
    assertMatches('get', '/v1/payment_intents/{id}', expanded);
    const withRefunds = await api(gw, 'GET', `/v1/charges/${created.body.latest_charge}?expand[]=refunds&expand[]=payment_intent`, { key });
    assert.equal(withRefunds.body.refunds.object, 'list', withRefunds.text);
    assertMatches('get', '/v1/charges/{id}', withRefunds);
    // The check can fail: a field the document does not declare is refused.
    assert.throws(() => assertMatches('get', '/v1/charges/{id}', { ...charge, body: { ...charge.body, undeclared_field: 1 } }), /undeclared_field|additional/);

    const refund = await api(gw, 'POST', '/v1/refunds', { key, json: { payment_intent: created.body.id, amount: 200, metadata: { why: 'size' } } });
    assert.deepEqual([refund.status, refund.body.amount, refund.body.status], [200, 200, 'pending'], refund.text);
    assertMatches('post', '/v1/refunds', refund);
    assert.equal(refund.text, JSON.stringify(await retrieveRefund(deps, scope, refund.body.id)));
    assertMatches('get', '/v1/refunds', await api(gw, 'GET', '/v1/refunds', { key }));

    const session = await api(gw, 'POST', '/v1/checkout/sessions', {
      key,
      json: { mode: 'payment', success_url: 'https://shop.example/ok', line_items: [{ price_data: { currency: 'cny', unit_amount: 300, product_data: { name: 'Tea' } }, quantity: 2 }] },
    });
    assert.deepEqual([session.status, session.body.amount_total], [200, 600], session.text);
    assertMatches('post', '/v1/checkout/sessions', session);
    const sessionRead = await api(gw, 'GET', `/v1/checkout/sessions/${session.body.id}`, { key });
    assertMatches('get', '/v1/checkout/sessions/{id}', sessionRead);
    assert.equal(sessionRead.text, JSON.stringify(await retrieveCheckoutSession(deps, scope, session.body.id)));
    const lineItems = await api(gw, 'GET', `/v1/checkout/sessions/${session.body.id}/line_items`, { key });
    assert.equal(lineItems.body.data[0].price.product.name, 'Tea');
    assertMatches('get', '/v1/checkout/sessions/{id}/line_items', lineItems);
  });

  it('error responses match the error envelope: 400 naming the parameter, 401, 404', async () => {
    const bad = await api(gw, 'POST', '/v1/payment_intents', { key: gw.secretKey, form: 'amount=abc&currency=cny' });
    assert.deepEqual([bad.status, bad.body.error.code, bad.body.error.param], [400, 'parameter_invalid_integer', 'amount']);
    assertMatches('post', '/v1/payment_intents', bad);
    assert.deepEqual(Object.keys(bad.body.error), ['type', 'message', 'code', 'param', 'request_log_url'], 'the envelope keeps its field order');
    const unauthenticated = await api(gw, 'GET', '/v1/refunds');
    assert.equal(unauthenticated.status, 401);
    assertMatches('get', '/v1/refunds', unauthenticated);
    const missing = await api(gw, 'GET', '/v1/charges/ch_1666729870215872512', { key: gw.secretKey });
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'resource_missing']);
    assertMatches('get', '/v1/charges/{id}', missing);
  });
});
