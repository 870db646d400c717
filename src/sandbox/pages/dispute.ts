import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DISPUTE_REASON_CODES } from '../../alipayplus/index.js';
import { walletOrderUrl } from '../api/links.js';
import type { SandboxContext } from '../core/context.js';
import { expireDueDisputes, openDispute } from '../core/disputes.js';
import type { DisputeState } from '../domain/dispute-rules.js';
import type { DisputeRow } from '../store/disputes.js';
import type { NotificationSendRow } from '../store/notifications.js';
import type { PaymentRow } from '../store/payments.js';
import { html, messagePage, sendPage, type Page, type SafeHtml } from './html.js';
import { findPaymentByCode, formatAmount, paymentSummary } from './payment-view.js';

export const WALLET_DISPUTE_PATH = '/wallet/dispute';
const DISPUTE_FORM_BYTES_MAX = 4096;
const REASON_MESSAGE_CHARS_MAX = 256;
/** A dispute form is good for an hour after the order page that carried it was shown. */
const FORM_TOKEN_TTL_MS = 60 * 60 * 1000;

/** What the shopper picks from, in the wallet's two languages. */
const REASON_LABELS: Record<(typeof DISPUTE_REASON_CODES)[number], string> = {
  TRANSACTION_INFORMATION_REQUEST: '想了解这笔交易 I want information about this payment',
  UNAUTHORIZED_TRANSACTION: '不是我本人操作 I did not make this payment',
  FRAUD: '遭遇欺诈 Fraud',
  GOODS_NOT_RECEIVED: '未收到商品 I did not receive the goods',
  GOODS_NOT_AS_DESCRIBED: '商品与描述不符 Not as described',
  DUPLICATE_TRANSACTION: '重复扣款 Charged twice',
  REFUND_NOT_PROCESSED: '退款未到账 Refund never arrived',
  UNRECOGNIZED_TRANSACTION: '不认识这笔交易 I do not recognise this payment',
  INCORRECT_AMOUNT: '金额不对 Wrong amount',
};

const STATE_LABELS: Record<DisputeState, string> = {
  OPEN: '处理中 Open',
  RESPONDED: '商户已回应 Merchant responded',
  CLOSED: '已结束 Closed',
  WON: '商户胜诉 Decided for the merchant',
  LOST: '已支持退款 Decided for you',
  ACCEPTED: '商户同意退款 Merchant accepted',
  EXPIRED: '商户未回应 Merchant did not respond',
  REJECTED: '收单机构拒绝 Refused by the acquirer',
};

/**
 * Per-page form tokens for the wallet's dispute form: an HMAC of the code value and the time the
 * page was shown, under a secret only this sandbox process knows. A form posted from elsewhere
 * has no valid token (and a cross-site browser POST carries a foreign Origin, refused too).
 */
export class DisputeFormTokens {
  private readonly secret = randomBytes(32);

  constructor(private readonly now: () => number) {}

  issue(codeValue: string): string {
    const issuedAt = String(this.now());
    return `${issuedAt}.${this.mac(codeValue, issuedAt)}`;
  }

