import type { FastifyInstance, FastifyReply } from 'fastify';
import { APP_LAUNCHER_PATH, codeValueFromLink, WALLET_ORDER_PATH, walletOrderUrl } from '../api/links.js';
import type { SandboxContext } from '../core/context.js';
import { actInWallet, type WalletActionResult } from '../core/wallet.js';
import { TEST_SHOPPERS, type TestShopper } from '../domain/shoppers.js';
import type { PaymentRow } from '../store/payments.js';
import { DisputeFormTokens, disputeSection, registerDisputeForm } from './dispute.js';
import { html, messagePage, queryParam, safeHttpUrl, sendPage, type Page } from './html.js';
import { COUNTDOWN_SCRIPT, findPaymentByCode, paymentOutcome, paymentSummary, paymentView } from './payment-view.js';

export const WALLET_HOME_PATH = '/wallet';
export const WALLET_OPEN_PATH = '/wallet/open';
/** Form fields are short; anything longer is not a wallet form and is refused before parsing. */
const WALLET_FORM_BYTES_MAX = 4096;

/**
 * The shopper's phone: open a code or an app link, see the order, choose a test shopper and
 * press Pay or Decline — the same `actInWallet` the control API uses — then go back to the
 * merchant's `paymentRedirectUrl`.
 */
export function registerWalletPages(app: FastifyInstance, ctx: SandboxContext): void {
  const disputeTokens = new DisputeFormTokens(() => Date.now());
  app.get(WALLET_HOME_PATH, async (_request, reply) => sendPage(reply, 200, openLinkPage()));

  app.get(WALLET_OPEN_PATH, async (request, reply) => {
    const link = queryParam(request.query, 'link') ?? '';
    return openCode(reply, codeValueFromLink(link), link, '这不是付款码或支付宝链接 Not a payment code or Alipay link');
  });

  // The applinkUrl of a WAP/APP payment: on a phone it would start the Alipay app with the scheme URL.
  app.get(APP_LAUNCHER_PATH, async (request, reply) => {
    const scheme = queryParam(request.query, 'scheme') ?? '';
    return openCode(reply, codeValueFromLink(scheme), scheme, '这不是支付宝 App 链接 Not an Alipay app link');
  });

  app.get(WALLET_ORDER_PATH, async (request, reply) => {
    const codeValue = queryParam(request.query, 'codeValue');
    const payment = codeValue ? findPaymentByCode(ctx, codeValue) : undefined;
    if (!payment) return sendPage(reply, codeValue ? 404 : 400, orderNotFoundPage(codeValue));
    return sendPage(reply, 200, orderPage(ctx, payment, disputeTokens));
  });

  app.post(WALLET_ORDER_PATH, async (request, reply) => submitOrder(ctx, request.body, reply, disputeTokens));
  registerDisputeForm(app, ctx, disputeTokens);
}

function openCode(reply: FastifyReply, codeValue: string | null, input: string, problem: string) {
  if (!codeValue) return sendPage(reply, 400, openLinkPage(input, problem));
  return reply.redirect(walletOrderUrl('', codeValue), 303);
}

/**
 * Pay or Decline. A payment the shopper completed goes straight back to the merchant, as the
 * real wallet does; a decline (the shopper's own, or their balance or risk check) shows why.
 */
async function submitOrder(ctx: SandboxContext, body: unknown, reply: FastifyReply, disputeTokens: DisputeFormTokens) {
  // The sandbox reads every body as a raw string (protocol signatures need the exact bytes).
  const raw = typeof body === 'string' ? body : '';
  if (raw.length > WALLET_FORM_BYTES_MAX) return sendPage(reply, 413, messagePage('表单过大 Form too large', `A wallet form is at most ${WALLET_FORM_BYTES_MAX} bytes.`));
  const form = new URLSearchParams(raw);
  const codeValue = form.get('codeValue');
  const action = form.get('action');
  if (!codeValue) return sendPage(reply, 400, messagePage('缺少付款码 Missing code', 'The form needs a codeValue.'));
  if (action !== 'pay' && action !== 'decline') return sendPage(reply, 400, messagePage('无效操作 Invalid action', 'action must be pay or decline.'));
  const outcome = actInWallet(ctx, { codeValue, outcome: action === 'pay' ? 'success' : 'decline', shopperId: form.get('shopper') ?? undefined });
  if (!outcome.ok) return sendActionError(ctx, reply, outcome, codeValue, disputeTokens);
  const back = safeHttpUrl(outcome.redirectUrl);
  if (outcome.payment.status === 'SUCCESS' && back) return reply.redirect(back, 303);
  const title = outcome.payment.status === 'SUCCESS' ? '支付成功 Payment successful' : '支付失败 Payment failed';
  return sendPage(reply, 200, { title, body: html`${paymentSummary(outcome.payment, ctx.clock.now())}${paymentOutcome(outcome.payment)}` });
}

