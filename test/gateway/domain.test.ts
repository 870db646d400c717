import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PAYMENT_INTENT_STATUSES, initialStatus, paymentFieldsEditable, transition } from '../../src/gateway/domain/payment_intents.js';
import type { PaymentIntentStatus } from '../../src/gateway/domain/payment_intents.js';
import { mergeMetadata } from '../../src/gateway/domain/metadata.js';
import { createIdGenerator, newClientSecret, paymentIntentIdOfClientSecret } from '../../src/gateway/ids.js';
import { ConfigError, loadConfig } from '../../src/gateway/config.js';
import { parseSearchQuery } from '../../src/gateway/core/payment_intents.js';
import { ApiError } from '../../src/gateway/errors.js';
import { amount, currency, metadata, parseParams, required, object, oneOf, string, array, integer, toJsonSchema } from '../../src/gateway/http/schema.js';
import { createShape } from '../../src/gateway/http/routes/payment_intents.js';
import { apiKeyOf } from '../../src/gateway/http/auth.js';
import { redactUrl } from '../../src/gateway/http/logging.js';

function errorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  assert.fail('expected an ApiError');
}

describe('PaymentIntent status machine', () => {
  it('starts in requires_payment_method, or requires_confirmation with a payment method', () => {
    assert.equal(initialStatus(false), 'requires_payment_method');
    assert.equal(initialStatus(true), 'requires_confirmation');
  });

  it('runs the happy path requires_confirmation → processing → requires_action → succeeded with its events', () => {
    const started = transition('requires_confirmation', { kind: 'confirm_started', hasPaymentMethod: true });
    assert.deepEqual(started, { ok: true, status: 'processing', events: [] });
    const action = transition('processing', { kind: 'attempt_requires_action' });
    assert.deepEqual(action, { ok: true, status: 'requires_action', events: ['payment_intent.requires_action'] });
    const paid = transition('requires_action', { kind: 'attempt_succeeded' });
    assert.deepEqual(paid, { ok: true, status: 'succeeded', events: ['payment_intent.succeeded'] });
  });

  it('returns a declined attempt to requires_payment_method with payment_failed', () => {
    assert.deepEqual(transition('requires_action', { kind: 'attempt_failed' }), { ok: true, status: 'requires_payment_method', events: ['payment_intent.payment_failed'] });
    assert.deepEqual(transition('processing', { kind: 'attempt_failed' }), { ok: true, status: 'requires_payment_method', events: ['payment_intent.payment_failed'] });
  });

  it('replaces the attempt awaiting the shopper (another device) only from requires_action, without an event', () => {
    assert.deepEqual(transition('requires_action', { kind: 'attempt_replaced' }), { ok: true, status: 'processing', events: [] });
    for (const status of ['requires_payment_method', 'requires_confirmation', 'processing', 'succeeded', 'canceled'] as const) {
      assert.equal(transition(status, { kind: 'attempt_replaced' }).ok, false, status);
    }
  });

  it('writes payment_intent.processing only for the first unknown answer', () => {
    assert.deepEqual(transition('processing', { kind: 'attempt_unknown' }), { ok: true, status: 'processing', events: ['payment_intent.processing'] });
    assert.deepEqual(transition('requires_action', { kind: 'attempt_unknown' }), { ok: true, status: 'requires_action', events: [] });
  });

  it('cancels from every status but succeeded and canceled', () => {
    for (const status of PAYMENT_INTENT_STATUSES) {
      const result = transition(status, { kind: 'cancel', createdByCheckoutSession: false });
      const terminal = status === 'succeeded' || status === 'canceled';
      assert.equal(result.ok, !terminal, status);
      if (result.ok) assert.deepEqual(result.events, ['payment_intent.canceled']);
    }
  });

  it('refuses to cancel an intent made by a Checkout Session', () => {
    const result = transition('requires_payment_method', { kind: 'cancel', createdByCheckoutSession: true });
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.message : '', /Checkout Session/);
  });

  it('refuses confirm without a payment method and outside the confirmable statuses', () => {
    assert.equal(transition('requires_payment_method', { kind: 'confirm_started', hasPaymentMethod: false }).ok, false);
    for (const status of ['requires_action', 'processing', 'succeeded', 'canceled'] as PaymentIntentStatus[]) {
      assert.equal(transition(status, { kind: 'confirm_started', hasPaymentMethod: true }).ok, false, status);
    }
  });

  it('ignores attempt outcomes when no attempt is outstanding', () => {
    for (const status of ['requires_payment_method', 'requires_confirmation', 'succeeded', 'canceled'] as PaymentIntentStatus[]) {
      assert.equal(transition(status, { kind: 'attempt_succeeded' }).ok, false, status);
    }
  });

  it('allows payment fields to change only before confirmation', () => {
    assert.deepEqual(PAYMENT_INTENT_STATUSES.filter(paymentFieldsEditable), ['requires_payment_method', 'requires_confirmation']);
  });
});

