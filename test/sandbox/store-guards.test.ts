import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openSandboxDatabase } from '../../src/sandbox/store/database.js';
import { NotificationRepository } from '../../src/sandbox/store/notifications.js';
import { PaymentRepository, type NewPayment } from '../../src/sandbox/store/payments.js';

const NOW = Date.parse('2026-11-26T04:00:00Z');

function newPayment(paymentId: string): NewPayment {
  return {
    payment_id: paymentId,
    client_id: '2022091453683376',
    payment_request_id: `req_${paymentId}`,
    request_fingerprint: 'fp',
    code_value: `2816${paymentId}`,
    currency: 'CNY',
    amount_minor: 12345,
    terminal_type: 'WEB',
    os_type: null,
    payment_method_type: 'ALIPAY_CN',
    reference_order_id: 'order_1',
    order_description: 'Green tea',
    merchant_name: 'Tea House',
    reference_merchant_id: 'M0001',
    settlement_currency: 'GBP',
    notify_url: 'http://127.0.0.1:1/notify',
    redirect_url: null,
    created_at: NOW,
    expires_at: NOW + 60_000,
    pay_response_json: '{}',
  };
}

describe('sandbox store: state changes guarded in the statement itself', () => {
  it('a payment is marked paid only while in process: a second outcome changes nothing', () => {
    const db = openSandboxDatabase(':memory:');
    const payments = new PaymentRepository(db);
    payments.insert(newPayment('p1'));
    assert.equal(payments.markPaid('p1', { paidAt: NOW + 5, customerId: 'c1', walletBrand: 'ALIPAY_CN', settlementAmountMinor: 1300, settlementQuoteJson: '{"q":1}' }), true);
    assert.equal(payments.markPaid('p1', { paidAt: NOW + 9, customerId: 'c2', walletBrand: 'ALIPAY_HK', settlementAmountMinor: 1, settlementQuoteJson: '{}' }), false);
    assert.equal(payments.markFailed('p1', 'ORDER_IS_CLOSED', NOW + 9), false);
    const stored = payments.findByPaymentId('p1');
    assert.equal(stored?.status, 'SUCCESS');
    assert.equal(stored?.paid_at, NOW + 5, 'a refused change wrote nothing');
    assert.equal(stored?.customer_id, 'c1');
    assert.equal(payments.markFailed('missing', 'ORDER_IS_CLOSED', NOW), false);
    db.close();
  });

  it('an outbox row is counted only at the send count it was read with: a stale count changes nothing', () => {
    const db = openSandboxDatabase(':memory:');
    new PaymentRepository(db).insert(newPayment('p1'));
    const notifications = new NotificationRepository(db);
    const id = notifications.enqueue('p1', '2022091453683376', 'http://127.0.0.1:1/notify', '{}', NOW);
    assert.equal(notifications.scheduleNextSend(id, 0, NOW + 120_000, NOW), true);
    assert.equal(notifications.scheduleNextSend(id, 0, NOW + 999_000, NOW), false, 'the same send is not counted twice');
    assert.equal(notifications.finish(id, 0, 'acknowledged', NOW), false);
    const rescheduled = notifications.findById(id);
    assert.equal(rescheduled?.sends, 1);
    assert.equal(rescheduled?.status, 'pending');
    assert.equal(rescheduled?.next_send_at, NOW + 120_000);
    assert.equal(notifications.finish(id, 1, 'acknowledged', NOW + 1), true);
    assert.equal(notifications.finish(id, 2, 'exhausted', NOW + 2), false, 'a finished row stays as it ended');
    const row = notifications.findById(id);
    assert.equal(row?.status, 'acknowledged');
    assert.equal(row?.sends, 2);
    db.close();
  });
});
