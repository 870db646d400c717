import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAccount, createApiKeys, createIdGenerator } from '../../src/gateway/index.js';
import { availableOnMs, paymentFeeMinor, parseFeeSchedule, DEFAULT_FEE_SCHEDULE } from '../../src/gateway/domain/balance.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { payInWallet, waitUntil, type PaymentStack } from '../support/e2e-harness.js';
import { startWorkerStack, type WorkerStack } from './worker-support.js';

describe('balance rules', () => {
  it('rounds the fee half up in integers and adds the fixed part', () => {
    assert.equal(paymentFeeMinor(1087, 'GBP', DEFAULT_FEE_SCHEDULE), 33); // 32.61
    assert.equal(paymentFeeMinor(50, 'GBP', DEFAULT_FEE_SCHEDULE), 2); // 1.5 → 2
    assert.equal(paymentFeeMinor(49, 'GBP', DEFAULT_FEE_SCHEDULE), 1); // 1.47
    assert.equal(paymentFeeMinor(Number.MAX_SAFE_INTEGER, 'GBP', { percent_bps: 10_000, fixed_minor: {} }), Number.MAX_SAFE_INTEGER);
    const schedule = parseFeeSchedule('{"percent_bps": 250, "fixed_minor": {"gbp": 20}}');
    assert.equal(paymentFeeMinor(1000, 'GBP', schedule), 45);
    assert.equal(paymentFeeMinor(1000, 'EUR', schedule), 25);
    assert.throws(() => parseFeeSchedule('{"percent_bps": 1.5}'), /percent_bps/);
  });

  it('makes funds available at 08:00 UTC+8 the next UTC+8 day (00:00 UTC)', () => {
    assert.equal(availableOnMs(Date.UTC(2026, 10, 26, 12, 0)), Date.UTC(2026, 10, 27)); // 20:00 UTC+8 on the 26th
    assert.equal(availableOnMs(Date.UTC(2026, 10, 26, 16, 0)), Date.UTC(2026, 10, 28)); // 00:00 UTC+8 on the 27th
    assert.equal(availableOnMs(Date.UTC(2026, 10, 26, 15, 59, 59, 999)), Date.UTC(2026, 10, 27));
  });
});

/**
 * Balance transactions from real Alipay+ settlement quotes (the sandbox's rate table, 0.3% spread
 * each way, half-up), the default 3.00% fee, and the injected clock moving them to available.
 */