function sendActionError(ctx: SandboxContext, reply: FastifyReply, outcome: Extract<WalletActionResult, { ok: false }>, codeValue: string, disputeTokens: DisputeFormTokens) {
  switch (outcome.error) {
    case 'payment_not_found':
      return sendPage(reply, 404, orderNotFoundPage(codeValue));
    case 'shopper_not_found':
      return sendPage(reply, 400, messagePage('未知测试用户 Unknown test shopper', outcome.message, backToOrder(codeValue)));
    case 'invalid_result_code':
      return sendPage(reply, 400, messagePage('无效结果码 Invalid result code', outcome.message, backToOrder(codeValue)));
    case 'payment_not_in_process': {
      // Pressed twice, or the order ended meanwhile (expired, closed): show where it stands.
      const page = outcome.payment ? orderPage(ctx, outcome.payment, disputeTokens) : messagePage('订单已结束 Order no longer open', outcome.message);
      return sendPage(reply, 409, page);
    }
  }
}

function backToOrder(codeValue: string) {
  return html`<a class="link" href="${walletOrderUrl('', codeValue)}">返回订单 Back to the order</a>`;
}

function orderNotFoundPage(codeValue: string | undefined): Page {
  return codeValue ? messagePage('找不到订单 Order not found', `No payment has the code ${codeValue}.`) : messagePage('缺少付款码 Missing code', 'The wallet order page needs a codeValue.');
}

function orderPage(ctx: SandboxContext, payment: PaymentRow, disputeTokens: DisputeFormTokens): Page {
  const summary = paymentSummary(payment, ctx.clock.now());
  const view = paymentView(payment);
  // A shopper may dispute a paid payment, as in the real wallet.
  if (view === 'paid') return { title: '订单 Order', body: html`${summary}${paymentOutcome(payment)}${disputeSection(ctx, payment, disputeTokens)}` };
  if (view !== 'awaiting') return { title: '订单 Order', body: html`${summary}${paymentOutcome(payment)}` };
  return { title: '确认付款 Confirm payment', body: html`${summary}${payForm(payment)}`, script: `${COUNTDOWN_SCRIPT}\n${RELOAD_ON_EXPIRY_SCRIPT}` };
}

function payForm(payment: PaymentRow) {
  return html`<form class="card" method="post" action="${WALLET_ORDER_PATH}" data-testid="pay-form">
  <input type="hidden" name="codeValue" value="${payment.code_value}">
  <fieldset class="shoppers">
    <legend>选择测试用户 Choose a test shopper</legend>
    ${TEST_SHOPPERS.map((shopper, index) => shopperOption(shopper, index === 0))}
  </fieldset>
  <div class="actions">
    <button type="submit" class="button button-primary" name="action" value="pay" data-testid="pay">Pay 付款</button>
    <button type="submit" class="button button-secondary" name="action" value="decline" data-testid="decline">Decline 拒绝</button>
  </div>
</form>`;
}

/** What pressing Pay does for each kind of test shopper, in Chinese. */
function shopperOutcomeZh(shopper: TestShopper): string {
  switch (shopper.declineCode) {
    case null:
      return '付款成功';
    case 'USER_BALANCE_NOT_ENOUGH':
      return '余额不足';
    case 'RISK_REJECT':
      return '风控拒绝';
    default:
      return '被拒绝';
  }
}

function shopperOption(shopper: TestShopper, checked: boolean) {
  return html`<label class="shopper">
  <input type="radio" name="shopper" value="${shopper.id}"${checked ? html` checked` : ''}>
  <span><span class="who">${shopper.name}</span><span class="badge">${shopper.walletBrandName}</span>
  <span class="what"><br>${shopperOutcomeZh(shopper)} ${shopper.description}</span>
  <span class="code-text"><br>${shopper.declineCode ? `${shopper.declineCode} · ` : ''}${shopper.customerId}</span></span>
</label>`;
}

/** Once the countdown ends the order has closed: reload so the page shows it (and no Pay button). */
const RELOAD_ON_EXPIRY_SCRIPT = `document.addEventListener('payment-expired', function () { setTimeout(function () { location.reload(); }, 1000); });`;

function openLinkPage(input = '', problem?: string): Page {
  const body = html`<section class="card">
  <h1>打开付款码或链接 Open a code or link</h1>
  ${problem && html`<p class="error" role="alert" data-testid="error">${problem}</p>`}
  <form method="get" action="${WALLET_OPEN_PATH}" class="stack">
    <label class="field" for="link">付款码、收银台链接、App 链接或 alipays:// 链接<br><small>Code value, cashier or wallet URL, app link or alipays:// URL</small></label>
    <input type="text" id="link" name="link" value="${input}" autocomplete="off" autocapitalize="off" spellcheck="false" required>
    <button type="submit" class="button button-primary" data-testid="open">打开 Open</button>
  </form>
  <p class="hint">This page plays the shopper's phone: it does what scanning the cashier's QR code or tapping an app link would do.</p>
</section>`;
  return { title: '沙箱钱包 Sandbox wallet', body };
}
