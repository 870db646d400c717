import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import qs from 'qs';
import { signedHeaders } from '../../src/alipayplus/index.js';
import { NOTIFY_PATHS } from '../../src/gateway/connector/alipayplus/modes.js';
import type { DeclaredRoute } from '../../src/gateway/http/auth.js';
import { E2E_CLIENT_ID, payInWallet, startPaymentStack, waitForIntentStatus, type PaymentStack } from '../support/e2e-harness.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { fixtureKeys } from '../support/keys.js';

/**
 * Issue 9: a property-based fuzz over every route of the gateway app (the merchant API, the
 * inbound Alipay+ routes, the hosted pages), through the real connector and sandbox. Requests
 * are hostile in their paths (percent-encoding, unicode, dot segments), methods, headers, keys
 * and bodies (JSON, forms, deep nesting, huge numbers, wrong types, `__proto__`). The property:
 * no response is a 5xx, and every 4xx that is JSON is the documented error envelope (api.md §1).
 *
 * Seeded and bounded for CI; a longer campaign:
 *   ZHIFU_FUZZ_RUNS=50000 node --test dist/test/fuzz/endpoints.test.js
 * (ZHIFU_FUZZ_SEED picks another seed; a failure prints the request to replay it.)
 */
const RUNS = Number(process.env.ZHIFU_FUZZ_RUNS ?? 2500);
const SEED = Number(process.env.ZHIFU_FUZZ_SEED ?? 20_261_129);
/** A request must be answered within this, or it counts as a failure (a hang is a bug too). */
const REQUEST_TIMEOUT_MS = 15_000;
const ERROR_TYPES = new Set(['invalid_request_error', 'api_error', 'card_error', 'idempotency_error']);

interface Fixtures {
  secretKey: string;
  publishableKey: string;
  otherSecretKey: string;
  otherPublishableKey: string;
  liveSecretKey: string;
  /** Real ids by prefix (pi, ch, re, prod, price, we, cs, evt, txn, pm), including another account's. */
  ids: Record<string, string[]>;
  clientSecrets: string[];
  paymentRequestIds: string[];
}

interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string;
  /** The declared route the request was built from. */
  route: DeclaredRoute;
}

const ID_PREFIX_BY_SEGMENT: Record<string, string> = {
  payment_intents: 'pi', payment_methods: 'pm', charges: 'ch', refunds: 're', balance_transactions: 'txn', events: 'evt',
  webhook_endpoints: 'we', products: 'prod', prices: 'price', sessions: 'cs', pay: 'cs', return: 'pi',
};

/** Parameters each route documents (api.md), so generated bodies often get past the schema and reach the core. */
const PARAMS: Record<string, string[]> = {
  'POST /v1/payment_intents': ['amount', 'currency', 'confirm', 'return_url', 'payment_method_data', 'payment_method_options', 'payment_method_types', 'metadata', 'description', 'shipping', 'receipt_email', 'customer', 'merchant_order_id', 'capture_method'],
  'POST /v1/payment_intents/:id': ['amount', 'currency', 'return_url', 'metadata', 'description', 'payment_method', 'payment_method_data', 'shipping', 'receipt_email', 'statement_descriptor'],
  'POST /v1/payment_intents/:id/confirm': ['return_url', 'payment_method', 'payment_method_data', 'payment_method_options', 'client_secret', 'receipt_email', 'shipping'],
  'POST /v1/payment_intents/:id/cancel': ['cancellation_reason'],
  'GET /v1/payment_intents/:id': ['client_secret'],
  'GET /v1/payment_intents/search': ['query', 'limit', 'page'],
  'POST /v1/refunds': ['payment_intent', 'charge', 'amount', 'reason', 'metadata'],
  'POST /v1/refunds/:id': ['metadata'],
  'POST /v1/products': ['name', 'description', 'images', 'active', 'metadata'],
  'POST /v1/products/:id': ['name', 'description', 'images', 'active', 'metadata'],
  'POST /v1/prices': ['currency', 'unit_amount', 'product', 'product_data', 'recurring', 'active', 'nickname', 'lookup_key', 'metadata', 'type', 'billing_scheme'],
  'POST /v1/prices/:id': ['active', 'nickname', 'lookup_key', 'metadata'],
  'POST /v1/webhook_endpoints': ['url', 'enabled_events', 'description', 'metadata', 'api_version'],
  'POST /v1/webhook_endpoints/:id': ['url', 'enabled_events', 'disabled', 'description', 'metadata'],
  'POST /v1/checkout/sessions': ['mode', 'success_url', 'cancel_url', 'line_items', 'payment_method_types', 'client_reference_id', 'customer_email', 'metadata', 'expires_at', 'locale'],
  'POST /v1/events/:id/retry': ['endpoint'],
  'GET /pay/:id': ['key', 'lang', 'retry', 'redirect_status'],
  'GET /pay/:id/status': ['key'],
  'GET /alipayplus/return/:paymentIntentId': ['token'],
};
const LIST_PARAMS = ['limit', 'starting_after', 'ending_before', 'created', 'status', 'payment_intent', 'charge', 'type', 'types', 'active', 'product', 'currency', 'source', 'customer', 'event'];

