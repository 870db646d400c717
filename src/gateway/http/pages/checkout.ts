import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import type { ApiKeyAuthenticator } from '../../core/accounts.js';
import { liveAttemptOf, loadCheckoutPage, preparePagePayment } from '../../core/checkout_sessions.js';
import type { CheckoutPageState, PagePayment } from '../../core/checkout_sessions.js';
import { browserHref, pageLanguage, shopperDevice, successRedirect } from '../../domain/checkout_sessions.js';
import type { PageLanguage } from '../../domain/checkout_sessions.js';
import { currencyInfo } from '../../domain/money.js';
import type { Scope } from '../../store/scope.js';
import { routeAuth } from '../context.js';
import { html, queryParam, SafeHtml, sendPage } from './html.js';
import type { Page } from './html.js';
import { TEXT } from './text.js';
import type { PageText } from './text.js';

export const PAY_PATH_PREFIX = '/pay/';
/** The page polls the session every 2 s (Antom's advice while the shopper is on the cashier). */
export const PAGE_POLL_INTERVAL_MS = 2000;
/** The QR standard's quiet zone is 4 modules; without it phones (and decoders) miss the code. */
const QR_QUIET_ZONE_MODULES = 4;

/**
 * The hosted checkout page (api.md §6): `GET /pay/:id?key=<publishable key>` and the JSON status
 * it polls, `GET /pay/:id/status?key=…`. The key decides the account and mode, as on the API.
 */
