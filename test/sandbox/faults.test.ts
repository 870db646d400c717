import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AlipayPlusError } from '../../src/alipayplus/index.js';
import { CLIENT_ID, NotificationReceiver, SandboxHarness, START_MS, isoAt, payRequest, uniqueId } from '../support/sandbox-harness.js';

const MINUTE_MS = 60_000;
const isError = (kind: string, code: string) => (error: AlipayPlusError) => error.kind === kind && error.resultCode === code;

describe('sandbox faults', () => {
  let h: SandboxHarness;
  let receiver: NotificationReceiver;
  const paymentCount = () => (h.sandbox.context.db.prepare('SELECT COUNT(*) AS n FROM payments').get() as { n: number }).n;

  before(async () => {
    receiver = await NotificationReceiver.start();
    h = await SandboxHarness.start({ notifier: { autoStart: false, outOfOrderHoldMsMax: 1500 } });
  });
  beforeEach(async () => {
    h.clock.set(START_MS);
    assert.equal((await h.control('DELETE', '/sandbox/v1/faults')).status, 200);
    // Earlier tests' notifications go out now, so a notification fault applies to this test's own.
    await h.sandbox.notifier.tick();
  });
  after(async () => {
    await h.close();
    await receiver.close();
  });

  async function paidPayment(): Promise<string> {
    const created = await h.client.pay(payRequest({ notifyUrl: receiver.url() }));
    assert.equal((await h.walletPay({ paymentId: created.paymentId, outcome: 'success' })).status, 200);
    return created.paymentId as string;
  }

  describe('API faults', () => {
    it('pay `unknown` answers U without creating the payment; a retry with the same id creates it once', async () => {
      assert.equal((await h.addFault({ target: 'pay', kind: 'unknown' })).status, 201);
      const request = payRequest();
      const before = paymentCount();
      await assert.rejects(h.client.pay(request), isError('U', 'UNKNOWN_EXCEPTION'));
      assert.equal(paymentCount(), before);
      const retried = await h.client.pay(request);
      assert.equal(retried.result.resultCode, 'PAYMENT_IN_PROCESS');
      assert.deepEqual(await h.client.pay(request), retried);
      assert.equal(paymentCount(), before + 1);
    });

    it('pay `timeout` processes the request but answers too late: the client times out, the retry returns the same payment', async () => {
      assert.equal((await h.addFault({ target: 'pay', kind: 'timeout', delayMs: 1500 })).status, 201);
      const impatient = h.newClient({ timeoutMs: 300 });
      const request = payRequest();
      const before = paymentCount();
      try {
        await assert.rejects(impatient.pay(request), isError('transport', 'TIMEOUT'));
      } finally {
        await impatient.close();
      }
      assert.equal(paymentCount(), before + 1, 'the timed-out request was processed');
      const retried = await h.client.pay(request);
      const stored = h.sandbox.context.payments.findByClientAndPaymentRequestId(CLIENT_ID, request.paymentRequestId);
      assert.equal(retried.paymentId, stored?.payment_id);
      assert.equal(paymentCount(), before + 1);
    });

    it('pay `bad_signature` is U to the client (never trusted); the retry returns the payment it did create', async () => {
      await h.addFault({ target: 'pay', kind: 'bad_signature' });
      const request = payRequest();
      const before = paymentCount();
      await assert.rejects(h.client.pay(request), isError('U', 'RESPONSE_SIGNATURE_INVALID'));
      const retried = await h.client.pay(request);
      assert.equal(retried.result.resultCode, 'PAYMENT_IN_PROCESS');
      assert.equal(paymentCount(), before + 1);
    });

    it('refund `unknown` then retry with the same refundRequestId refunds once', async () => {
      const paymentId = await paidPayment();
      await h.addFault({ target: 'refund', kind: 'unknown' });
      const refund = { refundRequestId: uniqueId('refund'), paymentId, refundAmount: { currency: 'CNY', value: '100' } };
      await assert.rejects(h.client.refund(refund), isError('U', 'UNKNOWN_EXCEPTION'));
      assert.equal((await h.payment(paymentId)).refundedAmount.value, '0');
      assert.equal((await h.client.refund(refund)).result.resultStatus, 'S');
      assert.equal((await h.client.refund(refund)).result.resultStatus, 'S');
      assert.equal((await h.payment(paymentId)).refundedAmount.value, '100');
    });

    it('refund `timeout`: the client gives up, the refund happened, the retry returns it without refunding twice', async () => {
      const paymentId = await paidPayment();
      await h.addFault({ target: 'refund', kind: 'timeout', delayMs: 1000 });
      const refund = { refundRequestId: uniqueId('refund'), paymentId, refundAmount: { currency: 'CNY', value: '250' } };
      const impatient = h.newClient({ timeoutMs: 300 });
      try {
        await assert.rejects(impatient.refund(refund), isError('transport', 'TIMEOUT'));
      } finally {
        await impatient.close();
      }
      const retried = await h.client.refund(refund);
      const state = await h.payment(paymentId);
      assert.equal(retried.refundId, state.refunds[0].refundId);
      assert.equal(state.refundedAmount.value, '250');
    });

    it('refund `bad_signature` processes the refund; the retry returns the same refundId', async () => {
      const paymentId = await paidPayment();
      await h.addFault({ target: 'refund', kind: 'bad_signature' });
      const refund = { refundRequestId: uniqueId('refund'), paymentId, refundAmount: { currency: 'CNY', value: '100' } };
      await assert.rejects(h.client.refund(refund), isError('U', 'RESPONSE_SIGNATURE_INVALID'));
      const state = await h.payment(paymentId);
      assert.equal(state.refundedAmount.value, '100');
      assert.equal((await h.client.refund(refund)).refundId, state.refunds[0].refundId);
    });

    it('inquiryPayment and cancelPayment faults: `unknown` then `bad_signature`, then the call works', async () => {
      const created = await h.client.pay(payRequest());
      await h.addFault({ target: 'inquiryPayment', kind: 'unknown' });
      await h.addFault({ target: 'cancelPayment', kind: 'bad_signature' });
      await assert.rejects(h.client.inquiryPayment({ paymentId: created.paymentId }), isError('U', 'UNKNOWN_EXCEPTION'));
      assert.equal((await h.client.inquiryPayment({ paymentId: created.paymentId })).paymentResult?.resultCode, 'PAYMENT_IN_PROCESS');
      await assert.rejects(h.client.cancelPayment({ paymentId: created.paymentId }), isError('U', 'RESPONSE_SIGNATURE_INVALID'));
      assert.equal((await h.payment(created.paymentId as string)).status, 'CANCELLED', 'the cancel behind the bad signature happened');
      assert.equal((await h.client.cancelPayment({ paymentId: created.paymentId })).result.resultStatus, 'S');
    });

    it('`count` makes the next N calls misbehave, and the fault list shows what remains', async () => {
      const added = await h.addFault({ target: 'inquiryPayment', kind: 'unknown', count: 2 });
      assert.equal(added.body.remaining, 2);
      const created = await h.client.pay(payRequest());
      await assert.rejects(h.client.inquiryPayment({ paymentId: created.paymentId }), isError('U', 'UNKNOWN_EXCEPTION'));
      assert.equal((await h.control('GET', '/sandbox/v1/faults')).body.faults[0].remaining, 1);
      await assert.rejects(h.client.inquiryPayment({ paymentId: created.paymentId }), isError('U', 'UNKNOWN_EXCEPTION'));
      assert.deepEqual((await h.control('GET', '/sandbox/v1/faults')).body.faults, []);
      assert.equal((await h.client.inquiryPayment({ paymentId: created.paymentId })).result.resultStatus, 'S');
    });

    it('a fault on one API leaves the others alone', async () => {
      await h.addFault({ target: 'refund', kind: 'unknown' });
      const created = await h.client.pay(payRequest());
      assert.equal((await h.client.inquiryPayment({ paymentId: created.paymentId })).result.resultStatus, 'S');
      assert.equal((await h.control('GET', '/sandbox/v1/faults')).body.faults.length, 1);
    });
  });

  describe('notification faults', () => {
    it('`drop`: nothing reaches the receiver; the send counts and is retried on schedule', async () => {
      const paymentId = await paidPayment();
      await h.addFault({ target: 'notifyPayment', kind: 'drop' });
      await h.sandbox.notifier.tick();
      assert.equal(receiver.forPayment(paymentId).length, 0);
      let notification = (await h.payment(paymentId)).notifications[0];
      assert.deepEqual([notification.sends[0].outcome, notification.status, notification.nextSendAt], ['dropped', 'pending', isoAt(START_MS + 2 * MINUTE_MS)]);
      h.clock.advance(2 * MINUTE_MS);
      await h.sandbox.notifier.runDue();
      assert.equal(receiver.forPayment(paymentId).length, 1);
      notification = (await h.payment(paymentId)).notifications[0];
      assert.equal(notification.status, 'acknowledged');
    });

    it('`duplicate`: the same signed notification arrives twice, byte for byte', async () => {
      const paymentId = await paidPayment();
      await h.addFault({ target: 'notifyPayment', kind: 'duplicate' });
      await h.sandbox.notifier.tick();
      const [first, second] = receiver.forPayment(paymentId);
      assert.ok(first && second);
      assert.equal(receiver.forPayment(paymentId).length, 2);
      assert.equal(second.raw, first.raw);
      assert.equal(second.headers.signature, first.headers.signature);
      assert.equal(second.headers['request-time'], first.headers['request-time']);
      assert.ok(first.verified && second.verified);
      const notification = (await h.payment(paymentId)).notifications[0];
      assert.equal(notification.status, 'acknowledged');
      assert.equal(notification.sends.length, 2);
    });

    it('`delay`: the notification arrives about delayMs later, without holding back the pass', async () => {
      const paymentId = await paidPayment();
      await h.addFault({ target: 'notifyPayment', kind: 'delay', delayMs: 500 });
      const started = Date.now();
      await h.sandbox.notifier.tick();
      assert.ok(Date.now() - started < 400, 'the pass did not wait for the delay');
      assert.equal(receiver.forPayment(paymentId).length, 0);
      const [notification] = await receiver.waitFor(paymentId, 1, 5000);
      assert.ok((notification?.receivedAtMs ?? 0) - started >= 450, 'arrived after the delay');
      assert.equal(notification?.verified, true);
    });

    it('`out_of_order`: a held notification is sent right after the next one', async () => {
      const first = await paidPayment();
      await h.addFault({ target: 'notifyPayment', kind: 'out_of_order' });
      await h.sandbox.notifier.tick();
      assert.equal(receiver.forPayment(first).length, 0, 'held back');
      const second = await paidPayment();
      const released = Date.now();
      await h.sandbox.notifier.tick();
      // Well within the 1.5 s hold cap: it was released by the next send, not by the cap.
      await receiver.waitFor(first, 1, 1000);
      assert.ok(Date.now() - released < 1000);
      const order = receiver.received.filter((n) => n.body.paymentId === first || n.body.paymentId === second).map((n) => n.body.paymentId);
      assert.deepEqual(order, [second, first]);
    });

    it('a notification waiting on a `delay` when the sandbox stops is not lost: the restarted sandbox sends it', async () => {
      const paymentId = await paidPayment();
      await h.addFault({ target: 'notifyPayment', kind: 'delay', delayMs: 60_000 });
      await h.sandbox.notifier.tick();
      const started = Date.now();
      await h.restart();
      assert.ok(Date.now() - started < 5000, 'stopping does not wait for the delay');
      assert.equal(receiver.forPayment(paymentId).length, 0);
      assert.equal(await h.sandbox.notifier.tick(), 1);
      assert.equal(receiver.forPayment(paymentId).length, 1);
      const notification = (await h.payment(paymentId)).notifications[0];
      assert.deepEqual([notification.status, notification.sends.length], ['acknowledged', 1]);
    });

    it('`out_of_order` with no later notification is released after the hold cap', async () => {
      const paymentId = await paidPayment();
      await h.addFault({ target: 'notifyPayment', kind: 'out_of_order' });
      const started = Date.now();
      await h.sandbox.notifier.tick();
      const [notification] = await receiver.waitFor(paymentId, 1, 5000);
      assert.ok((notification?.receivedAtMs ?? 0) - started >= 1400);
    });
  });
});
