import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  SESSION_EXPIRY_MAX_MS,
  SESSION_EXPIRY_MIN_MS,
  browserHref,
  pageLanguage,
  priceSession,
  sessionExpiry,
  shopperDevice,
  successRedirect,
} from '../../src/gateway/domain/checkout_sessions.js';
import { formatAmount } from '../../src/gateway/http/pages/checkout.js';

const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);
const line = (param: string, currency: string, unitAmount: number, quantity = 1, type: 'one_time' | 'recurring' = 'one_time') => ({ param, currency, unitAmount, quantity, type });

describe('checkout session rules (domain, pure)', () => {
  it('expires_at: default 24 h; 30 min … 24 h inclusive; seconds or milliseconds', () => {
    assert.deepEqual(sessionExpiry(undefined, NOW), { ok: true, value: NOW + SESSION_EXPIRY_MAX_MS });
    assert.deepEqual(sessionExpiry(NOW + SESSION_EXPIRY_MIN_MS, NOW), { ok: true, value: NOW + SESSION_EXPIRY_MIN_MS });
    assert.deepEqual(sessionExpiry(NOW + SESSION_EXPIRY_MAX_MS, NOW), { ok: true, value: NOW + SESSION_EXPIRY_MAX_MS });
    assert.deepEqual(sessionExpiry((NOW + SESSION_EXPIRY_MIN_MS) / 1000, NOW), { ok: true, value: NOW + SESSION_EXPIRY_MIN_MS });
    for (const bad of [NOW + SESSION_EXPIRY_MIN_MS - 1, NOW + SESSION_EXPIRY_MAX_MS + 1, NOW, 0]) {
      const result = sessionExpiry(bad, NOW);
      assert.equal(result.ok, false, String(bad));
      if (!result.ok) assert.equal(result.param, 'expires_at');
    }
  });

  it('prices exactly, one currency, one-time only', () => {
    assert.deepEqual(priceSession([line('line_items[0]', 'CNY', 333, 3), line('line_items[1]', 'CNY', 1, 2)]), { ok: true, value: { currency: 'CNY', lineAmounts: [999, 2], total: 1001 } });
    const mixed = priceSession([line('line_items[0]', 'CNY', 1), line('line_items[1]', 'CNY', 1), line('line_items[2]', 'HKD', 1)]);
    assert.equal(mixed.ok, false);
    if (!mixed.ok) {
      assert.equal(mixed.param, 'line_items[2]');
      assert.match(mixed.message, /line_items\[2\] is HKD/);
    }
    const recurring = priceSession([line('line_items[0]', 'CNY', 1, 1, 'recurring')]);
    assert.ok(!recurring.ok && recurring.param === 'line_items[0]');
    const overflow = priceSession([line('line_items[0]', 'CNY', Number.MAX_SAFE_INTEGER, 2)]);
    assert.ok(!overflow.ok && overflow.code === 'amount_too_large');
    const exact = priceSession([line('line_items[0]', 'CNY', Number.MAX_SAFE_INTEGER - 1), line('line_items[1]', 'CNY', 1)]);
    assert.ok(exact.ok && exact.value.total === Number.MAX_SAFE_INTEGER);
    const free = priceSession([line('line_items[0]', 'CNY', 0, 5)]);
    assert.ok(!free.ok && free.code === 'amount_too_small');
    assert.ok(!priceSession([]).ok);
  });

  it('the hosted page: device, language, redirects and amounts', () => {
    assert.deepEqual(shopperDevice('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X)'), { terminal: 'WAP', os: 'IOS' });
    assert.deepEqual(shopperDevice('Mozilla/5.0 (Linux; Android 14; Pixel 8)'), { terminal: 'WAP', os: 'ANDROID' });
    assert.deepEqual(shopperDevice('Mozilla/5.0 (Windows NT 10.0; Win64; x64)'), { terminal: 'WEB' });
    assert.deepEqual(shopperDevice(undefined), { terminal: 'WEB' });
    assert.equal(pageLanguage(undefined, null, undefined), 'zh');
    assert.equal(pageLanguage(undefined, null, 'en-US,en;q=0.9'), 'en');
    assert.equal(pageLanguage(undefined, 'zh-HK', 'en-US'), 'zh');
    assert.equal(pageLanguage(undefined, 'auto', 'en-US'), 'en');
    assert.equal(pageLanguage('zh', 'en', 'en'), 'zh');
    assert.equal(successRedirect('https://shop.test/ok?cs={CHECKOUT_SESSION_ID}&again={CHECKOUT_SESSION_ID}', 'cs_1'), 'https://shop.test/ok?cs=cs_1&again=cs_1');
    assert.equal(browserHref('www.baidu.com'), 'https://www.baidu.com');
    assert.equal(browserHref('http://shop.test/'), 'http://shop.test/');
    assert.equal(formatAmount('CNY', 100000), 'CNY 1,000.00');
    assert.equal(formatAmount('HKD', 5), 'HKD 0.05');
    assert.equal(formatAmount('USD', Number.MAX_SAFE_INTEGER), 'USD 90,071,992,547,409.91');
  });
});
