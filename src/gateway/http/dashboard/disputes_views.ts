import type { DisputeDetail, DisputeListOrder, DisputeListWindow, DisputeRow, DisputeStatusFilter } from '../../core/dashboard_disputes.js';
import { DISPUTE_STATUS_FILTERS } from '../../core/dashboard_disputes.js';
import type { OperatorSession } from '../../core/operators.js';
import type { Evidence, EvidenceField } from '../../domain/disputes.js';
import { EVIDENCE_FIELDS, NEEDS_RESPONSE_STATUSES } from '../../domain/disputes.js';
import { formatAmount } from '../pages/checkout.js';
import { html } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import { csrfField, detailList, emptyRow, notice, pageHeading, pager, statusBadge, timeOf } from './components.js';
import { DISPUTES_TEXT } from './disputes_text.js';
import type { DisputesText, TimeUnit } from './disputes_text.js';
import type { DashboardPage } from './page.js';
import { modePath, signedInPage } from './views.js';
import type { PageLocation } from './views.js';

/** The Disputes list and a dispute's page (api.md §8 `/dashboard/disputes[/:dp_id]`). */

export const DISPUTES_PATH = '/dashboard/disputes';

export function disputePath(id: string, livemode: boolean): string {
  return modePath(`${DISPUTES_PATH}/${encodeURIComponent(id)}`, livemode);
}

function paymentPath(id: string, livemode: boolean): string {
  return modePath(`/dashboard/payments/${encodeURIComponent(id)}`, livemode);
}

const DAY_MS = 24 * 3600_000;
const HOUR_MS = 3600_000;

/** "3 days left" / "overdue by 5 hours": whole units, rounded down, the largest that is at least 1. */
function remaining(dueBy: number, nowMs: number, t: DisputesText): { text: string; overdue: boolean } {
  const diff = dueBy - nowMs;
  const span = Math.abs(diff);
  const [n, unit]: [number, TimeUnit] = span >= DAY_MS ? [Math.floor(span / DAY_MS), 'day'] : span >= HOUR_MS ? [Math.floor(span / HOUR_MS), 'hour'] : [Math.max(1, Math.floor(span / 60_000)), 'minute'];
  return diff < 0 ? { text: t.overdueBy(n, unit), overdue: true } : { text: t.timeLeft(n, unit), overdue: false };
}

function awaitsResponse(row: Pick<DisputeRow, 'status'>): boolean {
  return NEEDS_RESPONSE_STATUSES.includes(row.status);
}

/** The deadline, and for a dispute still waiting for an answer how long is left (overdue in red). */
function deadlineOf(row: Pick<DisputeRow, 'status' | 'due_by'>, nowMs: number, t: DisputesText): SafeHtml {
  if (row.due_by === null) return timeOf(null);
  if (!awaitsResponse(row)) return timeOf(row.due_by);
  const left = remaining(row.due_by, nowMs, t);
  return html`${timeOf(row.due_by)}<br><span class="badge ${left.overdue ? 'bad' : 'warn'}" data-testid="time-left"${left.overdue ? html` data-overdue="true"` : ''}>${left.text}</span>`;
}

function reasonOf(row: Pick<DisputeRow, 'reason'>, t: DisputesText): string {
  return t.reasons[row.reason] ?? row.reason;
}

function statusOf(row: Pick<DisputeRow, 'status'>, t: DisputesText): SafeHtml {
  return statusBadge(row.status, t.statusLabels[row.status]);
}

export interface DisputeListView {
  status: DisputeStatusFilter | null;
  /** As asked (null: the default for the status filter). */
  order: DisputeListOrder | null;
  /** As typed (YYYY-MM-DD), to show it back. */
  dueBefore: string | null;
  window: DisputeListWindow;
  nowMs: number;
}