export function registerCheckoutPages(app: FastifyInstance, authenticator: ApiKeyAuthenticator): void {
  const core = app.core;
  // The page checks its own publishable key (`?key=`), since a browser cannot send a header.
  app.get(`${PAY_PATH_PREFIX}:id`, routeAuth('none'), async (req, reply) => {
    const lang = languageOf(req, null);
    const access = await authorize(req, authenticator);
    if (access.kind !== 'ok') return sendPage(reply, access.status, messagePage(lang, 'keyTitle', access.kind === 'missing' ? 'keyMissing' : 'keyInvalid'));
    const page = await loadCheckoutPage(core, access.scope, access.id);
    if (page === null) return sendPage(reply, 404, messagePage(lang, 'notFoundTitle', 'notFoundText'));
    return renderSession(req, reply, page, access.key);
  });

  app.get(`${PAY_PATH_PREFIX}:id/status`, routeAuth('none'), async (req, reply) => {
    void reply.header('cache-control', 'no-store');
    const access = await authorize(req, authenticator);
    if (access.kind !== 'ok') return reply.code(access.status).send({ error: { type: 'invalid_request_error', message: 'a valid publishable key is required' } });
    const page = await loadCheckoutPage(core, access.scope, access.id);
    if (page === null) return reply.code(404).send({ error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such checkout.session: '${access.id}'` } });
    const { session, intent } = page;
    return {
      status: session.status,
      payment_status: session.payment_status,
      payment_intent_status: intent.status,
      payment_failed: intent.status === 'requires_payment_method' && intent.last_payment_error !== null,
      // The attempt awaiting the shopper: a page showing another one was replaced by another device.
      attempt: intent.status === 'requires_action' ? ((await liveAttemptOf(core.database.db, intent.id))?.id ?? null) : null,
      success_url: session.status === 'complete' ? successRedirect(session.success_url, session.id) : null,
    };
  });
}

type Access = { kind: 'ok'; scope: Scope; id: string; key: string } | { kind: 'missing' | 'invalid'; status: number };

/** Only publishable keys open pages: a secret key in a URL would be a leak, so it is refused too. */
async function authorize(req: FastifyRequest, authenticator: ApiKeyAuthenticator): Promise<Access> {
  const key = queryParam(req.query, 'key');
  const id = (req.params as { id: string }).id;
  if (key === undefined) return { kind: 'missing', status: 401 };
  const auth = key.startsWith('pk_') ? await authenticator.authenticate(key) : null;
  if (auth === null || auth.kind !== 'publishable') return { kind: 'invalid', status: 403 };
  return { kind: 'ok', scope: { accountId: auth.accountId, livemode: auth.livemode }, id, key };
}

function languageOf(req: FastifyRequest, sessionLocale: string | null): PageLanguage {
  return pageLanguage(queryParam(req.query, 'lang'), sessionLocale, req.headers['accept-language']);
}

/** The page's own URL with the given language (and nothing else: no retry flag). */
function pageUrl(id: string, key: string, lang?: PageLanguage): string {
  return `${PAY_PATH_PREFIX}${id}?key=${encodeURIComponent(key)}${lang ? `&lang=${lang}` : ''}`;
}

async function renderSession(req: FastifyRequest, reply: FastifyReply, page: CheckoutPageState, key: string): Promise<FastifyReply> {
  const { session } = page;
  const lang = languageOf(req, session.locale);
  const t = TEXT[lang];
  const header = languageSwitch(session.id, key, lang);
  if (session.status === 'complete') {
    const success = successRedirect(session.success_url, session.id);
    // Back from the wallet (the return handler adds redirect_status): straight on to the merchant.
    if (queryParam(req.query, 'redirect_status') !== undefined) return reply.redirect(success, 303);
    return sendPage(reply, 200, statePage(lang, header, page, 'complete', t.completeTitle, t.completeText, success));
  }
  if (session.status === 'expired') {
    const back = session.cancel_url === null ? null : browserHref(session.cancel_url);
    return sendPage(reply, 200, statePage(lang, header, page, 'expired', t.expiredTitle, t.expiredText, back));
  }
  const device = shopperDevice(req.headers['user-agent']);
  const payment = await preparePagePayment(reply.server.core, page, {
    terminalType: device.terminal,
    osType: device.terminal === 'WAP' ? device.os : null,
    clientIp: req.ip,
    returnUrl: session.url,
    retry: queryParam(req.query, 'retry') !== undefined,
  });
  if (payment.kind === 'closed') {
    // Paid (or expired) while this load looked, e.g. a payment found by a device switch's inquiry: show that now.
    const fresh = await loadCheckoutPage(reply.server.core, { accountId: session.account_id, livemode: session.livemode === 1 }, session.id);
    if (fresh !== null && fresh.session.status !== 'open') return renderSession(req, reply, fresh, key);
  }
  const panel = await paymentPanel(payment, t, session.id, key, lang);
  const cancel = session.cancel_url === null ? '' : html`<a class="cancel" data-testid="cancel" href="${browserHref(session.cancel_url)}">${t.cancel}</a>`;
  const body = html`${summary(page, t)}
<section class="card pay" id="checkout" data-testid="payment" data-state="${payment.kind}" data-status-url="${`${PAY_PATH_PREFIX}${session.id}/status?key=${encodeURIComponent(key)}`}" data-page-url="${pageUrl(session.id, key, lang)}" data-poll-ms="${PAGE_POLL_INTERVAL_MS}" data-attempt="${payment.kind === 'awaiting_shopper' ? (payment.attemptId ?? '') : ''}">
<div id="panel">${panel}</div>${movedNotice(t, session.id, key, lang)}${cancel}
</section>`;
  return sendPage(reply, 200, { title: `${t.title} · ${page.merchantName ?? ''}`, lang, header, body, script: `${COUNTDOWN_SCRIPT}\n${POLL_SCRIPT}` });
}

async function paymentPanel(payment: PagePayment, t: PageText, id: string, key: string, lang: PageLanguage): Promise<SafeHtml> {
  switch (payment.kind) {
    case 'awaiting_shopper': {
      const redirect = (JSON.parse(payment.intent.next_action ?? 'null') as NextAction | null)?.alipay_handle_redirect;
      if (!redirect) return html`<p>${t.processing}</p>`;
      const expiresAt = redirect.qr_code?.expires_at ?? null;
      const countdown = expiresAt === null ? '' : html`<p class="hint">${t.timeLeft} <span class="countdown" id="countdown" data-testid="countdown" data-expires-at="${expiresAt}">--:--</span></p>`;
      if (redirect.qr_code) {
        return html`<div class="qr-code" data-testid="qr-code" role="img" aria-label="${t.scan}">${await qrSvg(redirect.qr_code.data)}</div>
<p class="hint" data-testid="scan-hint">${t.scan}</p>${countdown}`;
      }
      return html`<a class="button button-primary" data-testid="open-alipay" href="${redirect.native_url ?? redirect.url}">${t.openApp}</a>
<p class="hint">${t.openAppHint}</p>`;
    }
    case 'processing':
    case 'closed':
      return html`<p data-testid="processing"><strong>${t.processing}</strong></p><p class="hint">${t.processingHint}</p>`;
    case 'failed': {
      const error = JSON.parse(payment.intent.last_payment_error ?? 'null') as { message?: string; decline_code?: string } | null;
      const reason = [error?.decline_code, error?.message].filter(Boolean).join(': ');
      return html`<p class="error" role="alert" data-testid="payment-failed"><strong>${t.failed}</strong><br>${reason}</p>
<a class="button button-primary" data-testid="retry" href="${`${pageUrl(id, key, lang)}&retry=1`}">${t.retry}</a>`;
    }
  }
}

/**
 * Shown instead of the QR code or app link once the shopper opened the page on another device,
 * which replaced this page's attempt. The page does not take the payment back by itself (two open
 * pages would replace each other's attempt forever); the shopper may, by choosing to.
 */
function movedNotice(t: PageText, id: string, key: string, lang: PageLanguage): SafeHtml {
  return html`<div id="moved" data-testid="moved" hidden><p><strong>${t.movedTitle}</strong></p><p class="hint">${t.movedText}</p>
<a class="button button-primary" data-testid="pay-here" href="${pageUrl(id, key, lang)}">${t.payHere}</a></div>`;
}

interface NextAction {
  alipay_handle_redirect?: { url: string; native_url: string | null; qr_code: { data: string; expires_at: number } | null };
}

/** Amount in minor units as `CNY 1,000.00`, with integer arithmetic only. */
export function formatAmount(currency: string, amountMinor: number): string {
  const exponent = currencyInfo(currency)?.exponent ?? 2;
  const divisor = 10n ** BigInt(exponent);
  const minor = BigInt(amountMinor);
  const major = (minor / divisor).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return exponent === 0 ? `${currency} ${major}` : `${currency} ${major}.${(minor % divisor).toString().padStart(exponent, '0')}`;
}

function summary(page: CheckoutPageState, t: PageText): SafeHtml {
  const { session } = page;
  const [currency, value] = formatAmount(session.currency, session.amount_total).split(' ');
  return html`<section class="card summary">
  <p class="merchant" data-testid="merchant">${page.merchantName}</p>
  <p class="amount" data-testid="amount"><span class="currency">${currency}</span> ${value}</p>
  <ul class="items" data-testid="line-items">
    ${page.lines.map((line) => html`<li data-testid="line-item"><span><span class="name">${line.description}</span><br><span class="qty">${t.quantity(line.quantity)}</span></span><span class="line-amount">${formatAmount(session.currency, line.amount)}</span></li>`)}
  </ul>
  <p class="total"><span>${t.total}</span><span data-testid="total">${formatAmount(session.currency, session.amount_total)}</span></p>
</section>`;
}

function languageSwitch(id: string, key: string, lang: PageLanguage): SafeHtml {
  const link = (target: PageLanguage, label: string) =>
    target === lang ? html`<a aria-current="true" data-testid="lang-${target}" href="${pageUrl(id, key, target)}">${label}</a>` : html`<a data-testid="lang-${target}" href="${pageUrl(id, key, target)}">${label}</a>`;
  return html`<nav class="lang">${link('zh', '中文')}${link('en', 'English')}</nav>`;
}

function statePage(lang: PageLanguage, header: SafeHtml, page: CheckoutPageState, state: 'complete' | 'expired', title: string, text: string, next: string | null): Page {
  const t = TEXT[lang];
  const icon = state === 'complete' ? '✓' : '!';
  const link = next === null ? '' : html`<p><a class="button button-primary" data-testid="back-to-merchant" href="${next}">${t.backToMerchant}</a></p>`;
  const body = html`${summary(page, t)}<section class="card state state-${state}" data-testid="session-state" data-state="${state}"><div class="icon">${icon}</div><h2>${title}</h2><p>${text}</p>${link}</section>`;
  return { title: `${title} · ${t.title}`, lang, header, body };
}

type MessageKey = 'keyTitle' | 'keyMissing' | 'keyInvalid' | 'notFoundTitle' | 'notFoundText';

/** A page that only says what is wrong, in the page's language first and then the other. */
function messagePage(lang: PageLanguage, title: MessageKey, text: MessageKey): Page {
  const other: PageLanguage = lang === 'zh' ? 'en' : 'zh';
  const body = html`<section class="card state state-error wide" data-testid="session-state" data-state="error"><div class="icon">!</div>
<h2>${TEXT[lang][title]}</h2><p>${TEXT[lang][text]}</p>
<h2 lang="${other}">${TEXT[other][title]}</h2><p lang="${other}">${TEXT[other][text]}</p></section>`;
  return { title: TEXT[lang][title], lang, header: html``, body };
}

/**
 * The gateway's base URL as shoppers reach it (ZHIFU_PUBLIC_URL). Configured with port 0 (tests,
 * side-by-side instances), the port the server actually bound is only known once it listens.
 */
export function publicUrlOf(app: FastifyInstance, configured: string): string {
  const url = new URL(configured);
  if (url.port !== '0') return configured;
  const address = app.server.address();
  if (typeof address === 'object' && address !== null) url.port = String(address.port);
  return url.toString().replace(/\/+$/, '');
}

/** The QR code as inline SVG: crisp at any size, and no second request. */
async function qrSvg(data: string): Promise<SafeHtml> {
  const svg = await QRCode.toString(data, { type: 'svg', errorCorrectionLevel: 'M', margin: QR_QUIET_ZONE_MODULES, color: { dark: '#000000', light: '#ffffff' } });
  return new SafeHtml(svg);
}

/**
 * Counts down to the QR code's expiry (the server's epoch ms; a skewed browser clock only shifts
 * the display), then asks the poller to look at once, since that is when the attempt closes.
 */
const COUNTDOWN_SCRIPT = `(function () {
  var el = document.getElementById('countdown');
  if (!el) return;
  var end = Number(el.getAttribute('data-expires-at'));
  function pad(n) { return String(n).padStart(2, '0'); }
  function show(s) { var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60); return (h ? h + ':' + pad(m) : pad(m)) + ':' + pad(s % 60); }
  var timer = setInterval(tick, 250);
  function tick() {
    var left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
    el.textContent = show(left);
    if (left === 0) { clearInterval(timer); document.dispatchEvent(new CustomEvent('qr-expired')); }
  }
  tick();
})();`;

/**
 * Polls the session: paid → the merchant's success_url; expired → reload (the expired page);
 * the attempt declined → the page without the retry flag (the failure and a retry button); a
 * processing page reloads once an attempt is live; a page whose attempt another device replaced
 * says so (and keeps polling, so it still follows the payment to success_url). Polling ends with the session, which ends by
 * its expiry at the latest, so the number of polls is bounded.
 */
const POLL_SCRIPT = `(function () {
  var root = document.getElementById('checkout');
  if (!root) return;
  var statusUrl = root.getAttribute('data-status-url');
  var pageUrl = root.getAttribute('data-page-url');
  var state = root.getAttribute('data-state');
  var interval = Number(root.getAttribute('data-poll-ms'));
  var attempt = root.getAttribute('data-attempt');
  var timer;
  function later() { clearTimeout(timer); timer = setTimeout(poll, interval); }
  function poll() {
    clearTimeout(timer);
    fetch(statusUrl, { cache: 'no-store', headers: { accept: 'application/json' } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (s) {
        if (!s) return later();
        if (s.status === 'complete' && s.success_url) { location.href = s.success_url; return; }
        if (s.status === 'expired') { location.replace(pageUrl); return; }
        if (s.payment_failed && state !== 'failed') { location.replace(pageUrl); return; }
        if (state === 'processing' && s.payment_intent_status === 'requires_action') { location.replace(pageUrl); return; }
        if (state === 'awaiting_shopper' && attempt && s.attempt && s.attempt !== attempt) {
          document.getElementById('panel').hidden = true;
          document.getElementById('moved').hidden = false;
        }
        later();
      })
      .catch(later);
  }
  document.addEventListener('qr-expired', poll);
  later();
})();`;
