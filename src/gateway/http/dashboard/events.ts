import type { FastifyInstance } from 'fastify';
import { eventDeliveryLog } from '../../core/dashboard_webhooks.js';
import type { DashboardEventDelivery } from '../../core/dashboard_webhooks.js';
import { EVENT_TYPES, listEvents, retrieveEvent } from '../../core/events.js';
import type { OperatorSession } from '../../core/operators.js';
import type { Page } from '../../core/lists.js';
import type { ApiObject } from '../../core/views.js';
import { invalidRequest } from '../../errors.js';
import { routeAuth } from '../context.js';
import { html, queryParam } from '../pages/html.js';
import { detailList, emptyRow, pageHeading, pager, statusBadge, timeOf } from './components.js';
import type { ListWindowView } from './components.js';
import { bodyBlock, cursorParams, developersPage, developersText, windowOf } from './developers_views.js';
import type { DashboardKit } from './kit.js';
import { locationOf, operatorOf, scopeOf } from './kit.js';
import type { DashboardPage } from './page.js';
import { sendDashboardPage } from './page.js';
import { modePath } from './views.js';
import type { PageLocation } from './views.js';

/** Developers → Events: the account's events in the page's mode, by type, and one event with its JSON and deliveries. */

const EVENTS_PER_PAGE = 25;

/** One event type of api.md §5 (or none); anything else is a 400 page. */
function typeFilter(value: string | undefined): string | null {
  if (value === undefined) return null;
  if ((EVENT_TYPES as readonly string[]).includes(value)) return value;
  throw invalidRequest('parameter_invalid', `Invalid type: "${value}". Choose one of the listed event types.`, 'type');
}

function eventsListPage(location: PageLocation, session: OperatorSession, livemode: boolean, type: string | null, page: Page<ApiObject>, window: ListWindowView): DashboardPage {
  const t = developersText(location);
  const options = EVENT_TYPES.map((name) => html`<option value="${name}"${name === type ? html` selected` : ''}>${name}</option>`);
  const filters = html`<form class="filters" method="get" action="/dashboard/events" data-testid="event-filters">${livemode ? html`<input type="hidden" name="mode" value="live">` : ''}
<div><label for="event-type">${t.eventType}</label><select id="event-type" name="type" data-testid="event-type"><option value="">${t.any}</option>${options}</select></div>
<button class="button small secondary" type="submit" data-testid="apply-filters">${t.filter}</button>${type === null ? '' : html`<a class="button small secondary" href="${modePath('/dashboard/events', livemode)}">${t.clear}</a>`}</form>`;
  const rows = page.data.length === 0
    ? emptyRow(4, t.noEvents)
    : page.data.map((event) => html`<tr data-testid="event-row" data-id="${event.id as string}"><td><a class="mono" href="${modePath(`/dashboard/events/${event.id as string}`, livemode)}" data-testid="event-link">${event.id as string}</a></td>
<td>${event.type as string}</td><td class="num">${String(event.pending_webhooks)}</td><td>${timeOf(event.created as number)}</td></tr>`);
  const body = html`${pageHeading(t.eventsTitle, 'events-title')}
<section class="card">${filters}
<table class="list" data-testid="events"><thead><tr><th scope="col">${t.eventId}</th><th scope="col">${t.eventType}</th><th scope="col" class="num">${t.pendingWebhooks}</th><th scope="col">${t.created}</th></tr></thead>
<tbody>${rows}</tbody></table>${pager(location, window)}</section>`;
  return developersPage(location, session, livemode, t.eventsTitle, body);
}

function eventDetailPage(location: PageLocation, session: OperatorSession, livemode: boolean, event: ApiObject, deliveries: DashboardEventDelivery[]): DashboardPage {
  const t = developersText(location);
  const request = event.request as { id: string | null; idempotency_key: string | null } | null;
  const deliveryRows = deliveries.length === 0
    ? emptyRow(5, t.noDeliveries)
    : deliveries.map((delivery) => {
      const last = delivery.attempts[delivery.attempts.length - 1];
      return html`<tr data-testid="event-delivery" data-status="${delivery.status}"><td>${delivery.endpointUrl === null ? t.deletedEndpoint : html`<a class="mono" href="${modePath(`/dashboard/webhooks/${delivery.endpointId}`, livemode)}">${delivery.endpointUrl}</a>`}</td>
<td>${statusBadge(delivery.status)}</td><td class="num">${delivery.attemptCount}</td><td class="num">${last?.statusCode == null ? '—' : String(last.statusCode)}</td><td>${timeOf(last?.attemptedAt ?? null)}</td></tr>`;
    });
  const requestId = request?.id ?? null;
  const body = html`${pageHeading(event.type as string, 'event-title')}
<section class="card">${detailList([
    [t.eventId, html`<span class="mono" data-testid="event-id">${event.id as string}</span>`],
    [t.eventType, event.type as string],
    [t.created, timeOf(event.created as number)],
    [t.requestId, requestId === null ? '—' : html`<a class="mono" href="${modePath(`/dashboard/logs/${requestId}`, livemode)}" data-testid="event-request">${requestId}</a>`],
    [t.pendingWebhooks, String(event.pending_webhooks)],
  ])}</section>
<section class="card" aria-labelledby="event-body-title"><h2 id="event-body-title">${t.eventBody}</h2>${bodyBlock(JSON.stringify(event), '—', 'event-body', t.eventBody)}</section>
<section class="card" aria-labelledby="event-deliveries-title"><h2 id="event-deliveries-title">${t.deliveries}</h2>
<table class="list" data-testid="event-deliveries"><thead><tr><th scope="col">${t.endpoint}</th><th scope="col">${t.status}</th><th scope="col" class="num">${t.attempts}</th><th scope="col" class="num">${t.httpStatus}</th><th scope="col">${t.attemptTime}</th></tr></thead>
<tbody>${deliveryRows}</tbody></table></section>`;
  return developersPage(location, session, livemode, `${t.eventTitle} ${event.id as string}`, body);
}

export function registerEventPages(scope: FastifyInstance, kit: DashboardKit): void {
  scope.get('/dashboard/events', routeAuth('none'), async (req, reply) => {
    const type = typeFilter(queryParam(req.query, 'type'));
    const params = cursorParams(req, EVENTS_PER_PAGE);
    const page = await listEvents(kit.core, scopeOf(req), { ...params, ...(type === null ? {} : { type }) });
    const window = windowOf(params, page.data.map((event) => event.id as string), page.hasMore);
    return sendDashboardPage(reply, 200, eventsListPage(locationOf(req, reply), operatorOf(req), req.dashboardLivemode, type, page, window));
  });

  scope.get<{ Params: { evt_id: string } }>('/dashboard/events/:evt_id', routeAuth('none'), async (req, reply) => {
    const event = await retrieveEvent(kit.core, scopeOf(req), req.params.evt_id);
    const deliveries = await eventDeliveryLog(kit.core, scopeOf(req), req.params.evt_id);
    return sendDashboardPage(reply, 200, eventDetailPage(locationOf(req, reply), operatorOf(req), req.dashboardLivemode, event, deliveries));
  });
}
