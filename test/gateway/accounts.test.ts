import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createAccount, createApiKeys, createIdGenerator } from '../../src/gateway/index.js';
import { PROHIBITED_CATEGORIES, prohibitedCategoryOf } from '../../src/gateway/domain/prohibited_categories.js';
import { api, seedWebRequest, startTestGateway, type TestGateway } from '../support/gateway-server.js';
import { payInWallet, sandboxPaymentIdsOf, startPaymentStack, waitForIntentStatus, type PaymentStack } from '../support/e2e-harness.js';

const CLI = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

describe('the prohibited-business list', () => {
  it('covers the categories of issue 5 and matches names case- and separator-insensitively', () => {
    for (const slug of ['gambling', 'adult_content', 'weapons', 'drugs', 'counterfeit_goods', 'unlicensed_financial_services']) {
      assert.ok(PROHIBITED_CATEGORIES.some((entry) => entry.slug === slug), slug);
    }
    assert.equal(prohibitedCategoryOf('Online Gambling')?.slug, 'gambling');
    assert.equal(prohibitedCategoryOf('adult-content')?.slug, 'adult_content');
    assert.equal(prohibitedCategoryOf(' FIREARMS ')?.slug, 'weapons');
    assert.equal(prohibitedCategoryOf('Counterfeit goods')?.slug, 'counterfeit_goods');
    assert.equal(prohibitedCategoryOf('tea_shop'), null);
    assert.equal(prohibitedCategoryOf(null), null);
  });
});

