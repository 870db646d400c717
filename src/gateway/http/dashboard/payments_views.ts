import { PAYMENT_INTENT_STATUSES } from '../../domain/payment_intents.js';
import { CURRENCIES, currencyInfo } from '../../domain/money.js';
import { ATTENTION_FILTER } from '../../core/dashboard_payments.js';
import type { PaymentDetail, PaymentListPage, PaymentListQuery, TimelineEntry } from '../../core/dashboard_payments.js';
import type { OperatorSession } from '../../core/operators.js';
import { html } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import { formatAmount } from '../pages/checkout.js';
import { csrfField, detailList, emptyRow, notice, pageHeading, pager, statusBadge, timeOf } from './components.js';
import type { DashboardPage } from './page.js';
import { PAYMENTS_TEXT } from './payments_text.js';
import type { PaymentsText } from './payments_text.js';
import { modePath } from './views.js';
import { signedInPage } from './views.js';
import type { PageLocation } from './views.js';

export const PAYMENTS_PATH = '/dashboard/payments';

export function paymentPath(id: string, livemode: boolean): string {
  return modePath(`${PAYMENTS_PATH}/${encodeURIComponent(id)}`, livemode);
}

/** A major-unit amount as the refund form pre-fills and explains it (no thousands separators). */
export function majorAmount(currency: string, minor: number): string {
  const exponent = currencyInfo(currency)?.exponent ?? 2;
  if (exponent === 0) return String(minor);
  const text = String(minor).padStart(exponent + 1, '0');
  return `${text.slice(0, -exponent)}.${text.slice(-exponent)}`;
}

function option(value: string, label: string, selected: string | undefined): SafeHtml {
  return html`<option value="${value}"${value === (selected ?? '') ? html` selected` : ''}>${label}</option>`;
}

function filtersForm(location: PageLocation, livemode: boolean, query: PaymentListQuery, t: PaymentsText): SafeHtml {
  return html`<form class="card filters" method="get" action="${PAYMENTS_PATH}" role="search" aria-label="${t.filters}" data-testid="payment-filters">
${livemode ? html`<input type="hidden" name="mode" value="live">` : ''}
<div><label for="q">${t.search}</label><input id="q" name="q" type="search" size="34" value="${query.q ?? ''}" placeholder="${t.searchHint}" aria-describedby="q-hint" data-testid="filter-q"><span id="q-hint" class="muted" hidden>${t.searchHint}</span></div>
<div><label for="status">${t.status}</label><select id="status" name="status" data-testid="filter-status">${option('', t.anyStatus, query.status)}${option(ATTENTION_FILTER, t.needsAttention, query.status)}${PAYMENT_INTENT_STATUSES.map((s) => option(s, s, query.status))}</select></div>
<div><label for="currency">${t.currency}</label><select id="currency" name="currency" data-testid="filter-currency">${option('', t.anyCurrency, query.currency)}${CURRENCIES.map((c) => option(c.code, c.code, query.currency?.toUpperCase()))}</select></div>
<div><label for="from">${t.from}</label><input id="from" name="from" type="date" value="${query.from ?? ''}" data-testid="filter-from"></div>
<div><label for="to">${t.to}</label><input id="to" name="to" type="date" value="${query.to ?? ''}" data-testid="filter-to"></div>
<div><label for="amount_min">${t.amountMin}</label><input id="amount_min" name="amount_min" inputmode="decimal" size="9" value="${query.amount_min ?? ''}" aria-describedby="amount-hint" data-testid="filter-amount-min"></div>
<div><label for="amount_max">${t.amountMax}</label><input id="amount_max" name="amount_max" inputmode="decimal" size="9" value="${query.amount_max ?? ''}" aria-describedby="amount-hint" data-testid="filter-amount-max"></div>
<div><button class="button small" type="submit" data-testid="filter-apply">${t.apply}</button> <a class="button small secondary" href="${modePath(PAYMENTS_PATH, livemode)}" data-testid="filter-clear">${t.clear}</a></div>
<p id="amount-hint" class="muted" style="flex-basis:100%;margin:0">${t.amountHint}</p>
</form>`;
}

