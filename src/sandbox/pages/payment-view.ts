import { formatDateTime } from '../../alipayplus/index.js';
import type { SandboxContext } from '../core/context.js';
import { expireDuePayments } from '../core/outcomes.js';
import type { PaymentRow } from '../store/payments.js';
import { html, safeHttpUrl, type SafeHtml } from './html.js';

/**
 * What the cashier and the wallet show about one payment: its summary (merchant, amount,
 * description, countdown) and, once it is no longer waiting for the shopper, its outcome.
 */
export type PaymentView = 'awaiting' | 'paid' | 'expired' | 'failed' | 'closed';

export function paymentView(payment: PaymentRow): PaymentView {
  switch (payment.status) {
    case 'PROCESSING':
      return 'awaiting';
    case 'SUCCESS':
      return 'paid';
    case 'FAIL':
      // Expiry closes a payment with ORDER_IS_CLOSED; every other F code is a shopper-side decline.
      return payment.result_code === 'ORDER_IS_CLOSED' ? 'expired' : 'failed';
    case 'CANCELLED':
      return 'closed';
  }
}

/** Looks a payment up by its code value after closing any that are due, so a page never shows a stale "awaiting". */
export function findPaymentByCode(ctx: SandboxContext, codeValue: string): PaymentRow | undefined {
  expireDuePayments(ctx);
  return ctx.payments.findByCodeValue(codeValue);
}

/** Every sandbox currency has two minor-unit digits (domain/currencies.ts), so one divisor serves all. */
const MINOR_UNITS_PER_MAJOR = 100n;

/** Formats an amount in minor units with integer arithmetic only: `("CNY", 20)` → `"CNY 0.20"`. */
export function formatAmount(currency: string, amountMinor: number | bigint): string {
  const minor = BigInt(amountMinor);
  const major = (minor / MINOR_UNITS_PER_MAJOR).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = (minor % MINOR_UNITS_PER_MAJOR).toString().padStart(2, '0');
  return `${currency} ${major}.${fraction}`;
}

/** Time left as `mm:ss` (`h:mm:ss` beyond an hour), rounded up so 00:00 means expired. Mirrors COUNTDOWN_SCRIPT. */
export function formatRemaining(remainingMs: number): string {
  const seconds = Math.max(0, Math.ceil(remainingMs / 1000));
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${hours ? `${hours}:${pad(minutes)}` : pad(minutes)}:${pad(seconds % 60)}`;
}

/** Alipay+ time (UTC+8) in a readable form: `2026-11-26 12:15:00 +08:00`. */
function displayTime(epochMs: number): string {
  return formatDateTime(epochMs).replace('T', ' ').replace(/([+-]\d{2}:\d{2})$/, ' $1');
}

export function paymentSummary(payment: PaymentRow, nowMs: number): SafeHtml {
  const [currency, value] = formatAmount(payment.currency, payment.amount_minor).split(' ');
  const awaiting = paymentView(payment) === 'awaiting';
  const remainingMs = Math.max(0, payment.expires_at - nowMs);
  return html`<section class="card summary">
  <p class="merchant" data-testid="merchant">${payment.merchant_name}</p>
  <p class="amount" data-testid="amount"><span class="currency">${currency}</span> ${value}</p>
  <p class="description" data-testid="description">${payment.order_description}</p>
  <dl class="facts">
    <dt>订单号 Order</dt><dd>${payment.reference_order_id}</dd>
    ${awaiting && html`<dt>剩余时间 Time left</dt><dd><span class="countdown" id="countdown" data-testid="countdown" data-remaining-ms="${remainingMs}">${formatRemaining(remainingMs)}</span></dd>`}
    <dt>有效期至 Expires</dt><dd>${displayTime(payment.expires_at)}</dd>
  </dl>
</section>`;
}

/** Reasons shown next to the F result codes a test shopper can end with. */
const FAILURE_REASONS: Record<string, string> = {
  USER_BALANCE_NOT_ENOUGH: '余额不足 Not enough balance',
  RISK_REJECT: '风控拒绝 Refused by risk control',
  PROCESS_FAIL: '用户已拒绝 Declined in the wallet',
  USER_AMOUNT_EXCEED_LIMIT: '超出用户限额 Over the shopper’s limit',
  PAYMENT_AMOUNT_EXCEED_LIMIT: '超出支付限额 Over the payment limit',
};

/** The outcome of a payment that no longer waits for the shopper, with the way back to the merchant. */
export function paymentOutcome(payment: PaymentRow): SafeHtml {
  const view = paymentView(payment);
  const back = safeHttpUrl(payment.redirect_url);
  const backLink = back && html`<p><a class="button button-primary" data-testid="return-to-merchant" href="${back}">返回商户 Return to merchant</a></p>`;
  return html`<section class="card state state-${view}" data-testid="outcome" data-state="${view}">${outcomeText(payment, view)}${backLink}</section>`;
}

function outcomeText(payment: PaymentRow, view: PaymentView): SafeHtml {
  switch (view) {
    case 'awaiting':
      return html`<div class="icon">…</div><h2>等待付款 Awaiting payment</h2>`;
    case 'paid':
      return html`<div class="icon">✓</div><h2>支付成功 Paid</h2><p>Payment successful · ${displayTime(payment.paid_at ?? payment.created_at)}</p>`;
    case 'expired':
      return html`<div class="icon">!</div><h2>已过期 Expired</h2><p>订单已超时关闭 This order expired and can no longer be paid.</p>`;
    case 'failed': {
      const code = payment.result_code ?? 'PROCESS_FAIL';
      return html`<div class="icon">✕</div><h2>支付失败 Payment failed: <span class="result-code">${code}</span></h2><p>${FAILURE_REASONS[code] ?? code}</p>`;
    }
    case 'closed':
      return html`<div class="icon">✕</div><h2>已关闭 Closed</h2><p>商户已关闭订单 The merchant closed this order.</p>`;
  }
}

/**
 * Runs the countdown of `#countdown` from the time left when the page was rendered (the server's
 * clock, which tests inject, not the browser's), then fires `payment-expired`.
 */
export const COUNTDOWN_SCRIPT = `(function () {
  var el = document.getElementById('countdown');
  if (!el) return;
  var end = performance.now() + Number(el.getAttribute('data-remaining-ms'));
  function pad(n) { return String(n).padStart(2, '0'); }
  function show(s) { var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60); return (h ? h + ':' + pad(m) : pad(m)) + ':' + pad(s % 60); }
  var timer = setInterval(tick, 250);
  function tick() {
    var left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
    el.textContent = show(left);
    if (left === 0) { clearInterval(timer); document.dispatchEvent(new CustomEvent('payment-expired')); }
  }
  tick();
})();`;
