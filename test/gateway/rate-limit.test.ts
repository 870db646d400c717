import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/gateway/index.js';
import { api, startTestGateway, type TestGateway } from '../support/gateway-server.js';

describe('rate limit per API key (429)', () => {
  let gateway: TestGateway;
  before(async () => {
    gateway = await startTestGateway({ config: { rateLimitPerSecond: 5 } });
  });
  after(async () => {
    await gateway.stop();
  });

  it('answers 429 rate_limit in the error envelope past the limit, per key, and never on health checks', async () => {
    const other = await gateway.newAccount();
    // The limit counts per clock second (so several processes can share it): a burst that fits one
    // second starts just after a second begins, and is sent again in the next second if it did not fit.
    let burst: Awaited<ReturnType<typeof api>>[] = [];
    for (let tries = 0; tries < 10; tries += 1) {
      await new Promise((resolve) => setTimeout(resolve, 1000 - (Date.now() % 1000) + 10));
      const startedAt = Date.now();
      burst = await Promise.all(Array.from({ length: 8 }, () => api(gateway, 'GET', '/v1/payment_intents', { key: gateway.secretKey })));
      if (Math.floor(Date.now() / 1000) === Math.floor(startedAt / 1000)) break;
      burst = [];
    }
    assert.ok(burst.length > 0, 'no burst fitted in one second in 10 tries');
    const statuses = burst.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    const limited = burst.find((r) => r.status === 429)!;
    assert.equal(limited.body.error.code, 'rate_limit');
    assert.equal(limited.body.error.type, 'invalid_request_error');
    assert.match(limited.body.error.message, /at most 5 per second per API key/);
    assert.ok(limited.headers.get('request-id')?.startsWith('req_'));
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    const granted = burst.filter((r) => r.status === 200);
    for (const answer of granted) {
      assert.equal(answer.headers.get('x-ratelimit-limit'), '5');
      assert.ok(Number(answer.headers.get('x-ratelimit-reset')) >= 1);
      assert.equal(answer.headers.get('retry-after'), null);
    }
    assert.deepEqual(granted.map((r) => Number(r.headers.get('x-ratelimit-remaining'))).sort(), [0, 1, 2, 3, 4], 'each granted request says what is left of the window');
    assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');

    const otherKey = await api(gateway, 'GET', '/v1/payment_intents', { key: other.test.secretKey });
    assert.equal(otherKey.status, 200, 'another key has its own budget');
    const health = await Promise.all(Array.from({ length: 8 }, () => api(gateway, 'GET', '/healthz')));
    assert.ok(health.every((r) => r.status === 200));
  });

  it('ZHIFU_RATE_LIMIT: default 1000/s, 0 turns it off, garbage is a configuration error', () => {
    assert.equal(loadConfig({}).rateLimitPerSecond, 1000);
    assert.equal(loadConfig({ ZHIFU_RATE_LIMIT: '0' }).rateLimitPerSecond, null);
    assert.equal(loadConfig({ ZHIFU_RATE_LIMIT: '25' }).rateLimitPerSecond, 25);
    assert.throws(() => loadConfig({ ZHIFU_RATE_LIMIT: 'lots' }), ConfigError);
  });

  it('ZHIFU_FEE_SCHEDULE is checked at start, so a bad one never fails a payment being recorded', () => {
    assert.doesNotThrow(() => loadConfig({ ZHIFU_FEE_SCHEDULE: '{"percent_bps":250,"fixed_minor":{"GBP":20}}' }));
    assert.throws(() => loadConfig({ ZHIFU_FEE_SCHEDULE: 'three percent' }), /ZHIFU_FEE_SCHEDULE is not a fee schedule/);
    assert.throws(() => loadConfig({ ZHIFU_FEE_SCHEDULE: '{"percent_bps":-5}' }), ConfigError);
  });
});
