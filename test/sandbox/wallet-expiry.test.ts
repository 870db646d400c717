import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotificationReceiver, SandboxHarness, payRequest } from '../support/sandbox-harness.js';

const MINUTE_MS = 60_000;

describe('sandbox wallet: a payment past its expiry that nobody has read yet', () => {
  it('pressing Pay closes it first (F / ORDER_IS_CLOSED, notified once) and is refused with 409', async () => {
    const receiver = await NotificationReceiver.start();
    // No background loop: only the wallet call itself can notice the expiry.
    const h = await SandboxHarness.start({ notifier: { autoStart: false } });
    try {
      const created = await h.client.pay(payRequest({ notifyUrl: receiver.url() }));
      h.clock.advance(14 * MINUTE_MS);
      const pressed = await h.walletPay({ paymentId: created.paymentId, outcome: 'success' });
      assert.equal(pressed.status, 409);
      assert.equal(pressed.body.error.code, 'payment_not_in_process');
      assert.equal(pressed.body.error.message, 'payment is FAIL (ORDER_IS_CLOSED), no longer waiting for the shopper');
      const state = await h.payment(created.paymentId as string);
      assert.equal(state.status, 'FAIL');
      assert.equal(state.resultCode, 'ORDER_IS_CLOSED');
      assert.equal(state.customerId ?? null, null, 'the shopper who came too late is not recorded');
      assert.equal(await h.sandbox.notifier.runDue(), 1, 'one notification: the close, none for the refused press');
      const [notification] = await receiver.waitFor(created.paymentId as string);
      assert.equal(notification?.body.paymentResult.resultCode, 'ORDER_IS_CLOSED');
    } finally {
      await h.close();
      await receiver.close();
    }
  });
});
