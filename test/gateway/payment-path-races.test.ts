import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { recordAttemptSucceeded } from '../../src/gateway/index.js';
import { seedWebRequest } from '../support/gateway-server.js';
import { startCrashHarness, type CrashHarness } from './idempotency-recovery-support.js';

/**
 * Confirm records the pay's outcome from the attempt and PaymentIntent as its start committed
 * them, without reading them back (core/payment_attempts.ts recordStartedPayOutcome). Whatever
 * changes either row while the pay is out must still win: the outcome's compare-and-sets fail,
 * and the recording reads afresh.
 */
describe('confirm\'s outcome after the rows changed while its pay was out', () => {
  let h: CrashHarness;
  beforeEach(async () => {
    h = await startCrashHarness();
  });
  afterEach(async () => {
    await h.stop();
  });

  const count = (types: string[], type: string) => types.filter((t) => t === type).length;

  it('a notification that settled the attempt first: the create answers succeeded, one Charge, no requires_action', async () => {
    const pay = h.connector.nextPay;
    h.connector.nextPay = async (request) => {
      const outcome = await pay(request);
      // Alipay+ notifies before its answer to pay arrives.
      const paid = await recordAttemptSucceeded(h.process().deps, request.paymentRequestId, { externalPaymentId: 'ext_race_1', buyerId: null, wallet: null });
      assert.equal(paid.kind, 'recorded');
      return outcome;
    };
    const created = await h.post('/v1/payment_intents', 'race-1', seedWebRequest());
    h.connector.nextPay = pay;
    assert.deepEqual([created.status, created.body.status], [200, 'succeeded'], created.text);
    const id = created.body.id as string;
    assert.equal(await h.count('charges', { column: 'payment_intent_id', value: id }), 1);
    const types = await h.eventTypes(id);
    assert.deepEqual([count(types, 'payment_intent.succeeded'), count(types, 'payment_intent.requires_action')], [1, 0]);
    const attempts = await h.database.db.selectFrom('payment_attempts').select(['status']).where('payment_intent_id', '=', id).execute();
    assert.deepEqual(attempts.map((a) => a.status), ['succeeded']);
    const replay = await h.post('/v1/payment_intents', 'race-1', seedWebRequest());
    assert.deepEqual([replay.headers.get('idempotent-replayed'), replay.text], ['true', created.text]);
  });

  it('a merchant update while the pay was out: requires_action is recorded on the updated PaymentIntent, which keeps the update', async () => {
    const pay = h.connector.nextPay;
    h.connector.nextPay = async (request) => {
      const updated = await h.post(`/v1/payment_intents/${request.paymentIntentId}`, null, { metadata: { order: 'changed-meanwhile' }, description: 'edited' });
      assert.equal(updated.status, 200, updated.text);
      return pay(request);
    };
    const created = await h.post('/v1/payment_intents', 'race-2', seedWebRequest());
    h.connector.nextPay = pay;
    assert.deepEqual([created.status, created.body.status], [200, 'requires_action'], created.text);
    assert.deepEqual([created.body.metadata, created.body.description], [{ order: 'changed-meanwhile' }, 'edited'], 'the answer shows the row as it is, not as the start left it');
    const stored = await h.get(`/v1/payment_intents/${created.body.id as string}`);
    assert.deepEqual([stored.body.status, stored.body.metadata, stored.body.description], ['requires_action', { order: 'changed-meanwhile' }, 'edited']);
    assert.equal(count(await h.eventTypes(created.body.id as string), 'payment_intent.requires_action'), 1);
    assert.equal(h.connector.payCalls.length, 1);
  });
});
