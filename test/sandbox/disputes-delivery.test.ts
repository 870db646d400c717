import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { NOTIFY_RETRY_INTERVALS_MS } from '../../src/sandbox/notifier/notifier.js';
import { SandboxHarness, START_MS, isoAt, waitUntil } from '../support/sandbox-harness.js';
import { DisputeReceiver, disputeControls } from './dispute-receiver.js';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

type Delivery = { api: string; attempt: number; sentAt: string; outcome: string; ackStatus: string | null; ackCode: string | null; httpStatus: number | null; error: string | null };
const brief = (deliveries: Delivery[]) => deliveries.map((d) => [d.api, d.attempt, d.outcome, d.ackStatus, d.ackCode, d.httpStatus]);

/**
 * How the sandbox delivers dispute calls: the notifier's schedule and store-backed timers, every
 * attempt recorded with the acquirer's verified answer, faults, and a verified F ending the call.
 * A manual clock and no background loop: each retry happens exactly when the test says.
 */
describe('sandbox disputes: delivery to the acquirer', () => {
  let h: SandboxHarness;
  let acquirer: DisputeReceiver;
  const { paidPayment, open, view } = disputeControls(() => h, () => acquirer);

  before(async () => {
    acquirer = await DisputeReceiver.start();
    h = await SandboxHarness.start({ notifier: { autoStart: false, sendTimeoutMs: 500, outOfOrderHoldMsMax: 3000 } });
  });
  beforeEach(async () => {
    h.clock.set(START_MS);
    acquirer.reset();
    assert.equal((await h.control('DELETE', '/sandbox/v1/faults')).status, 200);
  });
  after(async () => {
    await h.close();
    await acquirer.close();
  });



  it('no acknowledgement (HTTP 500, then an unsigned ack): retried at +2 min and +10 min with the same signed body, stopped on the signed S', async () => {
    const { paymentId } = await paidPayment();
    acquirer.plan({ kind: 'http500' }, { kind: 'unsigned_ack' });
    const opened = await open(paymentId, { type: 'escalation' });
    assert.equal(opened.status, 201);
    assert.equal(opened.body.state, 'OPEN');
    assert.deepEqual(opened.body.deliveries, [
      { api: 'initiateEscalation', attempt: 1, sentAt: isoAt(START_MS), outcome: 'rejected', ackStatus: null, ackCode: null, httpStatus: 500, error: 'HTTP 500: database unavailable' },
    ]);
    h.clock.set(START_MS + 2 * MINUTE_MS - 1);
    assert.equal(await h.sandbox.notifier.runDue(), 0, 'not a millisecond early');
    h.clock.set(START_MS + 2 * MINUTE_MS);
    assert.equal(await h.sandbox.notifier.runDue(), 1);
    h.clock.set(START_MS + 12 * MINUTE_MS);
    assert.equal(await h.sandbox.notifier.runDue(), 1);
    const state = await view(opened.body.disputeId);
    assert.deepEqual(brief(state.deliveries), [
      ['initiateEscalation', 1, 'rejected', null, null, 500],
      ['initiateEscalation', 2, 'rejected', null, null, 200],
      ['initiateEscalation', 3, 'acknowledged', 'S', 'SUCCESS', 200],
    ]);
    assert.match(state.deliveries[1].error, /not validly signed \(MISSING_HEADERS/);
    assert.deepEqual(
      state.deliveries.map((d: Delivery) => d.sentAt),
      [isoAt(START_MS), isoAt(START_MS + 2 * MINUTE_MS), isoAt(START_MS + 12 * MINUTE_MS)],
    );
    const calls = acquirer.forDispute(opened.body.disputeRequestId);
    assert.equal(calls.length, 3);
    assert.ok(calls.every((call) => call.verified && call.raw === calls[0]?.raw), 'every attempt is the same stored body, validly signed');
    h.clock.advance(DAY_MS);
    assert.equal(await h.sandbox.notifier.runDue(), 0, 'acknowledged: never sent again');
  });

  it('`bad_signature` fault: the acquirer refuses the unverifiable call (F INVALID_SIGNATURE) and the correctly signed retry is acknowledged', async () => {
    const { paymentId } = await paidPayment();
    assert.equal((await h.addFault({ target: 'disputeNotification', kind: 'bad_signature' })).status, 201);
    const opened = await open(paymentId, { type: 'retrieval' });
    const [first] = acquirer.forDispute(opened.body.disputeRequestId);
    assert.equal(first?.verified, false, 'the faulty signature does not verify');
    assert.equal(opened.body.state, 'OPEN', 'an INVALID_SIGNATURE refusal is about the send, not the dispute');
    assert.deepEqual(brief(opened.body.deliveries), [['initiateRetrieval', 1, 'rejected', 'F', 'INVALID_SIGNATURE', 200]]);
    h.clock.advance(2 * MINUTE_MS);
    await h.sandbox.notifier.runDue();
    const calls = acquirer.forDispute(opened.body.disputeRequestId);
    assert.deepEqual(calls.map((call) => call.verified), [false, true]);
    assert.equal(calls[1]?.raw, calls[0]?.raw);
    assert.deepEqual(brief((await view(opened.body.disputeId)).deliveries).at(-1), ['initiateRetrieval', 2, 'acknowledged', 'S', 'SUCCESS', 200]);
  });

  it('`drop` fault: nothing reaches the acquirer; the attempt is recorded and retried on schedule', async () => {
    const { paymentId } = await paidPayment();
    await h.addFault({ target: 'disputeNotification', kind: 'drop' });
    const opened = await open(paymentId, { type: 'retrieval' });
    assert.equal(acquirer.forDispute(opened.body.disputeRequestId).length, 0);
    assert.deepEqual(brief(opened.body.deliveries), [['initiateRetrieval', 1, 'dropped', null, null, null]]);
    h.clock.advance(2 * MINUTE_MS);
    await h.sandbox.notifier.runDue();
    assert.equal(acquirer.forDispute(opened.body.disputeRequestId).length, 1);
    assert.equal((await view(opened.body.disputeId)).deliveries[1].ackStatus, 'S');
  });

  it('a case is judged only once the acquirer acknowledged its initiate call, so a result can never overtake the case it decides', async () => {
    const { paymentId } = await paidPayment();
    await h.addFault({ target: 'disputeNotification', kind: 'drop' });
    const opened = (await open(paymentId, { type: 'escalation' })).body;
    const early = await h.control('POST', `/sandbox/v1/disputes/${opened.disputeId}/judge`, { outcome: 'won' });
    assert.deepEqual([early.status, early.body.error.code], [409, 'DISPUTE_NOT_ACKNOWLEDGED']);
    assert.equal((await view(opened.disputeId)).state, 'OPEN');
    assert.equal(acquirer.forDispute(opened.disputeRequestId).length, 0);
    h.clock.advance(2 * MINUTE_MS);
    await h.sandbox.notifier.runDue();
    const judged = await h.control('POST', `/sandbox/v1/disputes/${opened.disputeId}/judge`, { outcome: 'won' });
    assert.deepEqual([judged.status, judged.body.state], [200, 'WON']);
    assert.deepEqual(acquirer.forDispute(opened.disputeRequestId).map((call) => call.api), ['initiateEscalation', 'notifyDisputeResult']);
  });

  it('`duplicate` fault: the same signed call with the same disputeRequestId arrives twice; both are recorded as attempt 1', async () => {
    const { paymentId } = await paidPayment();
    await h.addFault({ target: 'disputeNotification', kind: 'duplicate' });
    const opened = await open(paymentId, { type: 'escalation' });
    const calls = acquirer.forDispute(opened.body.disputeRequestId);
    assert.equal(calls.length, 2);
    assert.equal(calls[0]?.body.disputeRequestId, calls[1]?.body.disputeRequestId);
    assert.equal(calls[0]?.raw, calls[1]?.raw);
    assert.equal(calls[0]?.headers.signature, calls[1]?.headers.signature);
    assert.ok(calls.every((call) => call.verified));
    assert.deepEqual(brief(opened.body.deliveries), [
      ['initiateEscalation', 1, 'acknowledged', 'S', 'SUCCESS', 200],
      ['initiateEscalation', 1, 'acknowledged', 'S', 'SUCCESS', 200],
    ]);
  });

  it('`delay` fault: the control call answers at once and the call arrives about delayMs later', async () => {
    const { paymentId } = await paidPayment();
    await h.addFault({ target: 'disputeNotification', kind: 'delay', delayMs: 300 });
    const startedAt = Date.now();
    const opened = await open(paymentId, { type: 'retrieval' });
    assert.deepEqual(opened.body.deliveries, [], 'not sent yet');
    const [call] = await acquirer.waitFor(opened.body.disputeRequestId, 1);
    assert.ok(Date.now() - startedAt >= 290, 'held back by the delay');
    assert.ok(call?.verified);
    await waitUntil(async () => (await view(opened.body.disputeId)).deliveries.length === 1, 'the delayed attempt to be recorded');
  });

  it('`out_of_order` fault: a call is held until the next one has been sent', async () => {
    const first = await paidPayment();
    const second = await paidPayment();
    await h.addFault({ target: 'disputeNotification', kind: 'out_of_order' });
    const held = (await open(first.paymentId, { type: 'retrieval' })).body;
    assert.equal(acquirer.forDispute(held.disputeRequestId).length, 0);
    const next = (await open(second.paymentId, { type: 'retrieval' })).body;
    await acquirer.waitFor(held.disputeRequestId, 1);
    const order = acquirer.calls.filter((call) => call.body?.disputeRequestId === held.disputeRequestId || call.body?.disputeRequestId === next.disputeRequestId);
    assert.deepEqual(
      order.map((call) => call.body.disputeRequestId),
      [next.disputeRequestId, held.disputeRequestId],
    );
  });

  it('a verified F to an initiate call stops the retries and rejects the dispute, which then counts toward nothing', async () => {
    const { paymentId } = await paidPayment('7000');
    acquirer.plan({ kind: 'result', code: 'ORDER_NOT_EXIST' });
    const opened = await open(paymentId, { type: 'escalation' });
    assert.deepEqual([opened.body.state, opened.body.rejectedCode], ['REJECTED', 'ORDER_NOT_EXIST']);
    assert.deepEqual(brief(opened.body.deliveries), [['initiateEscalation', 1, 'refused', 'F', 'ORDER_NOT_EXIST', 200]]);
    assert.match(opened.body.deliveries[0].error, /acquirer refused/);
    for (const interval of NOTIFY_RETRY_INTERVALS_MS.slice(1)) {
      h.clock.advance(interval);
      assert.equal(await h.sandbox.notifier.runDue(), 0);
    }
    assert.equal(acquirer.forDispute(opened.body.disputeRequestId).length, 1, 'never retried');
    // A rejected escalation withholds nothing: the whole amount can be escalated again, and refunded.
    h.clock.set(START_MS);
    const again = await open(paymentId, { type: 'escalation' });
    assert.deepEqual([again.status, again.body.amount], [201, { currency: 'CNY', value: '7000' }]);
  });

  it('resend with another paymentRequestId provokes REPEAT_REQ_INCONSISTENT without disturbing the dispute; a plain resend is acknowledged again', async () => {
    const { paymentId, paymentRequestId } = await paidPayment();
    const opened = await open(paymentId, { type: 'retrieval' });
    const conflicting = await h.control('POST', `/sandbox/v1/disputes/${opened.body.disputeId}/resend`, { paymentRequestId: 'another-payment-request' });
    assert.equal(conflicting.status, 200);
    assert.equal(conflicting.body.state, 'OPEN', 'the acquirer still holds the dispute it accepted');
    assert.deepEqual(brief(conflicting.body.deliveries), [
      ['initiateRetrieval', 1, 'acknowledged', 'S', 'SUCCESS', 200],
      ['initiateRetrieval', 1, 'refused', 'F', 'REPEAT_REQ_INCONSISTENT', 200],
    ]);
    const calls = acquirer.forDispute(opened.body.disputeRequestId);
    assert.deepEqual(
      calls.map((call) => call.body.paymentRequestId),
      [paymentRequestId, 'another-payment-request'],
    );
    const plain = await h.control('POST', `/sandbox/v1/disputes/${opened.body.disputeId}/resend`);
    assert.deepEqual(brief(plain.body.deliveries).at(-1), ['initiateRetrieval', 1, 'acknowledged', 'S', 'SUCCESS', 200]);
    assert.equal(acquirer.forDispute(opened.body.disputeRequestId).at(-1)?.raw, calls[0]?.raw, 'the same disputeRequestId and body');
    assert.equal((await h.control('POST', '/sandbox/v1/disputes/DSP000/resend')).status, 404);
  });

  it('a disputeRequestId reused on another payment is refused by the acquirer: that dispute is REJECTED, the first stays and takes the responses', async () => {
    const first = await paidPayment();
    const second = await paidPayment();
    const original = (await open(first.paymentId, { type: 'retrieval' })).body;
    const reused = await open(second.paymentId, { type: 'retrieval', disputeRequestId: original.disputeRequestId });
    assert.equal(reused.status, 201);
    assert.deepEqual([reused.body.disputeRequestId, reused.body.state, reused.body.rejectedCode], [original.disputeRequestId, 'REJECTED', 'REPEAT_REQ_INCONSISTENT']);
    const answered = await h.client.responseRetrieval({ disputeRequestId: original.disputeRequestId, paymentRequestId: first.paymentRequestId, responseCode: '0003' });
    assert.equal(answered.result.resultCode, 'SUCCESS');
    assert.equal((await view(original.disputeId)).state, 'RESPONDED');
    assert.equal((await view(reused.body.disputeId)).state, 'REJECTED');
  });

  it('notifyDisputeResult is retried until acknowledged; the judgement stands meanwhile', async () => {
    const { paymentId } = await paidPayment();
    const opened = (await open(paymentId, { type: 'escalation' })).body;
    acquirer.plan({ kind: 'hang' });
    const judged = await h.control('POST', `/sandbox/v1/disputes/${opened.disputeId}/judge`, { outcome: 'won' });
    assert.equal(judged.body.state, 'WON');
    assert.deepEqual(brief(judged.body.deliveries).at(-1), ['notifyDisputeResult', 1, 'failed', null, null, null]);
    assert.equal(judged.body.deliveries.at(-1).error, 'no answer within 500 ms');
    h.clock.advance(2 * MINUTE_MS);
    await h.sandbox.notifier.runDue();
    const results = acquirer.forDispute(opened.disputeRequestId).filter((call) => call.api === 'notifyDisputeResult');
    assert.equal(results.length, 2);
    assert.equal(results[1]?.body.disputeResult, 'MERCHANT_WON');
    assert.deepEqual(brief((await view(opened.disputeId)).deliveries).at(-1), ['notifyDisputeResult', 2, 'acknowledged', 'S', 'SUCCESS', 200]);
  });

  it('retry timers live in the store: a restarted sandbox on the same database sends the pending call when due', async () => {
    const { paymentId } = await paidPayment();
    acquirer.plan({ kind: 'http500' });
    const opened = (await open(paymentId, { type: 'escalation', amount: 2500 })).body;
    assert.equal(opened.deliveries[0].outcome, 'rejected');
    await h.restart();
    h.clock.advance(2 * MINUTE_MS - 1);
    assert.equal(await h.sandbox.notifier.runDue(), 0);
    h.clock.advance(1);
    assert.equal(await h.sandbox.notifier.runDue(), 1);
    const state = await view(opened.disputeId);
    assert.deepEqual(brief(state.deliveries), [
      ['initiateEscalation', 1, 'rejected', null, null, 500],
      ['initiateEscalation', 2, 'acknowledged', 'S', 'SUCCESS', 200],
    ]);
    assert.deepEqual([state.state, state.amount], ['OPEN', { currency: 'CNY', value: '2500' }]);
    const calls = acquirer.forDispute(opened.disputeRequestId);
    assert.equal(calls[1]?.raw, calls[0]?.raw);
  });
});