export function paymentsListPage(location: PageLocation, session: OperatorSession, livemode: boolean, query: PaymentListQuery, page: PaymentListPage, error: string | null): DashboardPage {
  const t = PAYMENTS_TEXT[location.lang];
  const rows = page.rows.map((row) => html`<tr data-testid="payment-row" data-id="${row.id}">
<td class="num" data-field="amount" data-minor="${row.amount}"><a href="${paymentPath(row.id, livemode)}" data-testid="payment-link">${formatAmount(row.currency, row.amount)}</a></td>
<td>${statusBadge(row.status)}</td>
<td>${row.description ?? ''}${row.description !== null && row.merchantOrderId !== null ? html`<br>` : ''}${row.merchantOrderId === null ? '' : html`<span class="mono" data-field="merchant_order_id">${row.merchantOrderId}</span>`}</td>
<td class="mono">${row.customer ?? ''}</td>
<td>${timeOf(row.created)}</td>
<td class="mono"><a href="${paymentPath(row.id, livemode)}">${row.id}</a></td>
</tr>`);
  const table = html`<section class="card"><table class="list" data-testid="payments-table">
<caption class="muted" style="text-align:left">${t.title}</caption>
<thead><tr><th scope="col" class="num">${t.amount}</th><th scope="col">${t.status}</th><th scope="col">${t.description}</th><th scope="col">${t.customer}</th><th scope="col">${t.created}</th><th scope="col">ID</th></tr></thead>
<tbody>${rows.length === 0 ? emptyRow(6, t.noMatches) : rows}</tbody>
</table>
${pager(location, { firstId: page.rows[0]?.id ?? null, lastId: page.rows.at(-1)?.id ?? null, hasMore: page.hasMore, paged: page.paged })}
</section>`;
  const body = html`${pageHeading(t.title, 'payments-title')}
${error === null ? '' : notice(error, 'bad')}
${filtersForm(location, livemode, query, t)}
${error === null ? table : ''}`;
  return signedInPage(location, session, livemode, t.title, body);
}

function timelineItem(entry: TimelineEntry, t: PaymentsText, livemode: boolean): SafeHtml {
  const when = html`<span class="when">${timeOf(entry.at)}</span>`;
  switch (entry.kind) {
    case 'event':
      return html`<li data-testid="timeline-event" data-type="${entry.type}">${when}<strong>${t.event}</strong> <span class="mono">${entry.type}</span> <span class="muted mono">${entry.id}</span>${entry.requestId === null ? '' : html` <span class="muted">${t.request} <span class="mono">${entry.requestId}</span></span>`}</li>`;
    case 'attempt': {
      const bad = entry.status === 'failed' || entry.status === 'requires_attention';
      const result = entry.failureCode === null ? '' : html`<br>${t.resultCode}: <span class="mono" data-field="failure_code">${entry.failureCode}</span>${entry.failureMessage === null ? '' : html` — ${entry.failureMessage}`}`;
      return html`<li${bad ? html` class="bad"` : ''} data-testid="timeline-attempt" data-id="${entry.id}">${when}<strong>${t.attempt}</strong> ${statusBadge(entry.status)} <span class="mono" data-field="payment_request_id">${entry.paymentRequestId}</span>
<br><span class="muted">${t.terminal}: ${entry.terminalType}${entry.osType === null ? '' : ` / ${entry.osType}`} · ${formatAmount(entry.currency, entry.amount)}${entry.externalPaymentId === null ? '' : html` · ${t.paymentId} <span class="mono">${entry.externalPaymentId}</span>`}${entry.reversal === null ? '' : html` · ${t.reversal}: ${entry.reversal}`}</span>${result}</li>`;
    }
    case 'delivery':
      return html`<li${entry.status === 'failed' ? html` class="bad"` : entry.status === 'pending' ? html` class="warn"` : ''} data-testid="timeline-delivery" data-id="${entry.id}">${when}<strong>${t.delivery}</strong> ${statusBadge(entry.status)} <span class="mono">${entry.eventType}</span> → <span class="mono" data-field="endpoint">${entry.endpointUrl}</span>
<br><span class="muted">${entry.attemptCount} ${t.attempts}${entry.lastStatusCode === null ? '' : html` · ${t.httpStatus} <span data-field="last_status_code">${entry.lastStatusCode}</span>`}${entry.lastLatencyMs === null ? '' : ` · ${t.latency} ${entry.lastLatencyMs} ms`}${entry.lastError === null ? '' : html` · ${entry.lastError}`}</span>
${entry.attempts.length === 0 ? '' : html`<ul class="muted">${entry.attempts.map((a) => html`<li>${timeOf(a.at)} · ${a.statusCode ?? '—'} · ${a.latencyMs} ms${a.error === null ? '' : ` · ${a.error}`}</li>`)}</ul>`}</li>`;
    case 'refund':
      return html`<li${entry.status === 'failed' || entry.status === 'requires_attention' ? html` class="bad"` : ''} data-testid="timeline-refund" data-id="${entry.id}">${when}<strong>${t.refund}</strong> <span data-field="amount" data-minor="${entry.amount}">${formatAmount(entry.currency, entry.amount)}</span> ${statusBadge(entry.status)} <span class="muted mono">${entry.id}</span>
<br><span class="muted">${t.reason}: ${entry.reason ?? t.none}${entry.failureCode === null ? '' : html` · ${t.failure}: <span class="mono" data-field="failure_code">${entry.failureCode}</span>${entry.failureReason === null ? '' : ` (${entry.failureReason})`}`}</span></li>`;
    case 'dispute':
      return html`<li class="warn" data-testid="timeline-dispute" data-id="${entry.id}">${when}<strong>${t.dispute}</strong> <a href="${modePath(`/dashboard/disputes/${encodeURIComponent(entry.id)}`, livemode)}" class="mono">${entry.id}</a> ${statusBadge(entry.status)} ${formatAmount(entry.currency, entry.amount)}
<br><span class="muted">${entry.disputeKind} · ${t.reason}: ${entry.reason}${entry.dueBy === null ? '' : html` · ${t.dueBy} ${timeOf(entry.dueBy)}`}</span></li>`;
    case 'attention':
      return html`<li class="bad" data-testid="timeline-attention">${when}<strong>${t.attention}</strong> <span class="mono">${entry.object} ${entry.id}</span><br><span class="muted">${entry.reason} · <span class="mono">${entry.requestId}</span></span></li>`;
  }
}

