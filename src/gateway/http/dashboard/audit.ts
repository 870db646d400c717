import type { FastifyInstance } from 'fastify';
import { auditPage } from '../../core/dashboard_audit.js';
import type { AuditEntry } from '../../core/dashboard_audit.js';
import type { OperatorSession } from '../../core/operators.js';
import { routeAuth } from '../context.js';
import { html, queryParam } from '../pages/html.js';
import type { SafeHtml } from '../pages/html.js';
import { emptyRow, pageHeading, timeOf } from './components.js';
import { developersPage, developersText } from './developers_views.js';
import type { DashboardKit } from './kit.js';
import { locationOf, operatorOf, scopeOf } from './kit.js';
import type { DashboardPage } from './page.js';
import { sendDashboardPage } from './page.js';
import { modePath, withParam } from './views.js';
import type { PageLocation } from './views.js';

/** Developers → Audit log: who did what, to which object, when and from where; every operator may read it. */

/** Dashboard pages of the objects an action can name, by id prefix (api.md §8's stable URLs and this area's). */
const OBJECT_PAGES: readonly (readonly [string, string])[] = [
  ['pi_', '/dashboard/payments/'], ['dp_', '/dashboard/disputes/'], ['we_', '/dashboard/webhooks/'], ['evt_', '/dashboard/events/'], ['req_', '/dashboard/logs/'],
];

function objectLink(id: string | null, livemode: boolean): SafeHtml | string {
  if (id === null) return '—';
  const page = OBJECT_PAGES.find(([prefix]) => id.startsWith(prefix));
  return page === undefined ? html`<span class="mono">${id}</span>` : html`<a class="mono" href="${modePath(`${page[1]}${id}`, livemode)}" data-testid="audit-object">${id}</a>`;
}

function auditListPage(location: PageLocation, session: OperatorSession, livemode: boolean, entries: AuditEntry[], hasMore: boolean, paged: boolean): DashboardPage {
  const t = developersText(location);
  const rows = entries.length === 0
    ? emptyRow(6, t.noAudit)
    : entries.map((entry) => html`<tr data-testid="audit-row" data-action="${entry.action}"><td>${timeOf(entry.created)}</td><td>${entry.actorEmail ?? '—'}</td>
<td class="mono">${entry.action}</td><td>${objectLink(entry.objectId, livemode)}</td><td class="mono">${entry.detail === null ? '' : JSON.stringify(entry.detail)}</td><td class="mono">${entry.ip ?? '—'}</td></tr>`);
  const last = entries[entries.length - 1];
  const base = withParam(location.url, 'starting_after', null);
  const links = [
    paged ? html`<a class="button secondary" data-testid="audit-newest" href="${base}">${t.newestEntries}</a>` : '',
    hasMore && last !== undefined ? html`<a class="button secondary" rel="next" data-testid="page-next" href="${withParam(base, 'starting_after', last.id)}">${t.olderEntries}</a>` : '',
  ];
  const body = html`${pageHeading(t.auditTitle, 'audit-title')}
<section class="card"><table class="list" data-testid="audit"><thead><tr><th scope="col">${t.when}</th><th scope="col">${t.who}</th><th scope="col">${t.action}</th><th scope="col">${t.object}</th><th scope="col">${t.detail}</th><th scope="col">${t.ip}</th></tr></thead>
<tbody>${rows}</tbody></table>${paged || hasMore ? html`<nav class="pager" aria-label="${t.auditTitle}">${links}</nav>` : ''}</section>`;
  return developersPage(location, session, livemode, t.auditTitle, body);
}

export function registerAuditPages(scope: FastifyInstance, kit: DashboardKit): void {
  scope.get('/dashboard/audit', routeAuth('none'), async (req, reply) => {
    const olderThan = queryParam(req.query, 'starting_after') ?? null;
    const page = await auditPage(kit.core, scopeOf(req), olderThan);
    return sendDashboardPage(reply, 200, auditListPage(locationOf(req, reply), operatorOf(req), req.dashboardLivemode, page.entries, page.hasMore, olderThan !== null));
  });
}