  verify(codeValue: string, token: string | null): boolean {
    const [issuedAt, mac] = (token ?? '').split('.');
    if (!issuedAt || !mac || !/^\d{1,16}$/.test(issuedAt)) return false;
    const age = this.now() - Number(issuedAt);
    if (age < 0 || age > FORM_TOKEN_TTL_MS) return false;
    const expected = Buffer.from(this.mac(codeValue, issuedAt));
    const given = Buffer.from(mac);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private mac(codeValue: string, issuedAt: string): string {
    return createHmac('sha256', this.secret).update(`${codeValue}\n${issuedAt}`).digest('base64url');
  }
}

/** The "Dispute this payment" part of a paid order: the disputes so far, and the form. */
export function disputeSection(ctx: SandboxContext, payment: PaymentRow, tokens: DisputeFormTokens): SafeHtml {
  // States are exact to the clock: one past its deadline shows as EXPIRED.
  expireDueDisputes(ctx);
  const disputes = ctx.disputes.listByPaymentId(payment.payment_id);
  const reasons = DISPUTE_REASON_CODES.map((code) => html`<option value="${code}">${REASON_LABELS[code]}</option>`);
  return html`<section class="card" data-testid="dispute-section">
  <h2 class="section-title">申请争议 Dispute this payment</h2>
  ${disputes.length > 0 && html`<ul class="disputes" data-testid="disputes">${disputes.map((dispute) => disputeItem(dispute))}</ul>`}
  <form method="post" action="${WALLET_DISPUTE_PATH}" class="stack" data-testid="dispute-form">
    <input type="hidden" name="codeValue" value="${payment.code_value}">
    <input type="hidden" name="token" value="${tokens.issue(payment.code_value)}">
    <fieldset class="choices">
      <legend>您想要 What would you like?</legend>
      <label class="choice"><input type="radio" name="type" value="retrieval" checked> <span>询问交易信息 Ask for information</span></label>
      <label class="choice"><input type="radio" name="type" value="escalation"> <span>要求退款 Ask for my money back</span></label>
    </fieldset>
    <label class="field" for="dispute-reason">原因 Reason</label>
    <select id="dispute-reason" name="reasonCode" data-testid="dispute-reason">${reasons}</select>
    <label class="field" for="dispute-message">说明（选填） Details <small>(optional)</small></label>
    <textarea id="dispute-message" name="reasonMessage" rows="3" maxlength="${REASON_MESSAGE_CHARS_MAX}"></textarea>
    <button type="submit" class="button button-secondary" data-testid="dispute-submit">提交争议 Submit dispute</button>
  </form>
</section>`;
}

function disputeItem(dispute: DisputeRow): SafeHtml {
  const kind = dispute.type === 'RETRIEVAL' ? '信息请求 Information request' : `退款申请 Refund request · ${formatAmount(dispute.currency, dispute.amount_minor as number)}`;
  return html`<li data-testid="dispute-item" data-state="${dispute.state}"><span>${kind}</span> <span class="badge">${STATE_LABELS[dispute.state]}</span></li>`;
}

/** Registers the dispute form's POST: validates it, opens the dispute as the control API does, shows the outcome. */
export function registerDisputeForm(app: FastifyInstance, ctx: SandboxContext, tokens: DisputeFormTokens): void {
  app.post(WALLET_DISPUTE_PATH, async (request, reply) => submitDispute(ctx, tokens, request, reply));
}

async function submitDispute(ctx: SandboxContext, tokens: DisputeFormTokens, request: FastifyRequest, reply: FastifyReply) {
  const raw = typeof request.body === 'string' ? request.body : '';
  if (raw.length > DISPUTE_FORM_BYTES_MAX) return sendPage(reply, 413, messagePage('表单过大 Form too large', `A dispute form is at most ${DISPUTE_FORM_BYTES_MAX} bytes.`));
  if (!sameOrigin(request)) return sendPage(reply, 403, messagePage('请求来源无效 Forbidden', 'The dispute form must be sent from the wallet page itself.'));
  const form = new URLSearchParams(raw);
  const codeValue = form.get('codeValue') ?? '';
  const back = html`<a class="link" href="${walletOrderUrl('', codeValue)}">返回订单 Back to the order</a>`;
  if (!tokens.verify(codeValue, form.get('token'))) {
    return sendPage(reply, 403, messagePage('页面已过期 Page expired', 'This form is no longer valid: open the order again and resend it.', back));
  }
  const payment = findPaymentByCode(ctx, codeValue);
  if (!payment) return sendPage(reply, 404, messagePage('找不到订单 Order not found', `No payment has the code ${codeValue}.`));
  const type = form.get('type');
  const reasonCode = form.get('reasonCode') ?? '';
  const reasonMessage = (form.get('reasonMessage') ?? '').trim();
  if (type !== 'retrieval' && type !== 'escalation') return sendPage(reply, 400, messagePage('无效类型 Invalid type', 'type must be retrieval or escalation.', back));
  if (!(DISPUTE_REASON_CODES as readonly string[]).includes(reasonCode)) return sendPage(reply, 400, messagePage('无效原因 Invalid reason', 'Pick one of the listed reasons.', back));
  if (reasonMessage.length > REASON_MESSAGE_CHARS_MAX) {
    return sendPage(reply, 400, messagePage('说明过长 Details too long', `Details are at most ${REASON_MESSAGE_CHARS_MAX} characters.`, back));
  }
  // An escalation disputes everything that can still be disputed (no amount: the default).
  const change = openDispute(ctx, {
    paymentId: payment.payment_id,
    type: type === 'retrieval' ? 'RETRIEVAL' : 'ESCALATION',
    reasonCode,
    ...(reasonMessage ? { reasonMessage } : {}),
  });
  if (!change.ok) return sendPage(reply, change.status, messagePage(`无法申请争议 Cannot dispute: ${change.code}`, change.message, back));
  if (change.notificationId !== null) await ctx.deliverNow(change.notificationId);
  const dispute = ctx.disputes.findById(change.dispute.dispute_id) as DisputeRow;
  const sends = ctx.notifications.listDisputeSends(dispute.dispute_id);
  return sendPage(reply, 201, disputeResultPage(ctx, payment, dispute, sends, back));
}

/** A browser's form POST names its origin; one from another site is refused (a missing header is allowed: curl, old browsers). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

function disputeResultPage(ctx: SandboxContext, payment: PaymentRow, dispute: DisputeRow, sends: NotificationSendRow[], back: SafeHtml): Page {
  const delivered = sends.some((send) => send.ack_status === 'S');
  const amountText = dispute.amount_minor === null ? null : formatAmount(dispute.currency, dispute.amount_minor);
  const delivery = delivered
    ? '已送达收单机构 Delivered to the merchant’s acquirer'
    : dispute.state === 'REJECTED'
      ? `收单机构拒绝 Refused by the acquirer: ${dispute.rejected_code ?? ''}`
      : '尚未送达，稍后重试 Not delivered yet; it will be retried';
  const body = html`${paymentSummary(payment, ctx.clock.now())}
<section class="card dispute-result" data-testid="dispute-result" data-state="${dispute.state}" data-type="${dispute.type}">
  <h2>争议已提交 Dispute submitted</h2>
  <dl class="facts">
    <dt>争议号 Dispute</dt><dd data-testid="dispute-id">${dispute.dispute_id}</dd>
    <dt>类型 Type</dt><dd>${dispute.type === 'RETRIEVAL' ? '询问交易信息 Information request' : '要求退款 Refund request'}</dd>
    ${amountText && html`<dt>金额 Amount</dt><dd data-testid="dispute-amount">${amountText}</dd>`}
    <dt>原因 Reason</dt><dd>${REASON_LABELS[dispute.reason_code as keyof typeof REASON_LABELS] ?? dispute.reason_code}</dd>
    ${dispute.reason_message && html`<dt>说明 Details</dt><dd data-testid="dispute-message">${dispute.reason_message}</dd>`}
    <dt>状态 Status</dt><dd data-testid="dispute-state">${STATE_LABELS[dispute.state]}</dd>
    <dt>送达 Delivery</dt><dd data-testid="dispute-delivery">${delivery}</dd>
  </dl>
  <p>${back}</p>
</section>`;
  return { title: '争议已提交 Dispute submitted', body };
}
