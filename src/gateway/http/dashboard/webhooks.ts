import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../core/context.js';
import { dashboardEndpoint, dashboardEndpoints, deliveryStatusFilter, endpointDeliveryLog, retryDelivery } from '../../core/dashboard_webhooks.js';
import { createWebhookEndpoint, updateWebhookEndpoint } from '../../core/webhook_endpoints.js';
import { ApiError, invalidRequest } from '../../errors.js';
import { routeAuth } from '../context.js';
import { queryParam } from '../pages/html.js';
import { auditedAction, refusedToViewer } from './actions.js';
import { cursorParams, windowOf } from './developers_views.js';
import type { DashboardKit } from './kit.js';
import { locationOf, operatorOf, scopeOf } from './kit.js';
import { sendDashboardPage } from './page.js';
import { formField } from './session.js';
import { EMPTY_ENDPOINT_FORM, doneNotice, endpointPath, webhookDetailPage, webhooksListPage } from './webhooks_views.js';
import type { EndpointFormView } from './webhooks_views.js';

/**
 * Developers → Webhooks: the account's endpoints in the page's mode, created, edited, disabled
 * and enabled through the API's own functions (same validation, same effects), and each
 * endpoint's delivery log with a retry per undelivered delivery.
 */

const ENDPOINTS_PER_PAGE = 20;
const DELIVERIES_PER_PAGE = 20;
/** Carries a new endpoint's signing secret from the create POST to the one GET that shows it. */
const SECRET_COOKIE = 'zhifu_new_endpoint_secret';
const SECRET_COOKIE_MAX_AGE_SECONDS = 10 * 60;

interface EndpointParams {
  we_id: string;
}

function contextOf(req: FastifyRequest): RequestContext {
  return { scope: scopeOf(req), requestId: req.id, idempotency: null };
}

/** The endpoint form as posted: the checked events arrive as `enabled_events[]` (one or many). */
function postedForm(body: unknown): EndpointFormView {
  const events = (body as Record<string, unknown> | null | undefined)?.enabled_events;
  const list = Array.isArray(events) ? events.filter((e): e is string => typeof e === 'string') : typeof events === 'string' ? [events] : [];
  return { url: formField(body, 'url').trim(), enabledEvents: list, description: formField(body, 'description').trim(), error: null };
}

function checkForm(form: EndpointFormView): void {
  if (form.url === '') throw invalidRequest('parameter_missing', 'Missing required param: url.', 'url');
  if (form.enabledEvents.length === 0) throw invalidRequest('parameter_missing', 'Choose at least one event to send (or all events).', 'enabled_events');
}

/** A refused form (400 from the API's validation) is shown inline with what was entered; anything else propagates. */
function formError(error: unknown): string {
  if (error instanceof ApiError && error.status === 400) return error.message;
  throw error;
}