export function disputesListPage(location: PageLocation, session: OperatorSession, livemode: boolean, view: DisputeListView): DashboardPage {
  const t = DISPUTES_TEXT[location.lang];
  const option = (value: string, label: string, selected: boolean) => html`<option value="${value}"${selected ? html` selected` : ''}>${label}</option>`;
  const statusOptions = DISPUTE_STATUS_FILTERS.map((filter) => option(filter, filter === 'open' ? t.openStatuses : t.statusLabels[filter], view.status === filter));
  const filters = html`<form class="card filters" method="get" action="${DISPUTES_PATH}" data-testid="dispute-filters">
${livemode ? html`<input type="hidden" name="mode" value="live">` : ''}
<div><label for="filter-status">${t.filterStatus}</label><select id="filter-status" name="status" data-testid="filter-status">${option('', t.allStatuses, view.status === null)}${statusOptions}</select></div>
<div><label for="filter-order">${t.order}</label><select id="filter-order" name="order" data-testid="filter-order">${option('', t.orderDefault, view.order === null)}${option('created', t.orderCreated, view.order === 'created')}${option('deadline', t.orderDeadline, view.order === 'deadline')}</select></div>
<div><label for="filter-due">${t.dueBefore}</label><input id="filter-due" name="due_before" type="date" value="${view.dueBefore ?? ''}" data-testid="filter-due-before"></div>
<div><button class="button small" type="submit" data-testid="apply-filters">${t.applyFilters}</button> <a class="button small secondary" href="${modePath(DISPUTES_PATH, livemode)}" data-testid="clear-filters">${t.clearFilters}</a></div>
</form>`;
  const rows = view.window.rows.map((row) => html`<tr data-testid="dispute-row" data-id="${row.id}" data-status="${row.status}">
<td class="num"><a href="${disputePath(row.id, livemode)}" data-testid="dispute-link">${formatAmount(row.currency, row.amount)}</a></td>
<td>${reasonOf(row, t)}<br><span class="muted">${row.kind === 'retrieval' ? t.kinds.retrieval : t.kinds.escalation}</span></td>
<td>${statusOf(row, t)}</td>
<td><a class="mono" href="${paymentPath(row.payment_intent_id, livemode)}" data-testid="payment-link">${row.payment_intent_id}</a></td>
<td data-testid="deadline">${deadlineOf(row, view.nowMs, t)}</td>
<td>${timeOf(row.created)}</td>
</tr>`);
  const table = html`<section class="card"><table class="list" data-testid="disputes-table">
<thead><tr><th scope="col" class="num">${t.amount}</th><th scope="col">${t.reason}</th><th scope="col">${t.status}</th><th scope="col">${t.payment}</th><th scope="col">${t.deadline}</th><th scope="col">${t.created}</th></tr></thead>
<tbody>${rows.length === 0 ? emptyRow(6, t.noDisputes) : rows}</tbody></table>
${pager(location, view.window)}</section>`;
  return signedInPage(location, session, livemode, t.disputes, html`${pageHeading(t.disputes, 'disputes-title')}${filters}${table}`);
}

/** Fields shown without opening "more": the ones most answers need. Short ones are one-line inputs. */
const MAIN_FIELDS: readonly EvidenceField[] = [
  'product_description', 'customer_name', 'customer_email_address', 'receipt', 'shipping_carrier', 'shipping_tracking_number', 'shipping_date',
  'customer_communication', 'refund_policy', 'uncategorized_text',
];
const SHORT_FIELDS: ReadonlySet<EvidenceField> = new Set([
  'customer_name', 'customer_email_address', 'customer_purchase_ip', 'shipping_carrier', 'shipping_tracking_number', 'shipping_date', 'service_date', 'duplicate_charge_id',
]);

export type EvidenceDraft = Partial<Record<EvidenceField, string>>;

export interface DisputePageState {
  /** A notice after an action (PRG `?done=`), or the refusal of the action just posted. */
  notice: { text: string; tone: 'ok' | 'bad' } | null;
  /** What the operator typed, shown again when their action was refused. */
  draft: EvidenceDraft | null;
  nowMs: number;
}

function evidenceField(field: EvidenceField, value: string, t: DisputesText): SafeHtml {
  const id = `ev-${field}`;
  const input = SHORT_FIELDS.has(field)
    ? html`<input id="${id}" name="${field}" type="text" value="${value}" data-testid="evidence-${field}">`
    : html`<textarea id="${id}" name="${field}" rows="3" data-testid="evidence-${field}">${value}</textarea>`;
  return html`<div><label for="${id}">${t.evidenceFields[field]}</label>${input}</div>`;
}

