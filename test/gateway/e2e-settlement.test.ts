import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAccount, createApiKeys, createIdGenerator } from '../../src/gateway/index.js';
import { api, seedWebRequest } from '../support/gateway-server.js';
import { codeValueOf, payInWallet, sandboxPaymentIdsOf, startPaymentStack, waitUntil, type PaymentStack } from '../support/e2e-harness.js';

/**
 * What the pay request tells Alipay+ about the merchant account: its settlement currency
 * (api.md §7, alipayplus.md §3 settlementStrategy) and its name, which the cashier and wallet show.
 */
describe('the merchant account in the pay request', () => {
  let stack: PaymentStack;
  let secretKey: string;
  before(async () => {
    stack = await startPaymentStack();
    const { database, clock } = stack.gateway;
    const ids = createIdGenerator(clock);
    const account = await createAccount(database.db, clock, ids, { name: 'Tea House London', settlementCurrency: 'GBP' });
    secretKey = (await createApiKeys(database.db, clock, ids, account.id, false)).secretKey;
  });
  after(async () => {
    await stack.stop();
  });

  /** Creates and pays the seed's WEB request with the GBP account; the sandbox's view of the payment. */
  async function paidAtSandbox() {
    const created = await api(stack.gateway, 'POST', '/v1/payment_intents', { key: secretKey, json: { ...seedWebRequest(), amount: 10000 } });
    assert.equal(created.body.status, 'requires_action', created.text);
    assert.equal((await payInWallet(stack, { codeValue: codeValueOf(created.body) })).status, 200);
    const succeeded = await waitUntil(async () => {
      const intent = await api(stack.gateway, 'GET', `/v1/payment_intents/${created.body.id}`, { key: secretKey });
      return intent.body.status === 'succeeded' ? intent.body : null;
    }, 'the payment to succeed');
    assert.equal(succeeded.amount_received, 10000);
    const [paymentId] = sandboxPaymentIdsOf(stack, created.body.id);
    return (await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body;
  }

  it('settles in the account\'s settlement currency (GBP), with a quote', async () => {
    const payment = await paidAtSandbox();
    assert.equal(payment.settlementCurrency, 'GBP');
    assert.equal(payment.settlementAmount.currency, 'GBP');
    assert.equal(payment.settlementQuote.quoteCurrencyPair, 'CNY/GBP');
  });

  it('shows the shopper the account\'s name, not its id', async () => {
    const payment = await paidAtSandbox();
    assert.equal(payment.merchantName, 'Tea House London');
  });
});
