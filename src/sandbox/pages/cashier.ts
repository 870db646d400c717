import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import { CASHIER_PATH, walletOrderUrl } from '../api/links.js';
import type { SandboxContext } from '../core/context.js';
import type { PaymentRow } from '../store/payments.js';
import { html, messagePage, queryParam, SafeHtml, sendPage, type Page } from './html.js';
import { COUNTDOWN_SCRIPT, findPaymentByCode, paymentOutcome, paymentSummary, paymentView } from './payment-view.js';

/** JSON status the open cashier polls: `{ status, resultCode }`. */
export const CASHIER_STATUS_PATH = '/api/open/v1/ac/cashier/status';
/**
 * Antom advises polling every 2 s while the shopper is on the cashier. Polling ends when the
 * payment does, and a payment ends by its expiry at the latest, so the number of polls is bounded.
 */
export const CASHIER_POLL_INTERVAL_MS = 2000;
/** The QR standard's quiet zone is 4 modules; without it phones (and decoders) miss the code. */
const QR_QUIET_ZONE_MODULES = 4;

/**
 * The cashier page a WEB pay response sends the shopper to (`normalUrl`): a QR code of the code
 * value for the shopper's phone to scan, and the order; it follows the payment until it ends.
 */
export function registerCashierPage(app: FastifyInstance, ctx: SandboxContext): void {
  app.get(CASHIER_PATH, async (request, reply) => {
    const codeValue = queryParam(request.query, 'codeValue');
    if (!codeValue) return sendPage(reply, 400, messagePage('缺少付款码 Missing code', 'The cashier needs a codeValue.'));
    const payment = findPaymentByCode(ctx, codeValue);
    if (!payment) return sendPage(reply, 404, messagePage('找不到订单 Order not found', `No payment has the code ${codeValue}.`));
    return sendPage(reply, 200, await cashierPage(ctx, payment));
  });

  app.get(CASHIER_STATUS_PATH, async (request, reply) => {
    const codeValue = queryParam(request.query, 'codeValue');
    const payment = codeValue ? findPaymentByCode(ctx, codeValue) : undefined;
    reply.header('cache-control', 'no-store');
    if (!payment) return reply.code(codeValue ? 404 : 400).send({ error: { code: codeValue ? 'not_found' : 'missing_code_value', message: 'no payment with that codeValue' } });
    return { status: payment.status, resultCode: payment.result_code };
  });
}

async function cashierPage(ctx: SandboxContext, payment: PaymentRow): Promise<Page> {
  const summary = paymentSummary(payment, ctx.clock.now());
  if (paymentView(payment) !== 'awaiting') {
    return { title: '收银台 Cashier', body: html`${summary}${paymentOutcome(payment)}` };
  }
  const code = payment.code_value;
  const statusUrl = `${CASHIER_STATUS_PATH}?codeValue=${encodeURIComponent(code)}`;
  const body = html`${summary}
<section class="card qr" id="cashier" data-status-url="${statusUrl}" data-poll-ms="${CASHIER_POLL_INTERVAL_MS}">
  <div class="qr-code" id="qr-code" data-testid="qr-code" role="img" aria-label="QR code / 付款码">${await qrSvg(code)}</div>
  <p class="hint">打开支付宝 [扫一扫] 付款<br>Scan with Alipay to pay</p>
  <p><a class="link" data-testid="open-in-wallet" href="${walletOrderUrl('', code)}">在沙箱钱包中打开 Open in sandbox wallet</a></p>
  <p class="code-text" data-testid="code-value">${code}</p>
</section>`;
  return { title: '收银台 Cashier', body, script: `${COUNTDOWN_SCRIPT}\n${POLL_SCRIPT}` };
}

/** The QR code as inline SVG: crisp at any size, and it needs no second request. */
async function qrSvg(codeValue: string): Promise<SafeHtml> {
  const svg = await QRCode.toString(codeValue, { type: 'svg', errorCorrectionLevel: 'M', margin: QR_QUIET_ZONE_MODULES, color: { dark: '#000000', light: '#ffffff' } });
  return new SafeHtml(svg);
}

/**
 * Polls the status endpoint and reloads once the payment is no longer in process, so the paid /
 * expired / closed state comes from the same server rendering as a fresh visit. The countdown
 * reaching zero polls at once, since that is when the payment closes.
 */
const POLL_SCRIPT = `(function () {
  var root = document.getElementById('cashier');
  if (!root) return;
  var statusUrl = root.getAttribute('data-status-url');
  var interval = Number(root.getAttribute('data-poll-ms'));
  var timer;
  function later() { clearTimeout(timer); timer = setTimeout(poll, interval); }
  function poll() {
    clearTimeout(timer);
    fetch(statusUrl, { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state && state.status !== 'PROCESSING') location.reload(); else later(); })
      .catch(later);
  }
  document.addEventListener('payment-expired', poll);
  later();
})();`;