function metadataList(metadata: Record<string, string>, t: PaymentsText): SafeHtml | string {
  const entries = Object.entries(metadata);
  if (entries.length === 0) return t.none;
  return html`<span data-testid="metadata">${entries.map(([key, value], i) => html`${i === 0 ? '' : html`<br>`}<span class="mono">${key}</span>: ${value}`)}</span>`;
}

export interface DetailState {
  /** After an action (Post/Redirect/Get): what to say at the top. */
  notice: { text: string; tone: 'ok' | 'bad' } | null;
  /** A fresh random key for this rendering of the refund form: a double submit of it refunds once. */
  idempotencyKey: string;
  /** The refund form's values after a refused submit. */
  refundAmount: string;
  refundReason: string;
}

function actionsSection(detail: PaymentDetail, session: OperatorSession, livemode: boolean, state: DetailState, t: PaymentsText): SafeHtml | string {
  const refundable = detail.status === 'succeeded' && detail.charge !== null;
  if (!refundable && !detail.cancelable) return '';
  if (session.operator.role !== 'admin') return html`<section class="card"><h2>${t.actions}</h2><p class="muted" data-testid="viewer-note">${t.viewerNote}</p></section>`;
  const base = paymentPath(detail.id, false);
  let refund: SafeHtml | string = '';
  if (refundable) {
    const max = formatAmount(detail.currency, detail.amountRefundable);
    refund = detail.refundBlockedByDispute
      ? html`<p data-testid="refund-blocked">${t.refundDisputed}</p>`
      : detail.amountRefundable === 0
        ? html`<p data-testid="refund-nothing">${t.nothingToRefund}</p>`
        : html`<form class="form" method="post" action="${modePath(`${base}/refund`, livemode)}" data-testid="refund-form" aria-labelledby="refund-title">
<h2 id="refund-title">${t.refundTitle}</h2>
${csrfField(session)}
<input type="hidden" name="idempotency_key" value="${state.idempotencyKey}">
<div><label for="refund-amount">${t.refundAmount} (${detail.currency})</label>
<input id="refund-amount" name="amount" inputmode="decimal" autocomplete="off" value="${state.refundAmount}" placeholder="${majorAmount(detail.currency, detail.amountRefundable)}" aria-describedby="refund-hint" data-testid="refund-amount">
<span id="refund-hint" class="muted">${t.refundAmountHint(max)}</span></div>
<div><label for="refund-reason">${t.refundReason}</label>
<select id="refund-reason" name="reason" data-testid="refund-reason">${option('', t.reasonNone, state.refundReason)}${option('requested_by_customer', t.reasonRequested, state.refundReason)}${option('duplicate', t.reasonDuplicate, state.refundReason)}${option('fraudulent', t.reasonFraudulent, state.refundReason)}</select></div>
<div><button class="button danger" type="submit" data-testid="refund-submit">${t.refundSubmit}</button></div>
</form>`;
  }
  const cancel = !detail.cancelable ? '' : html`<form class="form" method="post" action="${modePath(`${base}/cancel`, livemode)}" data-testid="cancel-form" aria-labelledby="cancel-title">
<h2 id="cancel-title">${t.cancelTitle}</h2>
${csrfField(session)}
<p class="muted">${t.cancelText}</p>
<div><button class="button danger" type="submit" data-testid="cancel-submit">${t.cancelSubmit}</button></div>
</form>`;
  return html`<section class="card" aria-label="${t.actions}">${refund}${cancel}</section>`;
}

