import { amount, formatDateTime, type PayResponse } from '../../alipayplus/index.js';
import { NOTIFY_RETRY_INTERVALS_MS } from '../notifier/notifier.js';
import type { TestShopper } from '../domain/shoppers.js';
import type { DisputeRow } from '../store/disputes.js';
import type { FaultRow } from '../store/faults.js';
import type { DisputeSendRow, NotificationRow, NotificationSendRow } from '../store/notifications.js';
import type { PaymentRow } from '../store/payments.js';
import type { RefundRow } from '../store/refunds.js';

/**
 * What the control API shows of the sandbox's state: camelCase JSON with ISO datetimes (UTC+8,
 * as Alipay+ writes them) and amounts as Alipay+ `Amount`s in minor units.
 */
const isoOrNull = (ms: number | null) => (ms === null ? null : formatDateTime(ms));

export function paymentView(payment: PaymentRow) {
  const payResponse = JSON.parse(payment.pay_response_json) as PayResponse;
  return {
    paymentId: payment.payment_id,
    paymentRequestId: payment.payment_request_id,
    clientId: payment.client_id,
    status: payment.status,
    resultCode: payment.result_code,
    amount: amount(payment.currency, payment.amount_minor),
    terminalType: payment.terminal_type,
    osType: payment.os_type,
    paymentMethodType: payment.payment_method_type,
    referenceOrderId: payment.reference_order_id,
    orderDescription: payment.order_description,
    merchantName: payment.merchant_name,
    codeValue: payment.code_value,
    urls: {
      normalUrl: payResponse.normalUrl ?? null,
      applinkUrl: payResponse.applinkUrl ?? null,
      schemeUrl: payResponse.schemeUrl ?? null,
      paymentNotifyUrl: payment.notify_url,
      paymentRedirectUrl: payment.redirect_url,
    },
    createdAt: formatDateTime(payment.created_at),
    expiresAt: formatDateTime(payment.expires_at),
    paidAt: isoOrNull(payment.paid_at),
    closedAt: isoOrNull(payment.closed_at),
    customerId: payment.customer_id,
    walletBrand: payment.wallet_brand,
    settlementCurrency: payment.settlement_currency,
    settlementAmount: payment.settlement_amount_minor === null ? null : amount(payment.settlement_currency, payment.settlement_amount_minor),
    settlementQuote: payment.settlement_quote_json === null ? null : (JSON.parse(payment.settlement_quote_json) as unknown),
    refundedAmount: amount(payment.currency, payment.refunded_minor),
  };
}

export function refundView(refund: RefundRow) {
  const response = JSON.parse(refund.response_json) as { settlementAmount?: unknown; settlementQuote?: unknown };
  return {
    refundId: refund.refund_id,
    refundRequestId: refund.refund_request_id,
    amount: amount(refund.currency, refund.amount_minor),
    reason: refund.reason,
    createdAt: formatDateTime(refund.created_at),
    settlementAmount: response.settlementAmount ?? null,
    settlementQuote: response.settlementQuote ?? null,
  };
}

export function notificationView(notification: NotificationRow, sends: NotificationSendRow[]) {
  return {
    notificationId: notification.notification_id,
    status: notification.status,
    url: notification.url,
    sendCount: notification.sends,
    /** Only a pending notification has a next send. */
    nextSendAt: notification.status === 'pending' ? formatDateTime(notification.next_send_at) : null,
    createdAt: formatDateTime(notification.created_at),
    body: JSON.parse(notification.body) as unknown,
    sends: sendViews(notification, sends),
  };
}

/**
 * Each send with the time the next one was (or is) due. A `duplicate` fault records two rows for
 * one send, both at the same time, so the schedule position counts distinct send times.
 */
function sendViews(notification: NotificationRow, sends: NotificationSendRow[]) {
  let position = -1;
  let previousAt: number | null = null;
  return sends.map((send) => {
    if (send.sent_at !== previousAt) position += 1;
    previousAt = send.sent_at;
    const interval = NOTIFY_RETRY_INTERVALS_MS[position + 1];
    const finished = send.outcome === 'acknowledged' || interval === undefined || (notification.status !== 'pending' && position === notification.sends - 1);
    return {
      sentAt: formatDateTime(send.sent_at),
      outcome: send.outcome,
      httpStatus: send.http_status,
      detail: send.detail,
      nextSendAt: finished ? null : formatDateTime(send.sent_at + interval),
    };
  });
}

/**
 * A dispute as the control API shows it: its state, what the acquirer answered, and every attempt
 * to deliver each call (initiate, resend, result) with the acquirer's verified answer.
 */
export function disputeView(dispute: DisputeRow, sends: DisputeSendRow[]) {
  return {
    disputeId: dispute.dispute_id,
    disputeRequestId: dispute.dispute_request_id,
    type: dispute.type,
    state: dispute.state,
    paymentId: dispute.payment_id,
    paymentRequestId: dispute.payment_request_id,
    amount: dispute.amount_minor === null ? null : amount(dispute.currency, dispute.amount_minor),
    reasonCode: dispute.reason_code,
    reasonMessage: dispute.reason_message,
    occurredAt: formatDateTime(dispute.occurred_at),
    responseDeadline: formatDateTime(dispute.response_deadline),
    response:
      dispute.response_api === null || dispute.response_body === null
        ? null
        : { api: dispute.response_api, body: JSON.parse(dispute.response_body) as unknown, receivedAt: isoOrNull(dispute.response_received_at) },
    result: dispute.result,
    judgedAt: isoOrNull(dispute.judged_at),
    rejectedCode: dispute.rejected_code,
    deliveries: sends.map((send) => ({
      api: send.api,
      attempt: send.attempt,
      sentAt: formatDateTime(send.sent_at),
      outcome: send.outcome,
      ackStatus: send.ack_status,
      ackCode: send.ack_code,
      httpStatus: send.http_status,
      error: send.outcome === 'acknowledged' ? null : send.detail,
    })),
  };
}

export function faultView(fault: FaultRow) {
  return { faultId: fault.fault_id, target: fault.target, kind: fault.kind, remaining: fault.remaining, delayMs: fault.delay_ms, createdAt: formatDateTime(fault.created_at) };
}

export function shopperView(shopper: TestShopper) {
  return {
    id: shopper.id,
    name: shopper.name,
    customerId: shopper.customerId,
    walletBrand: shopper.walletBrand,
    walletBrandName: shopper.walletBrandName,
    /** What pressing Pay does for this shopper. */
    payResultCode: shopper.declineCode ?? 'SUCCESS',
    description: shopper.description,
  };
}