describe('ids', () => {
  it('are prefix + 19 digits, strictly increasing even when the clock stands still', () => {
    const ids = createIdGenerator({ now: () => 1_686_214_342_000 });
    const minted = Array.from({ length: 1000 }, () => ids.next('pi'));
    for (const id of minted) assert.match(id, /^pi_\d{19}$/);
    for (let i = 1; i < minted.length; i++) assert.ok(BigInt(minted[i]!.slice(3)) > BigInt(minted[i - 1]!.slice(3)));
    assert.ok(minted[0]!.startsWith('pi_1686214342000'), 'the creation millisecond leads the number');
  });

  it('stay monotonic when the clock steps back', () => {
    let now = 2_000_000_000_000;
    const ids = createIdGenerator({ now: () => now });
    const first = ids.next('ch');
    now -= 60_000;
    assert.ok(BigInt(ids.next('ch').slice(3)) > BigInt(first.slice(3)));
  });

  it('rarely meet between generators (processes) minting in the same millisecond', () => {
    // About 2 in a million pairs share an id by design (random start in 500 000); 20 000 pairs
    // expect 0.04 collisions, so more than two means the randomness is broken.
    let collisions = 0;
    for (let trial = 0; trial < 20_000; trial++) {
      const a = createIdGenerator({ now: () => 1_700_000_000_000 });
      const b = createIdGenerator({ now: () => 1_700_000_000_000 });
      if (a.next('pi') === b.next('pi')) collisions++;
    }
    assert.ok(collisions <= 2, `${collisions} collisions`);
  });

  it('client secrets are <pi id>_secret_<24 alphanumerics>', () => {
    const secret = newClientSecret('pi_1666729870215872512');
    assert.match(secret, /^pi_1666729870215872512_secret_[A-Za-z0-9]{24}$/);
    assert.equal(paymentIntentIdOfClientSecret(secret), 'pi_1666729870215872512');
    assert.equal(paymentIntentIdOfClientSecret('pi_1_secret_x'), null);
  });
});