export function registerWebhookPages(scope: FastifyInstance, kit: DashboardKit): void {
  const secureCookie = kit.publicUrl.startsWith('https://');

  async function listPage(req: FastifyRequest, reply: FastifyReply, status: number, form: EndpointFormView) {
    const params = cursorParams(req, ENDPOINTS_PER_PAGE);
    const page = await dashboardEndpoints(kit.core, scopeOf(req), params);
    const view = { page, window: windowOf(params, page.data.map((e) => e.id), page.hasMore), form };
    return sendDashboardPage(reply, status, webhooksListPage(locationOf(req, reply), operatorOf(req), req.dashboardLivemode, view));
  }

  async function detailPage(req: FastifyRequest<{ Params: EndpointParams }>, reply: FastifyReply, status: number, form: EndpointFormView | null) {
    const scopeNow = scopeOf(req);
    const endpoint = await dashboardEndpoint(kit.core, scopeNow, req.params.we_id);
    const statusFilter = deliveryStatusFilter(queryParam(req.query, 'status'));
    const params = cursorParams(req, DELIVERIES_PER_PAGE);
    const deliveries = await endpointDeliveryLog(kit.core, scopeNow, endpoint.id, { ...params, status: statusFilter });
    // The secret is shown on the first view after creation only: the cookie is cleared by this response.
    let secret: string | null = null;
    const flash = (req.cookies as Partial<Record<string, string>>)[SECRET_COOKIE];
    if (flash !== undefined) {
      const [id, value] = flash.split(':', 2);
      if (id === endpoint.id && value !== undefined) secret = value;
      void reply.clearCookie(SECRET_COOKIE, { path: '/dashboard/webhooks' });
      void reply.header('cache-control', 'no-store');
    }
    const view = {
      endpoint, secret, form, statusFilter, deliveries,
      done: doneNotice(queryParam(req.query, 'done')),
      window: windowOf(params, deliveries.data.map((d) => d.id), deliveries.hasMore),
    };
    return sendDashboardPage(reply, status, webhookDetailPage(locationOf(req, reply), operatorOf(req), req.dashboardLivemode, view));
  }

  scope.get('/dashboard/webhooks', routeAuth('none'), async (req, reply) => listPage(req, reply, 200, EMPTY_ENDPOINT_FORM));

  scope.post('/dashboard/webhooks', routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const form = postedForm(req.body);
    let created: { id: string; secret: string };
    try {
      checkForm(form);
      created = await auditedAction(kit, req, {
        action: 'webhook_endpoint.create', objectId: null,
        // Never the secret: the audit log records what was asked for and the new id.
        detail: { url: form.url, enabled_events: form.enabledEvents },
        run: async () => {
          const view = await createWebhookEndpoint(kit.core, contextOf(req), { url: form.url, enabled_events: form.enabledEvents, description: form.description === '' ? null : form.description });
          return { id: view.id as string, secret: view.secret as string };
        },
        outcome: (result) => ({ id: result.id }),
      });
    } catch (error) {
      return listPage(req, reply, 400, { ...form, error: formError(error) });
    }
    void reply.setCookie(SECRET_COOKIE, `${created.id}:${created.secret}`, {
      path: '/dashboard/webhooks', httpOnly: true, sameSite: 'strict', secure: secureCookie, maxAge: SECRET_COOKIE_MAX_AGE_SECONDS,
    });
    return reply.redirect(endpointPath(created.id, req.dashboardLivemode, 'created'), 303);
  });

  scope.get<{ Params: EndpointParams }>('/dashboard/webhooks/:we_id', routeAuth('none'), async (req, reply) => detailPage(req, reply, 200, null));

  scope.post<{ Params: EndpointParams }>('/dashboard/webhooks/:we_id', routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const id = req.params.we_id;
    // 404 for another account's endpoint before anything is recorded.
    await dashboardEndpoint(kit.core, scopeOf(req), id);
    const form = postedForm(req.body);
    try {
      checkForm(form);
      await auditedAction(kit, req, {
        action: 'webhook_endpoint.update', objectId: id,
        detail: { url: form.url, enabled_events: form.enabledEvents, description: form.description },
        run: () => updateWebhookEndpoint(kit.core, contextOf(req), id, { url: form.url, enabled_events: form.enabledEvents, description: form.description === '' ? null : form.description }),
      });
    } catch (error) {
      return detailPage(req, reply, 400, { ...form, error: formError(error) });
    }
    return reply.redirect(endpointPath(id, req.dashboardLivemode, 'updated'), 303);
  });

  for (const [verb, disabled] of [['disable', true], ['enable', false]] as const) {
    scope.post<{ Params: EndpointParams }>(`/dashboard/webhooks/:we_id/${verb}`, routeAuth('none'), async (req, reply) => {
      if (refusedToViewer(req, reply)) return reply;
      const id = req.params.we_id;
      await dashboardEndpoint(kit.core, scopeOf(req), id);
      await auditedAction(kit, req, {
        action: `webhook_endpoint.${verb}`, objectId: id, detail: {},
        run: () => updateWebhookEndpoint(kit.core, contextOf(req), id, { disabled }),
        outcome: (view) => ({ status: view.status }),
      });
      return reply.redirect(endpointPath(id, req.dashboardLivemode, disabled ? 'disabled' : 'enabled'), 303);
    });
  }

  scope.post<{ Params: EndpointParams & { delivery_id: string } }>('/dashboard/webhooks/:we_id/deliveries/:delivery_id/retry', routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const { we_id: id, delivery_id: deliveryId } = req.params;
    await dashboardEndpoint(kit.core, scopeOf(req), id);
    await auditedAction(kit, req, {
      action: 'webhook_delivery.retry', objectId: id, detail: { delivery: deliveryId },
      run: () => retryDelivery(kit.core, scopeOf(req), id, deliveryId, req.id),
      outcome: (eventId) => ({ event: eventId }),
    });
    return reply.redirect(endpointPath(id, req.dashboardLivemode, 'retried'), 303);
  });
}