describe('balance and balance transactions', () => {
  let ws: WorkerStack;
  let stack: PaymentStack;
  before(async () => {
    ws = await startWorkerStack();
    stack = ws.stack;
  });
  after(async () => {
    await stack.stop();
  });

  async function account(currency: string): Promise<string> {
    const { database } = stack.gateway;
    const ids = createIdGenerator(ws.clock);
    const row = await createAccount(database.db, ws.clock, ids, { name: `Shop ${currency}`, businessCategory: 'tea_retail', settlementCurrency: currency });
    return (await createApiKeys(database.db, ws.clock, ids, row.id, false)).secretKey;
  }

  async function paid(key: string, amount: number) {
    const created = await api(stack.gateway, 'POST', '/v1/payment_intents', { key, json: { ...seedWebRequest(), amount } });
    assert.equal(created.body.status, 'requires_action', created.text);
    assert.equal((await payInWallet(stack, { codeValue: created.body.next_action.alipay_handle_redirect.qr_code.data })).status, 200);
    return waitUntil(async () => {
      const intent = (await api(stack.gateway, 'GET', `/v1/payment_intents/${created.body.id}`, { key })).body;
      return intent.status === 'succeeded' ? intent : null;
    }, 'the payment to succeed');
  }

  // CNY 100.00 paid and CNY 50.00 refunded. Payment price = mid × 0.997, refund price = mid × 1.003.
  const expected = {
    GBP: { amount: 1087, fee: 33, rate: 0.108673, refund: 547, refundRate: 0.109327 }, // 1086.73 → 1087; 546.635 → 547
    HKD: { amount: 10817, fee: 325, rate: 1.081745, refund: 5441, refundRate: 1.088255 }, // 10817.45; 5441.275
    EUR: { amount: 1286, fee: 39, rate: 0.128613, refund: 647, refundRate: 0.129387 }, // 1286.13; 646.935
  };

  for (const [currency, want] of Object.entries(expected)) {
    it(`records a payment and a refund settled in ${currency} to the minor unit, pending until available_on`, async () => {
      const key = await account(currency);
      const get = async (path: string) => {
        const got = await api(stack.gateway, 'GET', path, { key });
        assert.equal(got.status, 200, got.text);
        return got.body;
      };
      const intent = await paid(key, 10000);
      const charge = await get(`/v1/charges/${intent.latest_charge}`);
      assert.match(charge.balance_transaction, /^txn_\d{19}$/);
      const txn = await get(`/v1/balance_transactions/${charge.balance_transaction}`);
      const availableOn = availableOnMs(charge.created);
      assert.deepEqual(
        [txn.object, txn.type, txn.source, txn.amount, txn.currency, txn.fee, txn.net, txn.exchange_rate, txn.status, txn.available_on],
        ['balance_transaction', 'charge', charge.id, want.amount, currency, want.fee, want.amount - want.fee, want.rate, 'pending', availableOn],
      );
      assert.deepEqual(txn.fee_details, [{ amount: want.fee, currency, type: 'stripe_fee', description: 'Alipay processing fee' }]);

      const refund = await api(stack.gateway, 'POST', '/v1/refunds', { key, json: { payment_intent: intent.id, amount: 5000 } });
      assert.equal(refund.body.status, 'succeeded', refund.text);
      assert.match(refund.body.balance_transaction, /^txn_\d{19}$/);
      const refundTxn = await get(`/v1/balance_transactions/${refund.body.balance_transaction}`);
      assert.deepEqual(
        [refundTxn.type, refundTxn.source, refundTxn.amount, refundTxn.currency, refundTxn.fee, refundTxn.net, refundTxn.exchange_rate, refundTxn.status],
        ['refund', refund.body.id, -want.refund, currency, 0, -want.refund, want.refundRate, 'pending'],
      );

      const net = want.amount - want.fee - want.refund;
      assert.deepEqual(await get('/v1/balance'), { object: 'balance', livemode: false, available: [{ amount: 0, currency }], pending: [{ amount: net, currency }] });
      const listed = await get('/v1/balance_transactions');
      assert.deepEqual(listed.data.map((t: { id: string }) => t.id), [refundTxn.id, txn.id], 'newest first');
      assert.deepEqual((await get('/v1/balance_transactions?type=charge')).data.map((t: { id: string }) => t.id), [txn.id]);
      assert.deepEqual((await get(`/v1/balance_transactions?source=${refund.body.id}`)).data.map((t: { id: string }) => t.id), [refundTxn.id]);

      const wasMs = ws.clock.now();
      ws.clock.set(availableOn - 1);
      assert.deepEqual((await get('/v1/balance')).available, [{ amount: 0, currency }]);
      ws.clock.set(availableOn);
      assert.deepEqual(await get('/v1/balance'), { object: 'balance', livemode: false, available: [{ amount: net, currency }], pending: [{ amount: 0, currency }] });
      assert.equal((await get(`/v1/balance_transactions/${txn.id}`)).status, 'available');
      ws.clock.set(wasMs);

      const other = await stack.gateway.newAccount();
      const hidden = await api(stack.gateway, 'GET', `/v1/balance_transactions/${txn.id}`, { key: other.test.secretKey });
      assert.deepEqual([hidden.status, hidden.body.error.code], [404, 'resource_missing']);
      assert.deepEqual((await api(stack.gateway, 'GET', '/v1/balance', { key: other.test.secretKey })).body, { object: 'balance', livemode: false, available: [], pending: [] });
    });
  }

  it('validates list parameters', async () => {
    const bad = await api(stack.gateway, 'GET', '/v1/balance_transactions?type=payout', { key: stack.gateway.secretKey });
    assert.equal(bad.status, 400, bad.text);
    const unknown = await api(stack.gateway, 'GET', '/v1/balance?foo=1', { key: stack.gateway.secretKey });
    assert.deepEqual([unknown.status, unknown.body.error.code], [400, 'parameter_unknown']);
  });
});