function evidenceForm(detail: DisputeDetail, session: OperatorSession, livemode: boolean, draft: EvidenceDraft | null, t: DisputesText): SafeHtml {
  const valueOf = (field: EvidenceField) => draft?.[field] ?? detail.evidence[field] ?? '';
  const more = EVIDENCE_FIELDS.filter((field) => !MAIN_FIELDS.includes(field));
  const moreOpen = more.some((field) => valueOf(field) !== '');
  return html`<form class="form" method="post" action="${modePath(`${DISPUTES_PATH}/${encodeURIComponent(detail.row.id)}/evidence`, livemode)}" data-testid="evidence-form">
${csrfField(session)}
<p class="muted">${t.evidenceHelp}</p>
${MAIN_FIELDS.map((field) => evidenceField(field, valueOf(field), t))}
<details${moreOpen ? html` open` : ''}><summary data-testid="more-evidence">${t.moreEvidence}</summary><div class="form">${more.map((field) => evidenceField(field, valueOf(field), t))}</div></details>
<div class="page-actions"><button class="button secondary" type="submit" name="intent" value="save" data-testid="evidence-save">${t.saveEvidence}</button><button class="button" type="submit" name="intent" value="submit" data-testid="evidence-submit">${t.submitEvidence}</button></div>
</form>`;
}

function evidenceGiven(evidence: Evidence, t: DisputesText): SafeHtml {
  const given = EVIDENCE_FIELDS.filter((field) => (evidence[field] ?? '') !== '');
  if (given.length === 0) return html`<p class="muted" data-testid="no-evidence">${t.noEvidence}</p>`;
  return html`<dl class="details" data-testid="evidence-given">${given.map((field) => html`<dt>${t.evidenceFields[field]}</dt><dd data-field="${field}" style="white-space: pre-wrap">${evidence[field]}</dd>`)}</dl>`;
}

function acceptForm(detail: DisputeDetail, session: OperatorSession, livemode: boolean, t: DisputesText): SafeHtml {
  const row = detail.row;
  const amount = formatAmount(row.currency, row.amount);
  const escalation = row.kind === 'escalation';
  return html`<section class="card" aria-labelledby="accept-title" data-testid="accept-section"><h2 id="accept-title">${t.accept}</h2>
<p>${escalation ? t.acceptEscalationText(amount) : t.acceptRetrievalText}</p>
<form method="post" action="${modePath(`${DISPUTES_PATH}/${encodeURIComponent(row.id)}/accept`, livemode)}" data-testid="accept-form">
${csrfField(session)}
<p><input id="accept-confirm" type="checkbox" name="confirm" value="yes" data-testid="accept-confirm"> <label for="accept-confirm">${escalation ? t.acceptEscalationConfirm(amount) : t.acceptRetrievalConfirm}</label></p>
<button class="button danger" type="submit" data-testid="accept-dispute">${t.acceptButton}</button>
</form></section>`;
}

