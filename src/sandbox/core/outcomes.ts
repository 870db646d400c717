import { amount, formatDateTime, result, type NotifyPaymentRequest, type ResultCode } from '../../alipayplus/index.js';
import type { PaymentCurrency, SettlementCurrency } from '../domain/currencies.js';
import { settle } from '../domain/settlement.js';
import type { TestShopper } from '../domain/shoppers.js';
import type { PaymentRow } from '../store/payments.js';
import type { SandboxContext } from './context.js';
import { newQuoteId } from './ids.js';

/** Identifies the acquirer and PSP in notifications (our choice of values for the sandbox). */
export const SANDBOX_ACQUIRER_ID = 'ZHIFU_SANDBOX_ACQUIRER';

export type ShopperDecision = { kind: 'paid' } | { kind: 'declined'; resultCode: ResultCode };

export type DecisionOutcome = { ok: true; payment: PaymentRow } | { ok: false; reason: 'not_in_process'; payment: PaymentRow };

/**
 * Records what the shopper did in the wallet and queues the notification, in one transaction:
 * a payment is never marked paid without its notification, nor notified without being paid.
 * `payment` is the row as the caller read it, after applying due expiries: the UPDATE changes it
 * only while it is still PROCESSING, so a row that moved on since is refused, never overwritten.
 */
export function recordShopperDecision(ctx: SandboxContext, payment: PaymentRow, shopper: TestShopper, decision: ShopperDecision): DecisionOutcome {
  const paymentId = payment.payment_id;
  const outcome = ctx.db.transaction((): DecisionOutcome => {
    const now = ctx.clock.now();
    const changed = decision.kind === 'paid' ? markPaid(ctx, payment, shopper, now) : ctx.payments.markFailed(paymentId, decision.resultCode, now, shopper);
    // Read back rather than UPDATE … RETURNING: measured slower in SQLite than the UPDATE and a lookup by key.
    const current = ctx.payments.findByPaymentId(paymentId) ?? payment;
    if (!changed) return { ok: false, reason: 'not_in_process', payment: current };
    enqueueNotification(ctx, current, now);
    return { ok: true, payment: current };
  })();
  if (outcome.ok) ctx.wakeNotifier();
  return outcome;
}

function markPaid(ctx: SandboxContext, payment: PaymentRow, shopper: TestShopper, now: number): boolean {
  const { settlementAmount, settlementQuote } = settle(
    { currency: payment.currency as PaymentCurrency, amountMinor: BigInt(payment.amount_minor) },
    payment.settlement_currency as SettlementCurrency,
    'payment',
    newQuoteId(now),
    now,
  );
  return ctx.payments.markPaid(payment.payment_id, {
    paidAt: now,
    customerId: shopper.customerId,
    walletBrand: shopper.walletBrand,
    settlementAmountMinor: Number(settlementAmount.value),
    settlementQuoteJson: JSON.stringify(settlementQuote),
  });
}

/**
 * Closes payments whose paymentExpiryTime has passed (F / ORDER_IS_CLOSED) and notifies their
 * outcome. Called before every read of payment state and by the notifier's loop, so expiry is
 * exact to the clock whether or not anyone is watching.
 */
export function expireDuePayments(ctx: SandboxContext, batch = 100): number {
  // Almost always nothing is due: one index probe, without opening a write transaction.
  if (!ctx.payments.anyDueForExpiry(ctx.clock.now())) return 0;
  const expired = ctx.db.transaction((): number => {
    const now = ctx.clock.now();
    const due = ctx.payments.findDueForExpiry(now, batch);
    for (const payment of due) {
      if (!ctx.payments.markFailed(payment.payment_id, 'ORDER_IS_CLOSED', payment.expires_at)) continue;
      enqueueNotification(ctx, ctx.payments.findByPaymentId(payment.payment_id) as PaymentRow, now);
    }
    return due.length;
  })();
  if (expired > 0) ctx.wakeNotifier();
  return expired;
}

function enqueueNotification(ctx: SandboxContext, payment: PaymentRow, now: number): void {
  if (!payment.notify_url) return;
  ctx.notifications.enqueue(payment.payment_id, payment.client_id, payment.notify_url, JSON.stringify(notificationBody(payment)), now);
}

/** The notifyPayment body for a payment in a final state (S paid, F declined or closed). */
export function notificationBody(payment: PaymentRow): NotifyPaymentRequest {
  const paid = payment.status === 'SUCCESS';
  const body: NotifyPaymentRequest = {
    paymentResult: paid ? result('SUCCESS') : result((payment.result_code ?? 'ORDER_IS_CLOSED') as ResultCode),
    paymentRequestId: payment.payment_request_id,
    paymentId: payment.payment_id,
    paymentAmount: amount(payment.currency, payment.amount_minor),
    acquirerId: SANDBOX_ACQUIRER_ID,
  };
  if (payment.wallet_brand) {
    body.pspId = payment.wallet_brand;
    body.walletBrandName = payment.wallet_brand === 'ALIPAY_HK' ? 'AlipayHK' : 'Alipay';
  }
  if (payment.customer_id) body.customerId = payment.customer_id;
  if (paid) {
    body.paymentTime = formatDateTime(payment.paid_at as number);
    body.settlementAmount = amount(payment.settlement_currency, payment.settlement_amount_minor as number);
    body.settlementQuote = JSON.parse(payment.settlement_quote_json as string);
  }
  return body;
}
