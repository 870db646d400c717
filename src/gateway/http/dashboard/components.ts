import type { OperatorSession } from '../../core/operators.js';
import { html } from '../pages/html.js';
import type { HtmlValue, SafeHtml } from '../pages/html.js';
import { DASHBOARD_TEXT } from './text.js';
import { modePath, withParam } from './views.js';
import type { PageLocation } from './views.js';

/**
 * Building blocks shared by the dashboard's pages, so every list, badge, date and form looks
 * and behaves the same. Everything interpolated is escaped (html``).
 */

/** The session's CSRF token as a hidden field: every form of a signed-in page carries it. */
export function csrfField(session: OperatorSession): SafeHtml {
  return html`<input type="hidden" name="csrf_token" value="${session.csrfToken}">`;
}

/** A millisecond timestamp as the dashboard shows it: UTC, to the second, machine-readable too. */
export function timeOf(ms: number | null | undefined): SafeHtml {
  if (ms === null || ms === undefined) return html`<span class="muted">—</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 10)} ${iso.slice(11, 19)}</time>`;
}

type Tone = 'ok' | 'bad' | 'warn' | 'neutral';
const TONES: Record<string, Tone> = {
  succeeded: 'ok', paid: 'ok', won: 'ok', available: 'ok', enabled: 'ok', complete: 'ok', active: 'ok', delivered: 'ok',
  failed: 'bad', canceled: 'bad', lost: 'bad', disabled: 'bad', expired: 'bad', revoked: 'bad',
  requires_payment_method: 'warn', requires_confirmation: 'warn', requires_action: 'warn', requires_capture: 'warn', processing: 'warn',
  pending: 'warn', needs_response: 'warn', warning_needs_response: 'warn', under_review: 'warn', warning_under_review: 'warn', open: 'warn',
  requires_attention: 'warn', retrying: 'warn',
};

/** A status as a coloured badge; the text is the status itself (the API's word), or a label. */
export function statusBadge(status: string, label?: string): SafeHtml {
  return html`<span class="badge ${TONES[status] ?? 'neutral'}" data-status="${status}">${label ?? status}</span>`;
}

/** A definition list of label → value rows (object details). */
export function detailList(rows: readonly (readonly [string, HtmlValue])[]): SafeHtml {
  return html`<dl class="details">${rows.map(([label, value]) => html`<dt>${label}</dt><dd>${value}</dd>`)}</dl>`;
}

/** The page's heading with optional actions on the right. */
export function pageHeading(title: string, testId: string, actions: HtmlValue = ''): SafeHtml {
  return html`<div class="page-heading"><h1 data-testid="${testId}">${title}</h1><div class="page-actions">${actions}</div></div>`;
}

/** One keyset-paged window of a list, as the core's list functions return it. */
export interface ListWindowView {
  /** The ids at the window's edges (null: empty window). */
  firstId: string | null;
  lastId: string | null;
  /** Whether more rows exist after (older than) the last row. */
  hasMore: boolean;
  /** Whether this window was reached by paging (so a way back to newer rows exists). */
  paged: boolean;
}

/**
 * Previous / next links of a keyset-paged list (`starting_after` / `ending_before` as the API
 * pages), keeping the page's other query parameters (filters, mode, language).
 */
export function pager(location: PageLocation, window: ListWindowView): SafeHtml {
  const t = DASHBOARD_TEXT[location.lang];
  const base = withParam(withParam(location.url, 'starting_after', null), 'ending_before', null);
  const previous = window.paged && window.firstId !== null
    ? html`<a class="button secondary" rel="prev" data-testid="page-previous" href="${withParam(base, 'ending_before', window.firstId)}">${t.previousPage}</a>`
    : '';
  const next = window.hasMore && window.lastId !== null
    ? html`<a class="button secondary" rel="next" data-testid="page-next" href="${withParam(base, 'starting_after', window.lastId)}">${t.nextPage}</a>`
    : '';
  return previous === '' && next === '' ? html`` : html`<nav class="pager" aria-label="${t.pagination}">${previous}${next}</nav>`;
}

/** A table's single row saying there is nothing to show. */
export function emptyRow(columns: number, text: string): SafeHtml {
  return html`<tr class="empty"><td colspan="${columns}" data-testid="empty">${text}</td></tr>`;
}

/** A notice at the top of a page after an action (`role=status`, so screen readers announce it). */
export function notice(text: string, tone: 'ok' | 'bad' = 'ok'): SafeHtml {
  return html`<p class="notice ${tone}" role="${tone === 'bad' ? 'alert' : 'status'}" data-testid="notice">${text}</p>`;
}

/** The Developers area's pages, as tabs above each of them. */
const DEVELOPER_TABS = [
  { path: '/dashboard/api_keys', label: 'tabApiKeys' },
  { path: '/dashboard/webhooks', label: 'tabWebhooks' },
  { path: '/dashboard/events', label: 'tabEvents' },
  { path: '/dashboard/logs', label: 'tabLogs' },
  { path: '/dashboard/audit', label: 'tabAudit' },
] as const;

export function developerTabs(location: PageLocation, livemode: boolean): SafeHtml {
  const t = DASHBOARD_TEXT[location.lang];
  const path = new URL(location.url, 'http://dashboard.invalid').pathname;
  return html`<nav class="tabs" aria-label="${t.navDevelopers}">${DEVELOPER_TABS.map((tab) => html`<a data-testid="tab-${tab.path.slice('/dashboard/'.length)}" href="${modePath(tab.path, livemode)}"${path === tab.path || path.startsWith(`${tab.path}/`) ? html` aria-current="page"` : ''}>${t[tab.label]}</a>`)}</nav>`;
}