export function disputeDetailPage(location: PageLocation, session: OperatorSession, livemode: boolean, detail: DisputeDetail, state: DisputePageState): DashboardPage {
  const t = DISPUTES_TEXT[location.lang];
  const row = detail.row;
  const amount = formatAmount(row.currency, row.amount);
  const response = row.response_state === null
    ? html`<span class="muted">—</span>`
    : html`<span data-testid="response-state" data-state="${row.response_state}">${t.responseStates[row.response_state] ?? row.response_state}${row.response_code === null ? '' : ` (${row.response_code})`}</span>`;
  const facts = detailList([
    [t.amount, html`<strong data-testid="dispute-amount">${amount}</strong>`],
    [t.status, html`<span data-testid="dispute-status">${statusOf(row, t)}</span>${row.past_due === 1 ? html` <span class="muted">${t.pastDue}</span>` : ''}`],
    [t.kind, row.kind === 'retrieval' ? t.kinds.retrieval : t.kinds.escalation],
    [t.reason, html`<span data-testid="dispute-reason">${reasonOf(row, t)}</span>`],
    [t.networkReason, html`<span class="mono" data-testid="network-reason">${row.network_reason_code}</span>`],
    ...(row.reason_message === null ? [] : [[t.reasonMessage, row.reason_message] as const]),
    [t.deadline, html`<span data-testid="dispute-deadline">${deadlineOf(row, state.nowMs, t)}</span>`],
    [t.payment, html`<a class="mono" href="${paymentPath(row.payment_intent_id, livemode)}" data-testid="payment-link">${row.payment_intent_id}</a>`],
    [t.charge, html`<span class="mono">${row.charge_id}</span>`],
    [t.created, timeOf(row.created)],
    [t.disputeRequestId, html`<span class="mono">${row.dispute_request_id}</span>`],
    [t.submissions, html`<span data-testid="submission-count">${row.submission_count}</span>`],
    [t.lastResponse, response],
    [t.chargeRefundable, detail.isChargeRefundable ? t.yes : t.no],
  ]);
  const answerable = awaitsResponse(row);
  const admin = session.operator.role === 'admin';
  const evidenceBody = answerable && admin
    ? evidenceForm(detail, session, livemode, state.draft, t)
    : html`<p class="muted" data-testid="evidence-state">${answerable ? t.viewerText : row.status === 'under_review' || row.status === 'warning_under_review' ? t.underReviewText : t.closedText}</p>${row.submission_count > 0 ? html`<p>${t.evidenceSubmittedHelp}</p>` : ''}${evidenceGiven(detail.evidence, t)}`;
  const evidence = html`<section class="card" aria-labelledby="evidence-title" data-testid="evidence-section"><h2 id="evidence-title">${t.evidence}</h2>${evidenceBody}</section>`;
  const money = html`<section class="card" aria-labelledby="txn-title"><h2 id="txn-title">${t.balanceTransactions}</h2>
<table class="list" data-testid="dispute-balance-transactions"><thead><tr><th scope="col">ID</th><th scope="col">${t.txnCategory}</th><th scope="col" class="num">${t.txnAmount}</th><th scope="col">${t.txnStatus}</th><th scope="col">${t.txnAvailableOn}</th></tr></thead>
<tbody>${detail.balanceTransactions.length === 0 ? emptyRow(5, t.noBalanceTransactions) : detail.balanceTransactions.map((txn) => html`<tr data-testid="balance-transaction" data-id="${txn.id}"><td class="mono">${txn.id}</td><td>${txn.reporting_category}</td><td class="num" data-minor="${txn.amount}">${formatAmount(txn.currency, txn.amount)}</td><td>${statusBadge(txn.status)}</td><td>${timeOf(txn.available_on)}</td></tr>`)}</tbody></table></section>`;
  const events = html`<section class="card" aria-labelledby="events-title"><h2 id="events-title">${t.events}</h2>
${detail.events.length === 0 ? html`<p class="muted">${t.noEvents}</p>` : html`<ol class="timeline" data-testid="dispute-events">${detail.events.map((event) => html`<li data-testid="dispute-event" data-type="${event.type}"><span class="when">${timeOf(event.created)}</span><span class="mono">${event.type}</span> ${event.status === '' ? '' : statusBadge(event.status)} <span class="muted mono">${event.id}</span></li>`)}</ol>`}</section>`;
  const heading = pageHeading(`${t.dispute} ${amount}`, 'dispute-title', html`<a class="button small secondary" href="${modePath(DISPUTES_PATH, livemode)}" data-testid="back-to-disputes">${t.disputes}</a>`);
  const body = html`${heading}<p class="mono muted" data-testid="dispute-id">${row.id}</p>
${state.notice === null ? '' : notice(state.notice.text, state.notice.tone)}
<section class="card" data-testid="dispute-facts">${facts}</section>
${evidence}
${answerable && admin ? acceptForm(detail, session, livemode, t) : ''}
${money}
${events}`;
  return signedInPage(location, session, livemode, `${t.dispute} ${row.id}`, body);
}
