import type { DashboardDelivery, DashboardEndpoint } from '../../core/dashboard_webhooks.js';
import { EVENT_TYPES } from '../../core/events.js';
import type { OperatorSession } from '../../core/operators.js';
import type { Page } from '../../core/lists.js';
import { html } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import { csrfField, detailList, emptyRow, notice, pageHeading, pager, statusBadge, timeOf } from './components.js';
import type { ListWindowView } from './components.js';
import { developersPage, developersText } from './developers_views.js';
import type { DevelopersText } from './developers_text.js';
import type { DashboardPage } from './page.js';
import { modePath, withParam } from './views.js';
import type { PageLocation } from './views.js';

/** What an endpoint form shows: the values last entered, and why they were refused. */
export interface EndpointFormView {
  url: string;
  enabledEvents: string[];
  description: string;
  error: string | null;
}

export const EMPTY_ENDPOINT_FORM: EndpointFormView = { url: '', enabledEvents: ['*'], description: '', error: null };

const DONE_NOTICES = {
  created: 'doneCreated', updated: 'doneUpdated', disabled: 'doneDisabled', enabled: 'doneEnabled', retried: 'doneRetried',
} as const satisfies Record<string, keyof DevelopersText>;

export type DoneNotice = keyof typeof DONE_NOTICES;

export function doneNotice(value: string | undefined): DoneNotice | null {
  return value !== undefined && Object.hasOwn(DONE_NOTICES, value) ? (value as DoneNotice) : null;
}

function endpointFields(form: EndpointFormView, t: DevelopersText, idPrefix: string): SafeHtml {
  const checkbox = (type: string, label: string) => html`<label class="check"><input type="checkbox" name="enabled_events[]" value="${type}" data-testid="event-${type}"${form.enabledEvents.includes(type) ? html` checked` : ''}> ${label}</label>`;
  return html`${form.error === null ? '' : html`<p class="alert" role="alert" data-testid="form-error">${form.error}</p>`}
<div><label for="${idPrefix}-url">${t.url}</label><input id="${idPrefix}-url" name="url" type="url" required size="60" value="${form.url}" data-testid="endpoint-url"></div>
<div><label for="${idPrefix}-description">${t.description}</label><input id="${idPrefix}-description" name="description" size="60" maxlength="5000" value="${form.description}" data-testid="endpoint-description"></div>
<fieldset><legend>${t.enabledEvents}</legend>${checkbox('*', t.allEvents)}${EVENT_TYPES.map((type) => checkbox(type, type))}</fieldset>`;
}

export interface WebhooksListView {
  page: Page<DashboardEndpoint>;
  window: ListWindowView;
  form: EndpointFormView;
}

export function webhooksListPage(location: PageLocation, session: OperatorSession, livemode: boolean, view: WebhooksListView): DashboardPage {
  const t = developersText(location);
  const rows = view.page.data.length === 0
    ? emptyRow(5, t.noEndpoints)
    : view.page.data.map((endpoint) => html`<tr data-testid="endpoint-row" data-id="${endpoint.id}">
<td><a class="mono" href="${modePath(`/dashboard/webhooks/${endpoint.id}`, livemode)}" data-testid="endpoint-link">${endpoint.url}</a>${endpoint.description === null ? '' : html`<div class="muted">${endpoint.description}</div>`}</td>
<td>${endpoint.enabledEvents.join(', ')}</td><td>${statusBadge(endpoint.status)}</td><td>${timeOf(endpoint.created)}</td></tr>`);
  const admin = session.operator.role === 'admin';
  const form = admin
    ? html`<section class="card" aria-labelledby="create-title"><details${view.form.error === null ? '' : html` open`}><summary id="create-title" data-testid="add-endpoint">${t.addEndpoint}</summary>
<form class="form" method="post" action="${modePath('/dashboard/webhooks', livemode)}" data-testid="create-endpoint-form">${csrfField(session)}${endpointFields(view.form, t, 'create')}
<div><button class="button" type="submit" data-testid="create-endpoint">${t.createEndpoint}</button></div></form></details></section>`
    : '';
  const body = html`${pageHeading(t.webhooksTitle, 'webhooks-title')}
${form}
<section class="card"><table class="list" data-testid="endpoints"><thead><tr><th scope="col">${t.url}</th><th scope="col">${t.enabledEvents}</th><th scope="col">${t.status}</th><th scope="col">${t.created}</th></tr></thead>
<tbody>${rows}</tbody></table>${pager(location, view.window)}</section>`;
  return developersPage(location, session, livemode, t.webhooksTitle, body);
}

export interface WebhookDetailView {
  endpoint: DashboardEndpoint;
  /** The signing secret, on the one page view right after creation. */
  secret: string | null;
  done: DoneNotice | null;
  form: EndpointFormView | null;
  statusFilter: string | null;
  deliveries: Page<DashboardDelivery>;
  window: ListWindowView;
}

function attemptRows(delivery: DashboardDelivery, t: DevelopersText): SafeHtml {
  if (delivery.attempts.length === 0) return html`<p class="muted">—</p>`;
  return html`<table class="list attempts" data-testid="attempts"><thead><tr><th scope="col">${t.attemptTime}</th><th scope="col" class="num">${t.httpStatus}</th><th scope="col" class="num">${t.latency}</th><th scope="col">${t.responseBody}</th></tr></thead><tbody>
${delivery.attempts.map((attempt, index) => html`<tr data-testid="attempt" data-status-code="${attempt.statusCode ?? ''}"><td>${timeOf(attempt.attemptedAt)}</td>
<td class="num" data-field="status_code">${attempt.statusCode === null ? t.noResponse : String(attempt.statusCode)}</td>
<td class="num" data-field="latency">${attempt.latencyMs} ${t.ms}</td>
<td>${attempt.responseBody === null || attempt.responseBody === '' ? html`<span class="muted" data-field="error">${attempt.error ?? '—'}</span>` : html`<pre class="body" data-field="response_body">${attempt.responseBody}</pre>`}${attempt.nextRetryAt !== null && delivery.status === 'pending' && index === delivery.attempts.length - 1 ? html`<div class="muted">${t.nextRetry}: ${timeOf(attempt.nextRetryAt)}</div>` : ''}</td></tr>`)}
</tbody></table>`;
}