describe('config', () => {
  it('has the defaults of api.md §8', () => {
    const config = loadConfig({});
    assert.deepEqual(config, {
      port: 4242, host: '127.0.0.1', publicUrl: 'http://127.0.0.1:4242', dataDir: './data', databaseUrl: 'sqlite:data/zhifu.db',
      testSecretKey: null, testPublishableKey: null, rateLimitPerSecond: 1000,
    });
  });

  it('reads every variable', () => {
    const config = loadConfig({
      ZHIFU_PORT: '5000', ZHIFU_HOST: '0.0.0.0', ZHIFU_PUBLIC_URL: 'https://pay.example.com/', ZHIFU_DATA_DIR: '/var/zhifu',
      ZHIFU_DATABASE_URL: 'postgres://u:p@db/zhifu', ZHIFU_TEST_SECRET_KEY: 'sk_test_abc', ZHIFU_TEST_PUBLISHABLE_KEY: 'pk_test_abc',
    });
    assert.equal(config.port, 5000);
    assert.equal(config.publicUrl, 'https://pay.example.com');
    assert.equal(config.databaseUrl, 'postgres://u:p@db/zhifu');
    assert.equal(loadConfig({ ZHIFU_DATA_DIR: '/srv/z' }).databaseUrl, 'sqlite:/srv/z/zhifu.db');
    assert.equal(config.testSecretKey, 'sk_test_abc');
  });

  it('rejects malformed values naming the variable', () => {
    assert.throws(() => loadConfig({ ZHIFU_PORT: 'http' }), (e: unknown) => e instanceof ConfigError && /ZHIFU_PORT/.test(e.message));
    assert.throws(() => loadConfig({ ZHIFU_DATABASE_URL: 'mysql://x' }), /ZHIFU_DATABASE_URL/);
    assert.throws(() => loadConfig({ ZHIFU_TEST_SECRET_KEY: 'sk_live_x' }), /ZHIFU_TEST_SECRET_KEY/);
  });
});

