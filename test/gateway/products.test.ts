import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { api, startTestGateway } from '../support/gateway-server.js';
import type { TestGateway } from '../support/gateway-server.js';

describe('Products and Prices (api.md §6)', () => {
  let gw: TestGateway;
  const post = (path: string, json: unknown, key = gw.secretKey) => api(gw, 'POST', path, { key, json });
  const get = (path: string, key = gw.secretKey) => api(gw, 'GET', path, { key });
  const eventsOf = async (id: string) =>
    (await gw.database.db.selectFrom('events').select(['id', 'type', 'data']).orderBy('id').execute())
      .filter((row) => (JSON.parse(row.data) as { object: { id: string } }).object.id === id)
      .map((row) => ({ type: row.type, data: JSON.parse(row.data) as { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> } }));

  before(async () => {
    gw = await startTestGateway();
  });
  after(async () => {
    await gw.stop();
  });

  it('creates, retrieves, updates, lists and deletes a product, with product.* events', async () => {
    const created = await post('/v1/products', { name: 'Oolong 乌龙茶', description: 'Taiwan high mountain', images: ['https://shop.test/oolong.png'], metadata: { sku: 'T-1' } });
    assert.equal(created.status, 200, created.text);
    const product = created.body;
    assert.match(product.id, /^prod_\d{19}$/);
    assert.deepEqual([product.object, product.name, product.active, product.livemode, product.images, product.metadata], ['product', 'Oolong 乌龙茶', true, false, ['https://shop.test/oolong.png'], { sku: 'T-1' }]);
    assert.deepEqual((await get(`/v1/products/${product.id}`)).body, product);

    const updated = await post(`/v1/products/${product.id}`, { name: 'Oolong', active: false, metadata: { sku: '' } });
    assert.equal(updated.status, 200, updated.text);
    assert.deepEqual([updated.body.name, updated.body.active, updated.body.metadata], ['Oolong', false, {}]);
    const listed = await get('/v1/products?active=false&limit=5');
    assert.equal(listed.body.object, 'list');
    assert.equal(listed.body.url, '/v1/products');
    assert.deepEqual(listed.body.data.map((p: { id: string }) => p.id), [product.id]);

    const deleted = await api(gw, 'DELETE', `/v1/products/${product.id}`, { key: gw.secretKey });
    assert.deepEqual(deleted.body, { id: product.id, object: 'product', deleted: true });
    assert.equal((await get(`/v1/products/${product.id}`)).status, 404);
    const events = await eventsOf(product.id);
    assert.deepEqual(events.map((e) => e.type), ['product.created', 'product.updated', 'product.deleted']);
    assert.deepEqual(events[1]!.data.previous_attributes, { name: 'Oolong 乌龙茶', active: true, metadata: { sku: 'T-1' } });
  });

  it('refuses product parameters with a 400 naming them', async () => {
    const missing = await post('/v1/products', { description: 'no name' });
    assert.deepEqual([missing.status, missing.body.error.code, missing.body.error.param], [400, 'parameter_missing', 'name']);
    const image = await post('/v1/products', { name: 'x', images: ['javascript:alert(1)'] });
    assert.deepEqual([image.status, image.body.error.param], [400, 'images[0]']);
    const unknown = await post('/v1/products', { name: 'x', colour: 'red' });
    assert.deepEqual([unknown.status, unknown.body.error.code, unknown.body.error.param], [400, 'parameter_unknown', 'colour']);
  });

  it('creates prices on a product or with product_data, one-time and recurring, with price.* events', async () => {
    const product = (await post('/v1/products', { name: 'Green tea' })).body;
    const oneTime = await post('/v1/prices', { product: product.id, currency: 'cny', unit_amount: 1999, lookup_key: 'green', nickname: 'Standard' });
    assert.equal(oneTime.status, 200, oneTime.text);
    const price = oneTime.body;
    assert.match(price.id, /^price_\d{19}$/);
    assert.deepEqual(
      [price.object, price.currency, price.unit_amount, price.unit_amount_decimal, price.product, price.type, price.recurring, price.billing_scheme, price.lookup_key, price.active],
      ['price', 'CNY', 1999, '1999', product.id, 'one_time', null, 'per_unit', 'green', true],
    );
    assert.deepEqual((await get(`/v1/prices/${price.id}`)).body, price);

    const inline = await post('/v1/prices', { currency: 'HKD', unit_amount: 500, product_data: { name: 'Tea set' }, recurring: { interval: 'month' } });
    assert.equal(inline.status, 200, inline.text);
    assert.deepEqual([inline.body.type, inline.body.recurring], ['recurring', { aggregate_usage: null, interval: 'month', interval_count: 1, trial_period_days: null, usage_type: 'licensed' }]);
    const inlineProduct = await get(`/v1/products/${inline.body.product}`);
    assert.equal(inlineProduct.body.name, 'Tea set');

    const archived = await post(`/v1/prices/${price.id}`, { active: false, nickname: 'Old' });
    assert.deepEqual([archived.body.active, archived.body.nickname, archived.body.unit_amount], [false, 'Old', 1999]);
    const events = await eventsOf(price.id);
    assert.deepEqual(events.map((e) => e.type), ['price.created', 'price.updated']);
    assert.deepEqual(events[1]!.data.previous_attributes, { active: true, nickname: 'Standard' });
    assert.deepEqual((await eventsOf(inlineProduct.body.id)).map((e) => e.type), ['product.created']);

    const byProduct = await get(`/v1/prices?product=${product.id}`);
    assert.deepEqual(byProduct.body.data.map((p: { id: string }) => p.id), [price.id]);
    const recurringOnly = await get('/v1/prices?type=recurring');
    assert.deepEqual(recurringOnly.body.data.map((p: { id: string }) => p.id), [inline.body.id]);

    // A product with prices is archived, not deleted (its prices and line items still name it).
    const refused = await api(gw, 'DELETE', `/v1/products/${product.id}`, { key: gw.secretKey });
    assert.deepEqual([refused.status, refused.body.error.code, refused.body.error.param], [400, 'resource_in_use', 'id']);
  });

  it('refuses price parameters with a 400 naming them', async () => {
    const product = (await post('/v1/products', { name: 'Black tea' })).body;
    const cases: Array<[unknown, string, string]> = [
      [{ product: product.id, unit_amount: 100 }, 'parameter_missing', 'currency'],
      [{ product: product.id, currency: 'JPY', unit_amount: 100 }, 'currency_not_supported', 'currency'],
      [{ product: product.id, currency: 'CNY' }, 'parameter_missing', 'unit_amount'],
      [{ product: product.id, currency: 'CNY', unit_amount: -1 }, 'parameter_invalid_integer', 'unit_amount'],
      [{ product: product.id, currency: 'CNY', unit_amount: 1.5 }, 'parameter_invalid_integer', 'unit_amount'],
      [{ currency: 'CNY', unit_amount: 100 }, 'parameter_missing', 'product'],
      [{ product: 'prod_0000000000000000001', currency: 'CNY', unit_amount: 100 }, 'resource_missing', 'product'],
      [{ product: product.id, product_data: { name: 'x' }, currency: 'CNY', unit_amount: 100 }, 'parameter_invalid', 'product_data'],
      [{ product: product.id, currency: 'CNY', unit_amount: 100, recurring: { interval: 'fortnight' } }, 'parameter_invalid', 'recurring[interval]'],
      [{ product: product.id, currency: 'CNY', unit_amount: 100, type: 'recurring' }, 'parameter_invalid', 'type'],
      [{ product: product.id, currency: 'CNY', unit_amount: 100, billing_scheme: 'tiered' }, 'parameter_invalid', 'billing_scheme'],
    ];
    for (const [body, code, param] of cases) {
      const response = await post('/v1/prices', body);
      assert.equal(response.status, 400, `${JSON.stringify(body)} → ${response.text}`);
      assert.deepEqual([response.body.error.code, response.body.error.param], [code, param], JSON.stringify(body));
      assert.ok(response.body.error.message.length > 10);
    }
  });

  it("keeps accounts apart: another account's product or price is 404, and publishable keys are refused", async () => {
    const other = await gw.newAccount();
    const product = (await post('/v1/products', { name: 'Mine' })).body;
    const price = (await post('/v1/prices', { product: product.id, currency: 'CNY', unit_amount: 1 })).body;
    assert.equal((await get(`/v1/products/${product.id}`, other.test.secretKey)).status, 404);
    assert.equal((await get(`/v1/prices/${price.id}`, other.test.secretKey)).status, 404);
    const usedElsewhere = await post('/v1/prices', { product: product.id, currency: 'CNY', unit_amount: 1 }, other.test.secretKey);
    assert.deepEqual([usedElsewhere.status, usedElsewhere.body.error.param], [400, 'product']);
    assert.equal((await get('/v1/products', gw.publishableKey)).status, 403);
    assert.equal((await post('/v1/prices', { product: product.id, currency: 'CNY', unit_amount: 1 }, gw.publishableKey)).status, 403);
  });

  it('accepts form bodies in bracket notation', async () => {
    const response = await api(gw, 'POST', '/v1/prices', { key: gw.secretKey, form: 'currency=eur&unit_amount=250&product_data[name]=Scone&product_data[metadata][k]=v&recurring[interval]=week&recurring[interval_count]=2' });
    assert.equal(response.status, 200, response.text);
    assert.deepEqual([response.body.currency, response.body.unit_amount, response.body.recurring], ['EUR', 250, { aggregate_usage: null, interval: 'week', interval_count: 2, trial_period_days: null, usage_type: 'licensed' }]);
  });
});
