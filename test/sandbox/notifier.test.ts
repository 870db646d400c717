import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { NOTIFY_RETRY_INTERVALS_MS, NOTIFY_SENDS_MAX } from '../../src/sandbox/notifier/notifier.js';
import { NotificationReceiver, SandboxHarness, START_MS, isoAt, payRequest, type FailureMode } from '../support/sandbox-harness.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

describe('sandbox notifier: retries on the documented schedule (manual clock, no background loop)', () => {
  let h: SandboxHarness;
  let receiver: NotificationReceiver;

  before(async () => {
    receiver = await NotificationReceiver.start();
    h = await SandboxHarness.start({ notifier: { autoStart: false, sendTimeoutMs: 300 } });
  });
  beforeEach(() => h.clock.set(START_MS));
  after(async () => {
    await h.close();
    await receiver.close();
  });

  /** A paid payment whose notification is queued (not yet sent). */
  async function paidPayment(notifyUrl = receiver.url()): Promise<string> {
    const created = await h.client.pay(payRequest({ notifyUrl }));
    assert.equal((await h.walletPay({ paymentId: created.paymentId, outcome: 'success' })).status, 200);
    return created.paymentId as string;
  }

  it('the schedule is 0, 2 min, 10 min, 10 min, 1 h, 2 h, 6 h, 15 h: at most 8 sends', () => {
    assert.deepEqual(NOTIFY_RETRY_INTERVALS_MS, [0, 2 * MINUTE_MS, 10 * MINUTE_MS, 10 * MINUTE_MS, HOUR_MS, 2 * HOUR_MS, 6 * HOUR_MS, 15 * HOUR_MS]);
    assert.equal(NOTIFY_SENDS_MAX, 8);
  });

  it('a receiver failing 3 times is retried at +2 min, +10 min, +10 min, never earlier, then acknowledged', async () => {
    const paymentId = await paidPayment();
    receiver.failNext(3, 'http500', paymentId);
    assert.equal(await h.sandbox.notifier.tick(), 1);
    assert.equal(receiver.forPayment(paymentId).length, 1);
    let state = await h.payment(paymentId);
    assert.equal(state.notifications[0].status, 'pending');
    assert.equal(state.notifications[0].nextSendAt, isoAt(START_MS + 2 * MINUTE_MS));
    assert.deepEqual(state.notifications[0].sends[0], {
      sentAt: isoAt(START_MS),
      outcome: 'rejected',
      httpStatus: 500,
      detail: 'HTTP 500: database unavailable',
      nextSendAt: isoAt(START_MS + 2 * MINUTE_MS),
    });

    let at = START_MS;
    for (const interval of [2 * MINUTE_MS, 10 * MINUTE_MS, 10 * MINUTE_MS]) {
      const sendsBefore = receiver.forPayment(paymentId).length;
      h.clock.set(at + interval - 1);
      assert.equal(await h.sandbox.notifier.runDue(), 0, 'not due one millisecond early');
      h.clock.set(at + interval);
      assert.equal(await h.sandbox.notifier.runDue(), 1);
      assert.equal(receiver.forPayment(paymentId).length, sendsBefore + 1);
      at += interval;
    }
    state = await h.payment(paymentId);
    const notification = state.notifications[0];
    assert.equal(notification.status, 'acknowledged');
    assert.equal(notification.nextSendAt, null);
    assert.deepEqual(
      notification.sends.map((s: { sentAt: string; outcome: string; nextSendAt: string | null }) => [s.sentAt, s.outcome, s.nextSendAt]),
      [
        [isoAt(START_MS), 'rejected', isoAt(START_MS + 2 * MINUTE_MS)],
        [isoAt(START_MS + 2 * MINUTE_MS), 'rejected', isoAt(START_MS + 12 * MINUTE_MS)],
        [isoAt(START_MS + 12 * MINUTE_MS), 'rejected', isoAt(START_MS + 22 * MINUTE_MS)],
        [isoAt(START_MS + 22 * MINUTE_MS), 'acknowledged', null],
      ],
    );
    const received = receiver.forPayment(paymentId);
    assert.ok(received.every((n) => n.verified && n.raw === received[0]?.raw), 'every send carries the same stored body, signed');
    h.clock.advance(24 * HOUR_MS);
    assert.equal(await h.sandbox.notifier.runDue(), 0, 'an acknowledged notification is never sent again');
  });

  it('after 8 unacknowledged sends the notification is exhausted and never sent again', async () => {
    const paymentId = await paidPayment();
    receiver.failNext(8, 'http500', paymentId);
    const expectedTimes: string[] = [];
    let at = START_MS;
    for (const interval of NOTIFY_RETRY_INTERVALS_MS) {
      at += interval;
      h.clock.set(at);
      expectedTimes.push(isoAt(at));
      assert.equal(await h.sandbox.notifier.runDue(), 1);
    }
    const notification = (await h.payment(paymentId)).notifications[0];
    assert.equal(notification.status, 'exhausted');
    assert.equal(notification.sendCount, 8);
    assert.equal(notification.nextSendAt, null);
    assert.deepEqual(notification.sends.map((s: { sentAt: string }) => s.sentAt), expectedTimes);
    assert.deepEqual(notification.sends.map((s: { nextSendAt: string | null }) => s.nextSendAt), [...expectedTimes.slice(1), null]);
    assert.equal(expectedTimes.at(-1), isoAt(START_MS + 24 * HOUR_MS + 22 * MINUTE_MS));
    h.clock.advance(7 * 24 * HOUR_MS);
    assert.equal(await h.sandbox.notifier.runDue(), 0);
    assert.equal(receiver.forPayment(paymentId).length, 8);
  });

  const invalidAcks: Array<[FailureMode, RegExp]> = [
    ['unsigned_ack', /not validly signed \(MISSING_HEADERS/],
    ['wrong_key_ack', /not validly signed \(INVALID_SIGNATURE/],
    ['result_f', /result is not S/],
  ];
  for (const [mode, detail] of invalidAcks) {
    it(`an answer that is not a valid acknowledgement (${mode}) is rejected and retried`, async () => {
      const paymentId = await paidPayment();
      receiver.failNext(1, mode, paymentId);
      await h.sandbox.notifier.tick();
      let notification = (await h.payment(paymentId)).notifications[0];
      assert.equal(notification.status, 'pending');
      assert.equal(notification.sends[0].outcome, 'rejected');
      assert.equal(notification.sends[0].httpStatus, 200);
      assert.match(notification.sends[0].detail, detail);
      h.clock.advance(2 * MINUTE_MS);
      await h.sandbox.notifier.runDue();
      notification = (await h.payment(paymentId)).notifications[0];
      assert.equal(notification.status, 'acknowledged');
    });
  }

  it('a receiver that does not answer within the send timeout counts as a failed send', async () => {
    const paymentId = await paidPayment();
    receiver.failNext(1, 'hang', paymentId);
    await h.sandbox.notifier.tick();
    const notification = (await h.payment(paymentId)).notifications[0];
    assert.deepEqual([notification.sends[0].outcome, notification.sends[0].httpStatus, notification.sends[0].detail], ['failed', null, 'no answer within 300 ms']);
    assert.equal(notification.nextSendAt, isoAt(START_MS + 2 * MINUTE_MS));
  });

  it('an unreachable notify URL counts as a failed send and is retried', async () => {
    const closed = await NotificationReceiver.start();
    const url = closed.url();
    await closed.close();
    const paymentId = await paidPayment(url);
    await h.sandbox.notifier.tick();
    const notification = (await h.payment(paymentId)).notifications[0];
    assert.equal(notification.sends[0].outcome, 'failed');
    assert.equal(notification.status, 'pending');
  });

  it('a restarted sandbox resumes pending retries from its store, on the same schedule', async () => {
    const paymentId = await paidPayment();
    receiver.failNext(2, 'http500', paymentId);
    await h.sandbox.notifier.tick();
    h.clock.set(START_MS + 2 * MINUTE_MS);
    await h.sandbox.notifier.runDue();
    assert.equal(receiver.forPayment(paymentId).length, 2);

    await h.restart();
    assert.equal(await h.sandbox.notifier.tick(), 0, 'the restart does not make the retry due early');
    assert.equal((await h.payment(paymentId)).notifications[0].nextSendAt, isoAt(START_MS + 12 * MINUTE_MS));
    h.clock.set(START_MS + 12 * MINUTE_MS);
    assert.ok((await h.sandbox.notifier.tick()) >= 1);
    const received = receiver.forPayment(paymentId);
    assert.equal(received.length, 3);
    assert.equal(received[2]?.verified, true);
    assert.equal(received[2]?.raw, received[0]?.raw);
    const notification = (await h.payment(paymentId)).notifications[0];
    assert.equal(notification.status, 'acknowledged');
    assert.deepEqual(notification.sends.map((s: { outcome: string }) => s.outcome), ['rejected', 'rejected', 'acknowledged']);
  });

  it('overlapping passes never send a notification twice', async () => {
    const paymentId = await paidPayment();
    const counts = await Promise.all([h.sandbox.notifier.runDue(), h.sandbox.notifier.runDue(), h.sandbox.notifier.tick()]);
    assert.equal(counts.reduce((a, b) => a + b, 0), 1);
    assert.equal(receiver.forPayment(paymentId).length, 1);
  });
});

describe('sandbox notifier: bounded concurrency over kept-alive connections', () => {
  it('with concurrencyMax 2, six due notifications are sent at most two at a time over at most two connections', async () => {
    const receiver = await NotificationReceiver.start();
    const h = await SandboxHarness.start({ notifier: { autoStart: false, concurrencyMax: 2 } });
    try {
      h.clock.set(START_MS);
      const paymentIds: string[] = [];
      for (let i = 0; i < 6; i++) {
        const created = await h.client.pay(payRequest({ notifyUrl: receiver.url() }));
        await h.walletPay({ paymentId: created.paymentId, outcome: 'success' });
        paymentIds.push(created.paymentId as string);
      }
      receiver.answerDelayMs = 100;
      assert.equal(await h.sandbox.notifier.runDue(), 6);
      assert.deepEqual(new Set(receiver.received.map((n) => n.body.paymentId)), new Set(paymentIds));
      assert.equal(receiver.inFlightMax, 2);
      assert.ok(receiver.connections <= 2, `opened ${receiver.connections} connections for 6 sends`);
      for (const paymentId of paymentIds) assert.equal((await h.payment(paymentId)).notifications[0].status, 'acknowledged');
    } finally {
      await h.close();
      await receiver.close();
    }
  });
});

describe('sandbox notifier: a restart with the background loop running', () => {
  it('delivers the pending notification once the clock reaches its next send', async () => {
    const receiver = await NotificationReceiver.start();
    const h = await SandboxHarness.start({ notifier: { pollIntervalMs: 20 } });
    try {
      h.clock.set(START_MS);
      const created = await h.client.pay(payRequest({ notifyUrl: receiver.url() }));
      receiver.failNext(1, 'http500', created.paymentId);
      await h.walletPay({ paymentId: created.paymentId, outcome: 'success' });
      await receiver.waitFor(created.paymentId as string, 1);
      await h.restart();
      h.clock.advance(2 * MINUTE_MS);
      const received = await receiver.waitFor(created.paymentId as string, 2);
      assert.equal(received[1]?.answer, 'ack');
      await waitForAck(h, created.paymentId as string);
    } finally {
      await h.close();
      await receiver.close();
    }
  });
});

async function waitForAck(h: SandboxHarness, paymentId: string): Promise<void> {
  const { waitForNotificationStatus } = await import('../support/sandbox-harness.js');
  await waitForNotificationStatus(h, paymentId, 'acknowledged');
}