/** Values that are wrong in type, size or shape for almost any parameter. */
function hostileValue(): fc.Arbitrary<unknown> {
  const deep = fc.integer({ min: 15, max: 40 }).map((levels) => {
    let value: unknown = 'x';
    for (let i = 0; i < levels; i += 1) value = i % 2 === 0 ? { a: value } : [value];
    return value;
  });
  const pollution = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '__defineGetter__').map((key) => JSON.parse(`{"${key}":{"polluted":"yes","length":1}}`) as unknown);
  return fc.oneof(
    fc.constantFrom(1e308, -1, 0, -0, 2 ** 53, 2 ** 64, 1.5, '1e3', ' 12 ', '0x10', '-0', '', null, true, false, 'NaN', 'Infinity', '\u0000', '\u202e', 'é', '支付宝', '😀', '../../etc/passwd', '<script>', "' OR 1=1 --", '%00', '{CHECKOUT_SESSION_ID}'),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.integer(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => n.toString()),
    fc.constantFrom('x'.repeat(6000), '9'.repeat(400)),
    fc.jsonValue({ maxDepth: 3 }),
    deep,
    pollution,
  );
}

function plausibleValue(key: string, fx: Fixtures): fc.Arbitrary<unknown> {
  const id = (prefix: string) => fc.constantFrom(...(fx.ids[prefix] ?? [`${prefix}_0000000000000000000`]));
  const url = fc.constantFrom('https://shop.test/return', 'http://localhost:3000/done?x=1', 'www.baidu.com', 'javascript:alert(1)', 'https://merchant.test/hook', 'data:text/html,x');
  const metadata = fc.dictionary(fc.string({ minLength: 1, maxLength: 45 }), fc.oneof(fc.string({ maxLength: 20 }), fc.constant('')), { maxKeys: 4 });
  switch (key) {
    case 'amount': case 'unit_amount': return fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 1, max: 1e9 }).map(String));
    case 'currency': return fc.constantFrom('cny', 'CNY', 'usd', 'hkd', 'xxx');
    case 'confirm': case 'active': case 'disabled': return fc.constantFrom(true, false, 'true', 'false');
    case 'return_url': case 'success_url': case 'cancel_url': case 'url': return url;
    case 'payment_method_data': return fc.constantFrom({ type: 'alipay' }, { type: 'card' }, { type: 'alipay', billing_details: { email: 'a@b.c', address: { country: 'CN' } } });
    case 'payment_method_options': return fc.record({ alipay: fc.record({ terminal_type: fc.constantFrom('WEB', 'wap', 'APP', 'POS'), os_type: fc.constantFrom('IOS', 'ANDROID', 'x'), client_ip: fc.constantFrom('1.2.3.4', '::1') }, { requiredKeys: [] }) });
    case 'payment_method_types': return fc.constantFrom(['alipay'], ['card'], []);
    case 'metadata': return metadata;
    case 'shipping': return fc.constantFrom({ name: 'Li', address: { city: 'Hangzhou' } }, { name: 'Li' }, { address: {} });
    case 'receipt_email': case 'customer_email': return fc.constantFrom('a@b.c', 'not-an-email');
    case 'client_secret': return fc.constantFrom(...fx.clientSecrets, 'pi_0_secret_x');
    case 'payment_intent': return id('pi');
    case 'charge': return id('ch');
    case 'payment_method': return id('pm');
    case 'product': return id('prod');
    case 'endpoint': return id('we');
    case 'starting_after': case 'ending_before': case 'page': return fc.oneof(id('pi'), id('re'), id('prod'), id('evt'));
    case 'limit': return fc.integer({ min: -1, max: 120 });
    case 'created': return fc.oneof(fc.integer({ min: 0, max: 2 ** 42 }), fc.record({ gt: fc.integer({ min: 0, max: 2 ** 42 }), lte: fc.integer() }, { requiredKeys: [] }));
    case 'reason': return fc.constantFrom('requested_by_customer', 'duplicate', 'fraudulent', 'other');
    case 'cancellation_reason': return fc.constantFrom('abandoned', 'duplicate', 'requested_by_customer', 'automatic');
    case 'query': return fc.constantFrom("status:'succeeded'", "metadata['k']:'v'", "merchant_order_id:'A' AND status:'canceled'", 'amount>10', "status:'", '');
    case 'name': case 'nickname': case 'description': case 'lookup_key': return fc.string({ maxLength: 40 });
    case 'images': return fc.constantFrom(['https://shop.test/a.png'], ['ftp://x'], []);
    case 'recurring': return fc.constantFrom({ interval: 'month' }, { interval: 'decade' }, { interval: 'day', interval_count: 400 });
    case 'product_data': return fc.constantFrom({ name: 'Tea' }, {}, { name: 'Tea', images: ['https://x.test/i.png'] });
    case 'enabled_events': return fc.constantFrom(['*'], ['payment_intent.succeeded', 'charge.refunded'], ['nope'], []);
    case 'mode': return fc.constantFrom('payment', 'subscription', 'setup');
    case 'line_items': return fc.oneof(
      fc.constantFrom([{ price_data: { currency: 'cny', unit_amount: 100, product_data: { name: 'Tea' } }, quantity: 2 }], []),
      id('price').map((price) => [{ price, quantity: 1 }]),
    );
    case 'expires_at': return fc.integer({ min: 0, max: 2 ** 45 });
    case 'locale': case 'lang': return fc.constantFrom('zh', 'en', 'zh-HK', 'fr', 'auto');
    case 'key': return fc.constantFrom(fx.publishableKey, fx.secretKey, fx.otherPublishableKey, 'pk_test_nope', '');
    case 'token': return fc.constantFrom('x', '', 'a'.repeat(64));
    case 'status': return fc.constantFrom('open', 'complete', 'pending', 'delivered', 'x');
    case 'type': return fc.constantFrom('charge', 'refund', 'one_time', 'recurring', 'payment_intent.succeeded', 'payment_intent.*', 'x');
    case 'types': return fc.constantFrom(['payment_intent.succeeded'], ['x.*']);
    case 'event': return id('evt');
    case 'source': return fc.oneof(id('ch'), id('re'));
    case 'quantity': return fc.integer({ min: -1, max: 1000 });
    case 'retry': case 'redirect_status': return fc.constantFrom('1', 'succeeded');
    default: return fc.string({ maxLength: 20 });
  }
}