describe('accounts: business category and settlement currency', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });

  async function accountWithKey(input: { businessCategory?: string; settlementCurrency?: string }) {
    const ids = createIdGenerator(gw.clock);
    const account = await createAccount(gw.database.db, gw.clock, ids, { name: 'Shop', ...input });
    const keys = await createApiKeys(gw.database.db, gw.clock, ids, account.id, false);
    return { account, key: keys.secretKey };
  }

  it('accepts GBP, HKD and EUR in any case and refuses any other settlement currency', async () => {
    for (const currency of ['gbp', 'HKD', 'Eur']) {
      const { account } = await accountWithKey({ settlementCurrency: currency });
      assert.equal(account.settlement_currency, currency.toUpperCase());
    }
    for (const currency of ['CNY', 'USD', 'JPY', '']) {
      await assert.rejects(accountWithKey({ settlementCurrency: currency }), /settlement currency must be one of GBP, EUR, HKD|settlement currency must be one of/);
    }
  });

  it('refuses Alipay payments for a prohibited account with 400 payment_method_unavailable, before reaching Alipay+', async () => {
    const { key } = await accountWithKey({ businessCategory: 'Online casino', settlementCurrency: 'GBP' });
    assert.equal(prohibitedCategoryOf('Online casino'), null, 'an unlisted name is not refused…');
    const { key: casinoKey } = await accountWithKey({ businessCategory: 'casino', settlementCurrency: 'GBP' });
    const allowed = await api(gw, 'POST', '/v1/payment_intents', { key, json: seedWebRequest() });
    assert.equal(allowed.body.status, 'requires_action', allowed.text);

    const calls = gw.connector.payCalls.length;
    const refused = await api(gw, 'POST', '/v1/payment_intents', { key: casinoKey, json: seedWebRequest() });
    assert.equal(refused.status, 400, refused.text);
    assert.deepEqual([refused.body.error.type, refused.body.error.code], ['invalid_request_error', 'payment_method_unavailable']);
    assert.match(refused.body.error.message, /business category 'casino' falls under gambling/);
    assert.equal(gw.connector.payCalls.length, calls, 'nothing was sent to Alipay+');

    const created = await api(gw, 'POST', '/v1/payment_intents', { key: casinoKey, json: { amount: 100, currency: 'cny' } });
    assert.equal(created.status, 200, created.text);
    const confirm = await api(gw, 'POST', `/v1/payment_intents/${created.body.id}/confirm`, { key: casinoKey, json: { payment_method_data: { type: 'alipay' }, return_url: 'https://shop.test/r' } });
    assert.deepEqual([confirm.status, confirm.body.error.code], [400, 'payment_method_unavailable']);
    const after = await api(gw, 'GET', `/v1/payment_intents/${created.body.id}`, { key: casinoKey });
    assert.equal(after.body.status, 'requires_payment_method', 'the refused confirm changed nothing');
    const attempts = await gw.database.db.selectFrom('payment_attempts').select('id').where('payment_intent_id', '=', created.body.id).execute();
    assert.equal(attempts.length, 0);
  });

  it('the CLI refuses a prohibited --business-category and creates an account with category and currency', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'zhifu-cli-accounts-'));
    try {
      const env = { ...process.env, ZHIFU_DATA_DIR: dir, ZHIFU_DATABASE_URL: `sqlite:${path.join(dir, 'zhifu.db')}` };
      const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { env, encoding: 'utf8' });
      const refused = run('accounts', 'create', '--name', 'Lucky', '--business-category', 'Sports betting', '--settlement-currency', 'GBP');
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /'Sports betting' is a prohibited business category \(gambling/);
      const badCurrency = run('accounts', 'create', '--settlement-currency', 'usd');
      assert.equal(badCurrency.status, 1);
      assert.match(badCurrency.stderr, /settlement currency must be one of/);
      const created = run('accounts', 'create', '--name', 'Tea House', '--business-category', 'tea_retail', '--settlement-currency', 'gbp');
      assert.equal(created.status, 0, created.stderr);
      assert.match(created.stdout, /account: acct_\d{19} \(settles in GBP\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The gateway asks Alipay+ to settle in the account's currency; the sandbox's rate table
 * (src/sandbox/domain/settlement.ts: CNY→GBP 0.1090, HKD 1.0850, EUR 0.1290, less a 0.3% spread,
 * half-up to the minor unit) gives the amounts, checked here to the minor unit.
 */
describe('settlement in each settlement currency', () => {
  let stack: PaymentStack;
  before(async () => {
    stack = await startPaymentStack();
  });
  after(async () => {
    await stack.stop();
  });

  const expected: Record<string, { amount: string; price: string }> = {
    GBP: { amount: '1087', price: '0.10867300' }, // 10000 × 0.108673 = 1086.73 → 1087
    HKD: { amount: '10817', price: '1.08174500' }, // 10000 × 1.081745 = 10817.45 → 10817
    EUR: { amount: '1286', price: '0.12861300' }, // 10000 × 0.128613 = 1286.13 → 1286
  };
  for (const currency of ['GBP', 'HKD', 'EUR']) {
    it(`settles a CNY 100.00 payment in ${currency}`, async () => {
      const { database, clock } = stack.gateway;
      const ids = createIdGenerator(clock);
      const account = await createAccount(database.db, clock, ids, { name: `Shop ${currency}`, businessCategory: 'tea_retail', settlementCurrency: currency });
      const key = (await createApiKeys(database.db, clock, ids, account.id, false)).secretKey;
      const created = await api(stack.gateway, 'POST', '/v1/payment_intents', { key, json: { ...seedWebRequest(), amount: 10000 } });
      assert.equal(created.body.status, 'requires_action', created.text);
      assert.equal((await payInWallet(stack, { codeValue: created.body.next_action.alipay_handle_redirect.qr_code.data })).status, 200);
      await waitForIntentStatus({ ...stack, gateway: { ...stack.gateway, secretKey: key } }, created.body.id, 'succeeded');
      const [paymentId] = sandboxPaymentIdsOf(stack, created.body.id);
      const payment = (await stack.control('GET', `/sandbox/v1/payments/${paymentId}`)).body;
      assert.deepEqual(payment.settlementAmount, { currency, value: expected[currency]!.amount });
      assert.equal(payment.settlementQuote.quoteCurrencyPair, `CNY/${currency}`);
      assert.equal(payment.settlementQuote.quotePrice, expected[currency]!.price);
    });
  }
});
