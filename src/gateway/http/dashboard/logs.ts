import type { FastifyInstance } from 'fastify';
import { DAY_MS, utcDayStart } from '../../domain/days.js';
import type { ListParams } from '../../core/lists.js';
import { getRequestLog, listRequestLogs } from '../../core/request_logs.js';
import type { RequestLogFilter } from '../../core/request_logs.js';
import { invalidRequest, resourceMissing } from '../../errors.js';
import { routeAuth } from '../context.js';
import { queryParam } from '../pages/html.js';
import { cursorParams, windowOf } from './developers_views.js';
import type { DashboardKit } from './kit.js';
import { locationOf, operatorOf, scopeOf } from './kit.js';
import { logDetailPage, logsListPage } from './logs_views.js';
import type { LogFilterView } from './logs_views.js';
import { sendDashboardPage } from './page.js';

/**
 * Developers → Request logs: every answered /v1 request of the account in the page's mode
 * (core/request_logs.ts), filtered by method, status (exact or class), path prefix and day,
 * keyset-paged; and one entry, which is where an API error's `request_log_url` points.
 */

const LOGS_PER_PAGE = 30;
export const LOG_METHODS = ['GET', 'POST', 'DELETE'] as const;

/** The filters of the query, checked: a malformed one is a 400 page naming it. */
export function logFilters(query: unknown): { view: LogFilterView; filter: RequestLogFilter; created: ListParams['created'] } {
  const method = queryParam(query, 'method');
  const status = queryParam(query, 'status');
  const path = queryParam(query, 'path');
  const date = queryParam(query, 'date');
  const filter: RequestLogFilter = {};
  if (method !== undefined) {
    if (!(LOG_METHODS as readonly string[]).includes(method)) throw invalidRequest('parameter_invalid', `Invalid method: "${method}". Use GET, POST or DELETE.`, 'method');
    filter.method = method;
  }
  if (status !== undefined) {
    const exact = /^[1-5]\d\d$/.exec(status);
    const group = /^([1-5])xx$/i.exec(status);
    if (exact) filter.status = Number(status);
    else if (group) filter.status = { gte: Number(group[1]) * 100, lt: Number(group[1]) * 100 + 100 };
    else throw invalidRequest('parameter_invalid', `Invalid status: "${status}". Use a status code such as 402, or a class such as 4xx.`, 'status');
  }
  if (path !== undefined) {
    if (!path.startsWith('/') || path.length > 200) throw invalidRequest('parameter_invalid', `Invalid path: "${path.slice(0, 200)}". Give the start of a path, such as /v1/payment_intents.`, 'path');
    filter.pathPrefix = path;
  }
  let created: ListParams['created'] = null;
  if (date !== undefined) {
    const start = utcDayStart(date);
    if (start === null) {
      throw invalidRequest('parameter_invalid', `Invalid date: "${date}". Use YYYY-MM-DD (UTC).`, 'date');
    }
    created = { gte: start, lt: start + DAY_MS };
  }
  return { view: { method: method ?? '', status: status ?? '', path: path ?? '', date: date ?? '' }, filter, created };
}

export function registerLogPages(scope: FastifyInstance, kit: DashboardKit): void {
  scope.get('/dashboard/logs', routeAuth('none'), async (req, reply) => {
    const { view, filter, created } = logFilters(req.query);
    const params = { ...cursorParams(req, LOGS_PER_PAGE), created };
    const page = await listRequestLogs(kit.core.database.db, scopeOf(req), filter, params);
    const window = windowOf(params, page.data.map((log) => log.id), page.hasMore);
    return sendDashboardPage(reply, 200, logsListPage(locationOf(req, reply), operatorOf(req), req.dashboardLivemode, view, page, window));
  });

  scope.get<{ Params: { req_id: string } }>('/dashboard/logs/:req_id', routeAuth('none'), async (req, reply) => {
    const log = await getRequestLog(kit.core.database.db, scopeOf(req), req.params.req_id);
    if (log === undefined) throw resourceMissing('request log', req.params.req_id);
    return sendDashboardPage(reply, 200, logDetailPage(locationOf(req, reply), operatorOf(req), req.dashboardLivemode, log));
  });
}