/** A parameter object for a route: mostly its own parameters with plausible values, sometimes hostile ones or unknown keys. */
function paramsFor(routeKey: string, fx: Fixtures): fc.Arbitrary<Record<string, unknown>> {
  const keys = PARAMS[routeKey] ?? (routeKey.startsWith('GET ') ? LIST_PARAMS : []);
  const entry = (key: string) => fc.oneof({ weight: 4, arbitrary: plausibleValue(key, fx) }, { weight: 1, arbitrary: hostileValue() }).map((value) => [key, value] as const);
  const extra = fc.constantFrom('__proto__', 'constructor', 'expand', 'amount', 'x[y]', 'a.b', '', '0', 'client_secret', 'metadata').chain((key) => hostileValue().map((value) => [key, value] as const));
  return fc
    .tuple(fc.subarray(keys), fc.array(extra, { maxLength: 2 }), fc.boolean())
    .chain(([chosen, extras, withExtras]) => fc.tuple(...chosen.map(entry)).map((entries) => [...entries, ...(withExtras ? extras : [])]))
    .map((entries) => {
      // defineProperty: `__proto__` must become an own key, as JSON.parse would make it.
      const out: Record<string, unknown> = {};
      for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      return out;
    });
}

/** A body as bytes: JSON or form of the parameters, or raw hostile text. */
function bodyFor(params: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<{ type: 'json' | 'form' | 'raw'; text: string } | null> {
  const raw = fc.constantFrom(
    '{', '[]', 'null', '"x"', '1e999', '{"amount":1e999}', '{"amount":9007199254740993}', '{"a":1,"a":2}', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"x":1}}}',
    `${'['.repeat(3000)}${']'.repeat(3000)}`, `${'{"a":'.repeat(25)}1${'}'.repeat(25)}`, `metadata${'[a]'.repeat(25)}=1`, 'a[__proto__][x]=1&b[constructor][prototype][y]=2',
    'amount=%ZZ&currency=%', `${Array.from({ length: 1200 }, (_, i) => `p${i}=1`).join('&')}`, 'a[101]=x&a[0]=y', 'amount[]=1&amount[]=2', '\u0000\u0001', '\ufeff{"amount":20}',
  );
  // Thousands of levels: deep enough to overflow any recursion (describe, canonicalJson, the schemas).
  const veryDeep = fc.constantFrom(
    `{"metadata":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    `{"description":${'{"a":'.repeat(60_000)}1${'}'.repeat(60_000)}}`,
    `metadata${'[a]'.repeat(5000)}=1`,
  );
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constantFrom({ type: 'json' as const, text: '{}' }, { type: 'form' as const, text: '' }, { type: 'json' as const, text: '' }) },
    { weight: 1, arbitrary: veryDeep.map((text) => ({ type: 'raw' as const, text })) },
    { weight: 5, arbitrary: params.map((p) => ({ type: 'json' as const, text: JSON.stringify(p, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) })) },
    { weight: 4, arbitrary: params.map((p) => ({ type: 'form' as const, text: qs.stringify(p, { allowDots: false }) })) },
    { weight: 2, arbitrary: raw.map((text) => ({ type: 'raw' as const, text })) },
  );
}

/** Changes a path the way a hostile or confused client might, keeping it routable some of the time. */
function mutatePath(path: string): fc.Arbitrary<string> {
  const op = fc.oneof(
    { weight: 6, arbitrary: fc.constant((p: string) => p) },
    { weight: 3, arbitrary: fc.nat().map((n) => (p: string) => {
      const positions = [...p].map((c, i) => (/[a-z0-9_]/i.test(c) ? i : -1)).filter((i) => i >= 0);
      if (positions.length === 0) return p;
      const i = positions[n % positions.length]!;
      const hex = p.charCodeAt(i).toString(16);
      return `${p.slice(0, i)}%${n % 2 === 0 ? hex : hex.toUpperCase()}${p.slice(i + 1)}`;
    }) },
    { weight: 1, arbitrary: fc.constant((p: string) => `${p}/`) },
    { weight: 1, arbitrary: fc.constant((p: string) => p.replace('/', '//')) },
    { weight: 1, arbitrary: fc.constant((p: string) => p.replace(/\/([^/]+)$/, '/./$1')) },
    { weight: 1, arbitrary: fc.constant((p: string) => p.replace(/^\/([^/]+)/, '/$1/x/..')) },
    { weight: 1, arbitrary: fc.constant((p: string) => p.replace(/^\/([^/]+)/, '/$1/%2e%2e/$1')) },
    { weight: 1, arbitrary: fc.constant((p: string) => p.toUpperCase()) },
    { weight: 2, arbitrary: fc.constantFrom('é', '%C3%A9', '%E2%80%AE', '%C0%AF', '%00', '%zz', '%', '%2F', ';a=b', '支付', '%F0%9F%98%80', '\u0301').map((s) => (p: string) => `${p}${s}`) },
    { weight: 1, arbitrary: fc.constantFrom('x'.repeat(3000), 'pi_1234567890123456789_secret_x', '..', '.', '%2e').map((s) => (p: string) => p.replace(/\/[^/]+$/, `/${s}`)) },
  );
  // Most requests keep the route's path, so they reach its handler; the rest go through 1-3 changes.
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(path) },
    { weight: 2, arbitrary: fc.array(op, { minLength: 1, maxLength: 3 }).map((ops) => ops.reduce((p, f) => f(p), path)) },
  );
}

function requestFor(routes: readonly DeclaredRoute[], fx: Fixtures): fc.Arbitrary<FuzzRequest> {
  const idempotencyKey = fc.oneof(fc.constantFrom('fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3', '', 'k'.repeat(300), '键'), fc.string({ maxLength: 12 }));
  const authorization = fc.constantFrom(
    `Bearer ${fx.secretKey}`, `Bearer ${fx.secretKey}`, `Bearer ${fx.secretKey}`, `Bearer ${fx.secretKey}`, `Bearer ${fx.publishableKey}`, `Bearer ${fx.otherSecretKey}`, `Bearer ${fx.otherPublishableKey}`,
    `Bearer ${fx.liveSecretKey}`, `Basic ${Buffer.from(`${fx.secretKey}:`).toString('base64')}`, `bearer ${fx.secretKey}`, 'Bearer sk_test_nope', 'Bearer ', 'Basic !!!!', 'Digest x', `Bearer ${fx.secretKey} extra`,
  );
  const contentType = { json: 'application/json', form: 'application/x-www-form-urlencoded' };
  return fc
    .constantFrom(...routes)
    .chain((route) => {
      const routeKey = `${route.method} ${route.url}`;
      const segments = route.url.split('/');
      const filled = fc.tuple(...segments.map((segment, i) => {
        if (!segment.startsWith(':')) return fc.constant(segment);
        const prefix = ID_PREFIX_BY_SEGMENT[segments[i - 1] ?? ''] ?? 'pi';
        const real = fx.ids[prefix] ?? [];
        return fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...(real.length > 0 ? real : [`${prefix}_1`])) }, { weight: 1, arbitrary: fc.constantFrom(`${prefix}_0000000000000000000`, 'pi_1', 'x', '', 'ch_9999999999999999999', ...fx.paymentRequestIds) });
      })).map((parts) => parts.join('/'));
      const params = paramsFor(routeKey, fx);
      const query = fc.oneof(
        { weight: 3, arbitrary: fc.constant('') },
        { weight: 3, arbitrary: params.map((p) => qs.stringify(p)) },
        { weight: 1, arbitrary: fc.constantFrom('a[__proto__][x]=1', `created${'[gt]'.repeat(30)}=1`, '%', 'limit=1&limit=2', 'client%5Fsecret=x', '&&&=', 'expand[]=data', 'key=' + fx.publishableKey + '&lang=en') },
      );
      const method = fc.oneof({ weight: 12, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD') });
      const headers = fc.record({
        authorization: fc.option(authorization, { nil: undefined, freq: 6 }),
        'idempotency-key': fc.option(idempotencyKey, { nil: undefined, freq: 2 }),
        'accept-language': fc.option(fc.constantFrom('zh-CN,zh;q=0.9', 'en', '*', ';;;', 'x'.repeat(300)), { nil: undefined }),
        'user-agent': fc.option(fc.constantFrom('Mozilla/5.0 (iPhone)', 'Mozilla/5.0 (Linux; Android 14)', 'curl/8', ''), { nil: undefined }),
        'x-request-id': fc.option(fc.string({ maxLength: 10 }), { nil: undefined, freq: 5 }),
      }, { requiredKeys: [] });
      const contentTypeOverride = fc.option(fc.constantFrom('text/plain', 'application/json; charset=latin1', 'multipart/form-data; boundary=x', 'application/jsonx', 'application/x-www-form-urlencoded; charset=utf-8', 'application/json', ''), { nil: undefined, freq: 6 });
      return fc.record({ path: filled.chain(mutatePath), query, method, headers, body: bodyFor(params), contentTypeOverride }).map(({ path, query: q, method: m, headers: h, body, contentTypeOverride: ct }): FuzzRequest => {
        const out: Record<string, string> = {};
        for (const [name, value] of Object.entries(h)) if (value !== undefined) out[name] = value;
        if (route.auth === 'none') delete out.authorization;
        if (body !== null) out['content-type'] = ct ?? (body.type === 'raw' ? (body.text.includes('=') ? contentType.form : contentType.json) : contentType[body.type]);
        return { method: m, url: q === '' ? path : `${path}?${q}`, headers: out, ...(body === null ? {} : { payload: body.text }), route };
      });
    });
}

/** A signed notifyPayment with a hostile body: it passes the signature check and reaches the handler. */
function signedNotification(fx: Fixtures): fc.Arbitrary<FuzzRequest> {
  const keys = fixtureKeys();
  const path = NOTIFY_PATHS.test;
  const body = fc.record({
    notifyType: fc.constantFrom('PAYMENT_RESULT', 'CAPTURE_RESULT', 'x'),
    paymentRequestId: fc.oneof(fc.constantFrom(...fx.paymentRequestIds, 'nope'), hostileValue()),
    paymentId: fc.oneof(fc.string({ maxLength: 20 }), hostileValue()),
    paymentAmount: fc.oneof(fc.record({ currency: fc.constantFrom('CNY', 'USD'), value: fc.oneof(fc.constantFrom('20', '2000', '-1', '1e3', 'x'), hostileValue()) }), hostileValue()),
    result: fc.oneof(fc.record({ resultCode: fc.constantFrom('SUCCESS', 'PAYMENT_FAIL', 'UNKNOWN'), resultStatus: fc.constantFrom('S', 'F', 'U', 'X') }), hostileValue()),
    paymentTime: fc.oneof(fc.constantFrom('2026-11-26T12:00:00+08:00', 'yesterday'), hostileValue()),
    customerId: fc.oneof(fc.string({ maxLength: 8 }), hostileValue()),
    walletBrandName: fc.constantFrom('ALIPAY_CN', 'x'),
  }, { requiredKeys: [] });
  return body.map((fields) => {
    const text = JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const headers = signedHeaders({ kind: 'request', path, clientId: E2E_CLIENT_ID, body: text, privateKey: keys.alipayPrivate, nowMs: Date.now() });
    return { method: 'POST', url: path, headers: { ...headers } as Record<string, string>, payload: text, route: { method: 'POST', url: path, auth: 'none' } };
  });
}

/** Why a response breaks the property, or null. */
function violation(request: FuzzRequest, response: { statusCode: number; headers: Record<string, unknown>; body: string }): string | null {
  if (response.statusCode >= 500) return `HTTP ${response.statusCode}`;
  if (response.statusCode < 400 || request.method === 'HEAD') return null;
  const type = String(response.headers['content-type'] ?? '');
  if (!type.startsWith('application/json')) {
    // The hosted page and the shopper's return link answer people, in HTML or text.
    if (request.route.auth === 'none' && (type.startsWith('text/html') || type.startsWith('text/plain'))) return null;
    return `a ${response.statusCode} that is ${type || 'untyped'}, not the JSON error envelope`;
  }
  let body: { error?: Record<string, unknown> };
  try {
    body = JSON.parse(response.body) as typeof body;
  } catch {
    return `a ${response.statusCode} whose body is not JSON`;
  }
  const error = body.error;
  if (typeof error !== 'object' || error === null) return `a ${response.statusCode} without { error }`;
  if (!ERROR_TYPES.has(error.type as string)) return `error.type ${String(error.type)}`;
  if (typeof error.message !== 'string' || error.message === '') return 'error.message missing';
  for (const field of ['code', 'param', 'decline_code'] as const) {
    if (field in error && typeof error[field] !== 'string') return `error.${field} is not a string`;
  }
  return null;
}

describe('fuzz: every endpoint answers hostile requests without a 5xx', () => {
  let stack: PaymentStack;
  let fx: Fixtures;

  before(async () => {
    stack = await startPaymentStack({ worker: false });
    const gw = stack.gateway;
    const post = async (path: string, json: unknown, key = gw.secretKey) => {
      const answer = await api(gw, 'POST', path, { key, json });
      assert.ok(answer.status < 300, `${path}: ${answer.text}`);
      return answer.body;
    };
    const other = await gw.newAccount();
    const product = await post('/v1/products', { name: 'Tea' });
    const price = await post('/v1/prices', { currency: 'cny', unit_amount: 500, product: product.id });
    const open = await post('/v1/payment_intents', { amount: 20, currency: 'cny' });
    const pending = (await stack.createPaymentIntent(seedWebRequest())).body;
    const toPay = (await stack.createPaymentIntent({ ...seedWebRequest(), amount: 5000 })).body;
    assert.equal((await payInWallet(stack, { codeValue: toPay.next_action.alipay_handle_redirect.qr_code.data })).status, 200);
    const paid = await waitForIntentStatus(stack, toPay.id, 'succeeded');
    const refund = await post('/v1/refunds', { payment_intent: paid.id, amount: 100 });
    const endpoint = await post('/v1/webhook_endpoints', { url: 'https://merchant.test/hook', enabled_events: ['*'] });
    const session = await post('/v1/checkout/sessions', { mode: 'payment', success_url: 'https://shop.test/ok', line_items: [{ price: price.id, quantity: 1 }] });
    const otherIntent = await post('/v1/payment_intents', { amount: 30, currency: 'cny' }, other.test.secretKey);
    const events = (await api(gw, 'GET', '/v1/events?limit=3', { key: gw.secretKey })).body.data as { id: string }[];
    const txns = (await api(gw, 'GET', '/v1/balance_transactions?limit=2', { key: gw.secretKey })).body.data as { id: string }[];
    const attempts = await gw.database.db.selectFrom('payment_attempts').select('payment_request_id').execute();
    fx = {
      secretKey: gw.secretKey, publishableKey: gw.publishableKey, otherSecretKey: other.test.secretKey, otherPublishableKey: other.test.publishableKey, liveSecretKey: other.live.secretKey,
      ids: {
        pi: [open.id, pending.id, paid.id, otherIntent.id], ch: [paid.latest_charge], re: [refund.id], prod: [product.id], price: [price.id], we: [endpoint.id], cs: [session.id],
        evt: events.map((e) => e.id), txn: txns.map((t) => t.id), pm: [pending.payment_method, paid.payment_method].filter((id): id is string => typeof id === 'string'),
      },
      clientSecrets: [open.client_secret, pending.client_secret, paid.client_secret, otherIntent.client_secret],
      paymentRequestIds: attempts.map((a) => a.payment_request_id),
    };
  });
  after(async () => {
    await stack?.stop();
  });

  it(`sends ${RUNS} requests (seed ${SEED}): 0 responses ≥ 500, every JSON 4xx in the error envelope`, async () => {
    const app = stack.gateway.running.app;
    const routes = app.declaredRoutes;
    // Every route family is in the campaign: the merchant API, inbound Alipay+ and the hosted pages.
    for (const expected of ['POST /v1/payment_intents/:id/confirm', 'POST /alipayplus/test/notify', 'GET /alipayplus/return/:paymentIntentId', 'GET /pay/:id', 'GET /healthz']) {
      assert.ok(routes.some((route) => `${route.method} ${route.url}` === expected), `${expected} is enumerated`);
    }
    const arbitrary = fc.oneof({ weight: 12, arbitrary: requestFor(routes, fx) }, { weight: 1, arbitrary: signedNotification(fx) });
    let sent = 0;
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    // No key or client secret may reach a log line, whatever the request looked like.
    const secrets = [fx.secretKey, fx.publishableKey, fx.otherSecretKey, fx.otherPublishableKey, fx.liveSecretKey, ...fx.clientSecrets];
    let logLines = 0;
    const checkLogs = () => {
      for (const line of stack.gateway.logs) {
        logLines += 1;
        const leaked = secrets.find((secret) => line.includes(secret));
        if (leaked !== undefined) failures.push(`a log line holds ${leaked.slice(0, 8)}…: ${line.slice(0, 500)}`);
      }
      stack.gateway.logs.length = 0;
    };
    await fc.assert(
      fc.asyncProperty(arbitrary, async (request) => {
        sent += 1;
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)), REQUEST_TIMEOUT_MS); });
        try {
          const response = await Promise.race([
            app.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, ...(request.payload === undefined ? {} : { payload: request.payload }) }),
            timeout,
          ]);
          statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
          const problem = violation(request, response);
          if (problem !== null) failures.push(`#${sent} ${problem}: ${JSON.stringify({ method: request.method, url: request.url, headers: request.headers, payload: request.payload?.slice(0, 2000) })} → ${response.body.slice(0, 500)}`);
        } catch (error) {
          failures.push(`#${sent} ${(error as Error).message}: ${JSON.stringify({ method: request.method, url: request.url, headers: request.headers, payload: request.payload?.slice(0, 2000) })}`);
        } finally {
          clearTimeout(timer);
        }
        // Keep memory flat in long campaigns: each batch of log lines is checked, then dropped.
        if (stack.gateway.logs.length > 5000) checkLogs();
        // The property holds for the whole campaign; failures are collected and reported together below.
        return true;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    checkLogs();
    assert.ok(logLines >= RUNS, `the requests were logged (${logLines} lines)`);
    const fiveHundreds = [...statuses].filter(([status]) => status >= 500).reduce((sum, [, count]) => sum + count, 0);
    const summary = `fuzz: ${sent} requests sent, ${fiveHundreds} 5xx, ${failures.length} violations, ${logLines} log lines checked for secrets (seed ${SEED}); statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`;
    console.log(summary);
    assert.equal(sent, RUNS);
    assert.deepEqual(failures.slice(0, 20), [], `${summary}\nreplay one with app.inject(...) of the request shown`);
  });
});