describe('request schemas', () => {
  const shape = {
    amount: required(amount()),
    currency: required(currency()),
    limit: integer({ min: 1, max: 100 }),
    metadata: metadata(),
    nested: object({ kind: oneOf(['WEB', 'APP'], { upperCase: true }), list: array(string({ max: 5 }), { max: 2 }) }),
  };

  it('coerces form strings and keeps JSON numbers', () => {
    assert.deepEqual(parseParams(shape, { amount: '20', currency: 'cny', limit: '3' }), { amount: 20, currency: 'CNY', limit: 3 });
    assert.deepEqual(parseParams(shape, { amount: 9007199254740991, currency: 'Usd' }), { amount: 9007199254740991, currency: 'USD' });
  });

  it('names the parameter and the limit in each error', () => {
    const cases: [unknown, string, string, RegExp][] = [
      [{ currency: 'CNY' }, 'parameter_missing', 'amount', /amount/],
      [{ amount: 0, currency: 'CNY' }, 'amount_too_small', 'amount', /at least 1/],
      [{ amount: '9007199254740992', currency: 'CNY' }, 'amount_too_large', 'amount', /9007199254740991/],
      [{ amount: 20.5, currency: 'CNY' }, 'parameter_invalid_integer', 'amount', /20\.5/],
      [{ amount: '1e3', currency: 'CNY' }, 'parameter_invalid_integer', 'amount', /1e3/],
      [{ amount: 20, currency: 'JPY' }, 'currency_not_supported', 'currency', /CNY, GBP, USD, EUR, HKD/],
      [{ amount: 20, currency: 'CNY', limit: 101 }, 'parameter_invalid_integer', 'limit', /1 to 100/],
      [{ amount: '', currency: 'CNY' }, 'parameter_invalid_empty', 'amount', /cannot be unset/],
      [{ amount: 20, currency: 'CNY', bogus: 1 }, 'parameter_unknown', 'bogus', /bogus/],
      [{ amount: 20, currency: 'CNY', nested: { extra: 'x' } }, 'parameter_unknown', 'nested[extra]', /nested\[extra\]/],
      [{ amount: 20, currency: 'CNY', nested: { kind: 'WAP' } }, 'parameter_invalid', 'nested[kind]', /WEB, APP/],
      [{ amount: 20, currency: 'CNY', nested: { list: ['a', 'b', 'c'] } }, 'parameter_invalid', 'nested[list]', /at most 2/],
      [{ amount: 20, currency: 'CNY', nested: { list: ['toolong'] } }, 'parameter_invalid', 'nested[list][0]', /at most 5/],
      [{ amount: 20, currency: 'CNY', metadata: { ['k'.repeat(41)]: 'v' } }, 'parameter_invalid', `metadata[${'k'.repeat(41)}]`, /40/],
      [{ amount: 20, currency: 'CNY', metadata: { k: 'v'.repeat(501) } }, 'parameter_invalid', 'metadata[k]', /500/],
      [{ amount: 20, currency: 'CNY', metadata: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'parameter_invalid', 'metadata', /50/],
    ];
    for (const [input, code, param, message] of cases) {
      const error = errorOf(() => parseParams(shape, input));
      assert.equal(error.status, 400, JSON.stringify(input));
      assert.equal(error.fields.code, code, JSON.stringify(input));
      assert.equal(error.fields.param, param, JSON.stringify(input));
      assert.match(error.message, message);
    }
  });

  it('reads qs-style index objects as arrays and "" as unset', () => {
    const parsed = parseParams(shape, { amount: '1', currency: 'hkd', nested: { list: { 1: 'b', 0: 'a' } }, metadata: { gone: '', kept: 'x' } });
    assert.deepEqual(parsed.nested, { list: ['a', 'b'] });
    assert.deepEqual(parsed.metadata, { gone: null, kept: 'x' });
  });
});

describe('endpoint schemas as JSON Schema (for the OpenAPI document)', () => {
  it('describe the create endpoint: required fields, amount bounds, nested enums, no extra keys', () => {
    const schema = toJsonSchema(createShape) as { required: string[]; additionalProperties: boolean; properties: Record<string, Record<string, unknown>> };
    assert.deepEqual(schema.required.sort(), ['amount', 'currency']);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual([schema.properties.amount!.type, schema.properties.amount!.minimum, schema.properties.amount!.maximum], ['integer', 1, 9007199254740991]);
    const alipay = (schema.properties.payment_method_options!.properties as Record<string, { properties: Record<string, { enum?: string[] }> }>).alipay!;
    assert.deepEqual(alipay.properties.terminal_type!.enum, ['WEB', 'WAP', 'APP']);
    assert.deepEqual(schema.properties.metadata!.maxProperties, 50);
  });
});

describe('metadata merge', () => {
  it('sets, removes and clears, keeping "__proto__" an ordinary key', () => {
    assert.deepEqual(mergeMetadata({ a: '1', b: '2' }, { b: null, c: '3' }), { a: '1', c: '3' });
    assert.deepEqual(mergeMetadata({ a: '1' }, null), {});
    const merged = mergeMetadata({}, JSON.parse('{"__proto__":"x"}') as Record<string, string>);
    assert.equal(Object.getPrototypeOf(merged), Object.prototype);
    assert.equal(Object.keys(merged).length, 1);
  });
});

describe('search query language', () => {
  it('parses the three clause kinds joined by AND', () => {
    assert.deepEqual(parseSearchQuery(`merchant_order_id:'o-1' AND status:'succeeded' and metadata['cart']:"42"`), [
      { field: 'merchant_order_id', value: 'o-1' },
      { field: 'status', value: 'succeeded' },
      { field: 'metadata', key: 'cart', value: '42' },
    ]);
  });

  it('refuses other fields and malformed clauses with param query', () => {
    for (const query of [`amount:'20'`, `status:succeeded`, '', `status:'a' OR status:'b'`]) {
      const error = errorOf(() => parseSearchQuery(query));
      assert.equal(error.fields.param, 'query', query);
    }
  });
});

describe('authorization header', () => {
  it('reads Bearer and Basic (key as user name)', () => {
    assert.equal(apiKeyOf('Bearer sk_test_abc'), 'sk_test_abc');
    assert.equal(apiKeyOf(`Basic ${Buffer.from('sk_test_abc:').toString('base64')}`), 'sk_test_abc');
    assert.equal(apiKeyOf('Digest x'), null);
    assert.equal(apiKeyOf(undefined), null);
  });

  it('log URLs never carry client secrets', () => {
    assert.equal(redactUrl('/v1/payment_intents/pi_1?client_secret=pi_1_secret_abc&x=1'), '/v1/payment_intents/pi_1?client_secret=[REDACTED]&x=1');
  });
});
