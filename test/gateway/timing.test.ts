import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/gateway/config.js';
import { AlipayPlusGateway } from '../../src/gateway/connector/alipayplus/modes.js';
import { RESEND_BACKOFF_MS, SENDS_MAX } from '../../src/gateway/connector/alipayplus/connector.js';
import { REFUND_SENDING_CHECK_DELAY_MS as CORE_REFUND_DELAY } from '../../src/gateway/core/refunds.js';
import {
  NETWORK_TIMEOUT_MS_DEFAULT,
  REFUND_SENDING_CHECK_DELAY_MS,
  REQUEST_PATH_SLACK_MS,
  SENDING_CHECK_DELAY_MS,
  maxConsistentTimeoutMs,
  sendWindowMs,
  timeoutInconsistency,
} from '../../src/gateway/domain/schedule.js';
import { CLIENT_TIMEOUT_MS_DEFAULT } from '../../src/alipayplus/client.js';
import { fixtureKeys } from '../support/keys.js';

const keys = fixtureKeys();

describe('timing constants derived from each other', () => {
  it('the sending delays cover every send timing out plus backoff and the request path, at the default timeout', () => {
    assert.equal(NETWORK_TIMEOUT_MS_DEFAULT, CLIENT_TIMEOUT_MS_DEFAULT, 'the schedule assumes the protocol client\'s default timeout');
    assert.equal(SENDS_MAX, 3);
    assert.equal(sendWindowMs(10_000), 3 * 10_000 + RESEND_BACKOFF_MS * (1 + 2));
    assert.equal(SENDING_CHECK_DELAY_MS, 60_000);
    assert.equal(REFUND_SENDING_CHECK_DELAY_MS, SENDING_CHECK_DELAY_MS);
    assert.equal(CORE_REFUND_DELAY, REFUND_SENDING_CHECK_DELAY_MS, 'the refund service uses the derived delay');
    assert.ok(sendWindowMs(NETWORK_TIMEOUT_MS_DEFAULT) + REQUEST_PATH_SLACK_MS <= SENDING_CHECK_DELAY_MS);
    assert.equal(timeoutInconsistency(NETWORK_TIMEOUT_MS_DEFAULT), null);
  });

  it('the largest consistent timeout is exactly the boundary', () => {
    const max = maxConsistentTimeoutMs();
    assert.equal(max, Math.floor((60_000 - 10_000 - 600) / 3));
    assert.equal(timeoutInconsistency(max), null);
    assert.match(timeoutInconsistency(max + 1) ?? '', new RegExp(`3 sends of ${max + 1} ms .* longer than the 60000 ms .* use at most ${max} ms`));
  });

  it('loadConfig refuses ZHIFU_ALIPAYPLUS_TIMEOUT_MS that would let the worker race the request path, and takes a consistent one', () => {
    assert.equal(loadConfig({}).alipayPlusTimeoutMs, undefined, 'absent: the client default');
    assert.equal(loadConfig({ ZHIFU_ALIPAYPLUS_TIMEOUT_MS: '15000' }).alipayPlusTimeoutMs, 15_000);
    for (const bad of ['25000', String(maxConsistentTimeoutMs() + 1)]) {
      assert.throws(() => loadConfig({ ZHIFU_ALIPAYPLUS_TIMEOUT_MS: bad }), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`ZHIFU_ALIPAYPLUS_TIMEOUT_MS=${bad} is inconsistent with the worker's timing`) && /use at most 16466 ms/.test(e.message), bad);
    }
    for (const malformed of ['10s', '-1', '50', '1.5']) {
      assert.throws(() => loadConfig({ ZHIFU_ALIPAYPLUS_TIMEOUT_MS: malformed }), (e: unknown) => e instanceof ConfigError && /whole number of milliseconds/.test(e.message), malformed);
    }
  });

  it('the Alipay+ side refuses an endpoint whose timeout is inconsistent too', () => {
    const endpoint = { baseUrl: 'http://127.0.0.1:9', clientId: 'c', privateKey: keys.gatewayPrivatePem, alipayPublicKey: keys.alipayPublicPem };
    assert.throws(() => new AlipayPlusGateway({ test: { ...endpoint, timeoutMs: 30_000 } }, 'http://127.0.0.1'), /Alipay\+ test timeout 30000 ms: 3 sends/);
    assert.throws(() => new AlipayPlusGateway({ test: endpoint }, 'http://127.0.0.1', { timeoutMs: 20_000 }), /timeout 20000 ms/);
    const fine = new AlipayPlusGateway({ test: endpoint }, 'http://127.0.0.1', { timeoutMs: 5_000 });
    void fine.close();
  });
});
