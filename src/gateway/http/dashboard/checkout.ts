import type { FastifyInstance, FastifyRequest } from 'fastify';
import { CHECKOUT_SESSION_STATUSES, checkoutSessionDetail, listCheckoutSessionsPage, listProductsPage, productDetail } from '../../core/dashboard_checkout.js';
import type { CheckoutSessionStatus, KeysetParams } from '../../core/dashboard_checkout.js';
import { invalidRequest } from '../../errors.js';
import { routeAuth } from '../context.js';
import { queryParam } from '../pages/html.js';
import { listLimitOf } from './disputes.js';
import type { DashboardKit } from './kit.js';
import { locationOf, operatorOf, scopeOf } from './kit.js';
import { sendDashboardPage } from './page.js';
import { PRODUCTS_PATH, SESSIONS_PATH, productDetailPage, productsListPage, sessionDetailPage, sessionsListPage } from './checkout_views.js';

/**
 * The "Checkout & products" pages: checkout sessions (by status) and products with their prices,
 * each list keyset-paged like the API, each object's page scoped to the operator's account and
 * mode. Read-only: sessions, products and prices are made by the merchant's integration.
 */

function keysetOf(req: FastifyRequest): KeysetParams {
  return { startingAfter: queryParam(req.query, 'starting_after') ?? null, endingBefore: queryParam(req.query, 'ending_before') ?? null, ...listLimitOf(req) };
}

function sessionStatusOf(req: FastifyRequest): CheckoutSessionStatus | null {
  const value = queryParam(req.query, 'status');
  if (value === undefined) return null;
  const known = CHECKOUT_SESSION_STATUSES.find((status) => status === value);
  if (known === undefined) throw invalidRequest('parameter_invalid', `Invalid status '${value}': use one of ${CHECKOUT_SESSION_STATUSES.join(', ')}.`, 'status');
  return known;
}

function activeOf(req: FastifyRequest): boolean | null {
  const value = queryParam(req.query, 'active');
  if (value === undefined) return null;
  if (value !== 'true' && value !== 'false') throw invalidRequest('parameter_invalid', `Invalid active '${value}': use true or false.`, 'active');
  return value === 'true';
}

const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

export function registerCheckoutPages(scope: FastifyInstance, kit: DashboardKit): void {
  scope.get(SESSIONS_PATH, routeAuth('none'), async (req, reply) => {
    const location = locationOf(req, reply);
    const status = sessionStatusOf(req);
    const window = await listCheckoutSessionsPage(kit.core, scopeOf(req), { ...keysetOf(req), status });
    return sendDashboardPage(reply, 200, sessionsListPage(location, operatorOf(req), req.dashboardLivemode, status, window));
  });

  scope.get(`${SESSIONS_PATH}/:id`, routeAuth('none'), async (req, reply) => {
    const location = locationOf(req, reply);
    const detail = await checkoutSessionDetail(kit.core, scopeOf(req), idOf(req));
    return sendDashboardPage(reply, 200, sessionDetailPage(location, operatorOf(req), req.dashboardLivemode, detail));
  });

  scope.get(PRODUCTS_PATH, routeAuth('none'), async (req, reply) => {
    const location = locationOf(req, reply);
    const active = activeOf(req);
    const window = await listProductsPage(kit.core, scopeOf(req), { ...keysetOf(req), active });
    return sendDashboardPage(reply, 200, productsListPage(location, operatorOf(req), req.dashboardLivemode, active, window));
  });

  scope.get(`${PRODUCTS_PATH}/:id`, routeAuth('none'), async (req, reply) => {
    const location = locationOf(req, reply);
    const detail = await productDetail(kit.core, scopeOf(req), idOf(req), keysetOf(req));
    return sendDashboardPage(reply, 200, productDetailPage(location, operatorOf(req), req.dashboardLivemode, detail));
  });
}
