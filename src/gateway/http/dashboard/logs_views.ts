import type { OperatorSession } from '../../core/operators.js';
import type { Page } from '../../core/lists.js';
import type { RequestLog } from '../../core/request_logs.js';
import { html } from '../pages/html.js';
import { detailList, emptyRow, pageHeading, pager, statusBadge, timeOf } from './components.js';
import type { ListWindowView } from './components.js';
import { bodyBlock, developersPage, developersText } from './developers_views.js';
import type { DashboardPage } from './page.js';
import { modePath } from './views.js';
import type { PageLocation } from './views.js';

/** The request log filters as entered (shown back in the form). */
export interface LogFilterView {
  method: string;
  status: string;
  path: string;
  date: string;
}

function statusOf(status: number) {
  return statusBadge(status >= 500 ? 'failed' : status >= 400 ? 'pending' : 'succeeded', String(status));
}

export function logsListPage(location: PageLocation, session: OperatorSession, livemode: boolean, filters: LogFilterView, page: Page<RequestLog>, window: ListWindowView): DashboardPage {
  const t = developersText(location);
  const methods = ['GET', 'POST', 'DELETE'].map((method) => html`<option value="${method}"${filters.method === method ? html` selected` : ''}>${method}</option>`);
  const form = html`<form class="filters" method="get" action="/dashboard/logs" data-testid="log-filters">${livemode ? html`<input type="hidden" name="mode" value="live">` : ''}
<div><label for="log-method">${t.method}</label><select id="log-method" name="method" data-testid="log-method"><option value="">${t.any}</option>${methods}</select></div>
<div><label for="log-status">${t.statusCode}</label><input id="log-status" name="status" size="6" placeholder="${t.statusHint}" value="${filters.status}" data-testid="log-status"></div>
<div><label for="log-path">${t.pathPrefix}</label><input id="log-path" name="path" size="28" placeholder="/v1/payment_intents" value="${filters.path}" data-testid="log-path"></div>
<div><label for="log-date">${t.date}</label><input id="log-date" name="date" type="date" value="${filters.date}" data-testid="log-date"></div>
<button class="button small secondary" type="submit" data-testid="apply-filters">${t.filter}</button><a class="button small secondary" href="${modePath('/dashboard/logs', livemode)}">${t.clear}</a></form>`;
  const rows = page.data.length === 0
    ? emptyRow(5, t.noLogs)
    : page.data.map((log) => html`<tr data-testid="log-row" data-id="${log.id}"><td>${statusOf(log.status)}</td><td>${log.method}</td>
<td><a class="mono" href="${modePath(`/dashboard/logs/${log.id}`, livemode)}" data-testid="log-link">${log.path}</a></td><td class="num">${log.durationMs} ${t.ms}</td><td>${timeOf(log.created)}</td></tr>`);
  const body = html`${pageHeading(t.logsTitle, 'logs-title')}
<section class="card">${form}
<table class="list" data-testid="logs"><thead><tr><th scope="col">${t.statusCode}</th><th scope="col">${t.method}</th><th scope="col">${t.path}</th><th scope="col" class="num">${t.duration}</th><th scope="col">${t.created}</th></tr></thead>
<tbody>${rows}</tbody></table>${pager(location, window)}</section>`;
  return developersPage(location, session, livemode, t.logsTitle, body);
}

export function logDetailPage(location: PageLocation, session: OperatorSession, livemode: boolean, log: RequestLog): DashboardPage {
  const t = developersText(location);
  const body = html`${pageHeading(`${log.method} ${log.path}`, 'log-title')}
<section class="card">${detailList([
    [t.statusCode, html`<span data-testid="log-status-code">${statusOf(log.status)}</span>`],
    [t.created, timeOf(log.created)],
    [t.method, html`<span data-testid="log-method-value">${log.method}</span>`],
    [t.path, html`<span class="mono" data-testid="log-path-value">${log.path}</span>`],
    [t.duration, html`<span data-testid="log-duration">${log.durationMs} ${t.ms}</span>`],
    [t.requestId, html`<span class="mono" data-testid="log-request-id">${log.id}</span>`],
    [t.idempotencyKey, log.idempotencyKey === null ? '—' : html`<span class="mono" data-testid="log-idempotency-key">${log.idempotencyKey}</span>${log.idempotentReplayed ? html` <span class="muted">${t.replayed}</span>` : ''}`],
    [t.apiKey, log.apiKeyLast4 === null ? '—' : html`<span class="mono" data-testid="log-api-key">…${log.apiKeyLast4}</span>`],
    [t.mode, log.livemode ? t.modeLive : t.modeTest],
  ])}<p class="muted">${t.redactedNote}</p></section>
<section class="card" aria-labelledby="log-request-title"><h2 id="log-request-title">${t.requestBody}</h2>${bodyBlock(log.requestBody, t.noBody, 'log-request-body', t.requestBody)}</section>
<section class="card" aria-labelledby="log-response-title"><h2 id="log-response-title">${t.responseBodyLog}</h2>${bodyBlock(log.responseBody, t.noBody, 'log-response-body', t.responseBodyLog)}</section>`;
  return developersPage(location, session, livemode, `${t.logTitle} ${log.id}`, body);
}