export function paymentDetailPage(location: PageLocation, session: OperatorSession, livemode: boolean, detail: PaymentDetail, state: DetailState): DashboardPage {
  const t = PAYMENTS_TEXT[location.lang];
  const amount = (minor: number, field: string) => html`<span data-field="${field}" data-minor="${minor}">${formatAmount(detail.currency, minor)}</span>`;
  const charge = detail.charge;
  const rows: [string, SafeHtml | string | number][] = [
    [t.id, html`<span class="mono" data-field="id">${detail.id}</span>`],
    [t.status, html`<span data-field="status">${statusBadge(detail.status)}</span>`],
    [t.amount, amount(detail.amount, 'amount')],
    [t.amountReceived, amount(detail.amountReceived, 'amount_received')],
    [t.amountRefunded, amount(detail.amountRefunded, 'amount_refunded')],
    [t.amountRefundPending, amount(detail.amountRefundPending, 'amount_refund_pending')],
    [t.amountRefundable, amount(detail.amountRefundable, 'amount_refundable')],
    [t.currency, detail.currency],
    [t.created, timeOf(detail.created)],
    [t.merchantOrderId, detail.merchantOrderId === null ? t.none : html`<span class="mono" data-field="merchant_order_id">${detail.merchantOrderId}</span>`],
    [t.descriptionField, detail.description ?? t.none],
    [t.metadata, metadataList(detail.metadata, t)],
    [t.charge, charge === null ? t.none : html`<span class="mono" data-field="charge">${charge.id}</span> ${statusBadge(charge.status)}${charge.disputed ? html` ${statusBadge('disputed')}` : ''}`],
    [t.paymentMethod, detail.paymentMethod === null ? t.none : html`<span class="mono">${detail.paymentMethod.id}</span> (${detail.paymentMethod.type})`],
  ];
  if (charge?.wallet != null) rows.push([t.wallet, charge.wallet]);
  if (charge?.buyerId != null) rows.push([t.buyer, html`<span class="mono">${charge.buyerId}</span>`]);
  if (detail.customer !== null) rows.push([t.customer, html`<span class="mono">${detail.customer}</span>`]);
  if (detail.merchantUserId !== null) rows.push([t.merchantUserId, html`<span class="mono">${detail.merchantUserId}</span>`]);
  if (detail.lastPaymentError !== null) rows.push([t.lastError, detail.lastPaymentError]);
  if (detail.checkoutSession !== null) rows.push([t.checkoutSession, html`<span class="mono">${detail.checkoutSession}</span>`]);
  if (detail.cancellationReason !== null) rows.push([t.canceled, detail.cancellationReason]);
  const timeline = detail.timeline.length === 0
    ? html`<p class="muted">${t.timelineEmpty}</p>`
    : html`<ol class="timeline" data-testid="timeline">${detail.timeline.map((entry) => timelineItem(entry, t, livemode))}</ol>`;
  const body = html`<p><a href="${modePath(PAYMENTS_PATH, livemode)}" data-testid="back-to-payments">← ${t.back}</a></p>
${pageHeading(`${t.detailTitle} ${formatAmount(detail.currency, detail.amount)}`, 'payment-title')}
${state.notice === null ? '' : notice(state.notice.text, state.notice.tone)}
<section class="card" data-testid="payment-details">${detailList(rows)}</section>
${actionsSection(detail, session, livemode, state, t)}
<section class="card" aria-labelledby="timeline-title"><h2 id="timeline-title">${t.timeline}</h2>${timeline}</section>`;
  return signedInPage(location, session, livemode, `${t.detailTitle} ${detail.id}`, body);
}