export function webhookDetailPage(location: PageLocation, session: OperatorSession, livemode: boolean, view: WebhookDetailView): DashboardPage {
  const t = developersText(location);
  const { endpoint } = view;
  const admin = session.operator.role === 'admin';
  const base = `/dashboard/webhooks/${endpoint.id}`;
  const secret = view.secret === null ? '' : html`<section class="card" aria-labelledby="secret-title"><h2 id="secret-title">${t.signingSecret}</h2><p>${t.secretOnce}</p><code class="secret mono" data-testid="endpoint-secret">${view.secret}</code></section>`;
  const toggle = admin
    ? html`<form method="post" action="${modePath(`${base}/${endpoint.status === 'enabled' ? 'disable' : 'enable'}`, livemode)}">${csrfField(session)}<button class="button small ${endpoint.status === 'enabled' ? 'danger' : 'secondary'}" type="submit" data-testid="${endpoint.status === 'enabled' ? 'disable-endpoint' : 'enable-endpoint'}">${endpoint.status === 'enabled' ? t.disableEndpoint : t.enableEndpoint}</button></form>`
    : '';
  const form = view.form ?? { url: endpoint.url, enabledEvents: endpoint.enabledEvents, description: endpoint.description ?? '', error: null };
  const edit = admin
    ? html`<section class="card" aria-labelledby="edit-title"><details${view.form?.error == null ? '' : html` open`}><summary id="edit-title" data-testid="edit-endpoint">${t.editEndpoint}</summary>
<form class="form" method="post" action="${modePath(base, livemode)}" data-testid="edit-endpoint-form">${csrfField(session)}${endpointFields(form, t, 'edit')}
<div><button class="button" type="submit" data-testid="save-endpoint">${t.saveEndpoint}</button></div></form></details></section>`
    : '';
  const filterOptions = ['pending', 'delivered', 'failed', 'canceled'].map((status) => html`<option value="${status}"${view.statusFilter === status ? html` selected` : ''}>${status}</option>`);
  const filters = html`<form class="filters" method="get" action="${base}" data-testid="delivery-filters">${livemode ? html`<input type="hidden" name="mode" value="live">` : ''}
<div><label for="delivery-status">${t.statusFilter}</label><select id="delivery-status" name="status" data-testid="delivery-status"><option value="">${t.any}</option>${filterOptions}</select></div>
<button class="button small secondary" type="submit" data-testid="apply-filters">${t.filter}</button></form>`;
  const deliveries = view.deliveries.data.length === 0
    ? html`<p class="muted" data-testid="no-deliveries">${t.noDeliveries}</p>`
    : view.deliveries.data.map((delivery) => {
      const shownStatus = delivery.status === 'pending' && delivery.attemptCount > 0 ? 'retrying' : delivery.status;
      // Failed, or still retrying on its schedule: a superseded (canceled) one has a newer delivery above it.
      const retry = admin && (delivery.status === 'failed' || delivery.status === 'pending')
        ? html`<form method="post" action="${modePath(`${base}/deliveries/${delivery.id}/retry`, livemode)}">${csrfField(session)}<button class="button small" type="submit" data-testid="retry-delivery">${t.retry}</button></form>`
        : '';
      return html`<article class="delivery" data-testid="delivery" data-id="${delivery.id}" data-status="${delivery.status}" aria-label="${delivery.eventType} ${delivery.eventId}">
<div class="page-heading"><h3><a class="mono" href="${modePath(`/dashboard/events/${delivery.eventId}`, livemode)}" data-testid="delivery-event">${delivery.eventId}</a> <span>${delivery.eventType}</span> ${statusBadge(shownStatus, shownStatus === 'retrying' ? t.retrying : delivery.status)}</h3>
<div class="page-actions"><span class="muted">${t.attempts}: <span data-testid="attempt-count">${delivery.attemptCount}</span></span>${retry}</div></div>
${attemptRows(delivery, t)}</article>`;
    });
  const body = html`${pageHeading(endpoint.url, 'webhook-title', toggle)}
${view.done === null ? '' : notice(t[DONE_NOTICES[view.done]])}
${secret}
<section class="card">${detailList([
    [t.endpointId, html`<span class="mono" data-testid="endpoint-id">${endpoint.id}</span>`],
    [t.status, html`<span data-testid="endpoint-status">${statusBadge(endpoint.status)}</span>`],
    [t.enabledEvents, html`<span data-testid="endpoint-events">${endpoint.enabledEvents.join(', ')}</span>`],
    [t.description, endpoint.description ?? '—'],
    [t.created, timeOf(endpoint.created)],
  ])}</section>
${edit}
<section class="card" aria-labelledby="deliveries-title"><h2 id="deliveries-title">${t.deliveries}</h2>${filters}
<div data-testid="deliveries">${deliveries}</div>${pager(location, view.window)}</section>`;
  return developersPage(location, session, livemode, `${t.webhookTitle} ${endpoint.id}`, body);
}

/** The endpoint page after an action: its notice in the query (Post/Redirect/Get). */
export function endpointPath(id: string, livemode: boolean, done: DoneNotice | null): string {
  const path = modePath(`/dashboard/webhooks/${id}`, livemode);
  return done === null ? path : withParam(path, 'done', done);
}
