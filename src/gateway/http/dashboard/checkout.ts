import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../core/context.js';
import { CHECKOUT_SESSION_STATUSES, checkoutSessionDetail, listCheckoutSessionsPage, listProductsPage, productDetail } from '../../core/dashboard_checkout.js';
import type { CheckoutSessionStatus, KeysetParams } from '../../core/dashboard_checkout.js';
import { createPrice } from '../../core/prices.js';
import { createProduct } from '../../core/products.js';
import { AMOUNT_MAX_MINOR, currencyInfo } from '../../domain/money.js';
import { ApiError, invalidRequest } from '../../errors.js';
import { routeAuth } from '../context.js';
import { queryParam } from '../pages/html.js';
import { createPriceShape } from '../routes/prices.js';
import { createProductShape } from '../routes/products.js';
import { parseParams } from '../schema.js';
import { auditedAction, refusedToViewer } from './actions.js';
import { CHECKOUT_TEXT } from './checkout_text.js';
import type { CatalogFormState } from './checkout_views.js';
import { formField } from './session.js';
import { modePath, withParam } from './views.js';
import type { DashboardKit } from './kit.js';
import { locationOf, operatorOf, scopeOf } from './kit.js';
import { sendDashboardPage } from './page.js';
import { enumQuery, listLimitOf } from './query.js';
import { PRODUCTS_PATH, SESSIONS_PATH, productDetailPage, productsListPage, sessionDetailPage, sessionsListPage } from './checkout_views.js';

/**
 * The "Checkout & products" pages: checkout sessions (by status) and products with their prices,
 * each list keyset-paged like the API, each object's page scoped to the operator's account and
 * mode. Sessions are made by the merchant's integration; an admin may also create a product
 * (with a first one-time price) and add one-time prices here, through the same core functions
 * as POST /v1/products and /v1/prices (same validation, same events), audited.
 */

function keysetOf(req: FastifyRequest): KeysetParams {
  return { startingAfter: queryParam(req.query, 'starting_after') ?? null, endingBefore: queryParam(req.query, 'ending_before') ?? null, ...listLimitOf(req) };
}

function sessionStatusOf(req: FastifyRequest): CheckoutSessionStatus | null {
  return enumQuery(req.query, 'status', CHECKOUT_SESSION_STATUSES);
}

function activeOf(req: FastifyRequest): boolean | null {
  const value = enumQuery(req.query, 'active', ['true', 'false']);
  return value === null ? null : value === 'true';
}

const idOf = (req: FastifyRequest) => (req.params as { id: string }).id;

/** A decimal amount in major units as typed ("128", "128.5") → minor units; null when it is not one. */
function minorUnits(typed: string, currency: string): number | null {
  const exponent = currencyInfo(currency)?.exponent ?? 2;
  const match = /^(\d+)(?:\.(\d*))?$/.exec(typed.trim().replaceAll(',', ''));
  if (match === null || (match[2] ?? '').length > exponent) return null;
  const minor = BigInt(match[1] as string) * 10n ** BigInt(exponent) + BigInt((match[2] ?? '').padEnd(exponent, '0') || '0');
  return minor <= BigInt(AMOUNT_MAX_MINOR) ? Number(minor) : null;
}

function formValues(body: unknown, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, formField(body, name)]));
}

function actionContext(req: FastifyRequest): RequestContext {
  return { scope: scopeOf(req), requestId: req.id, idempotency: null };
}

/** The amount typed, or the 400 naming it. */
function amountOf(req: FastifyRequest, reply: FastifyReply, values: Record<string, string>, currency: string): number {
  const minor = minorUnits(values.amount ?? '', currency);
  if (minor === null) {
    const t = CHECKOUT_TEXT[locationOf(req, reply).lang];
    throw invalidRequest('parameter_invalid', t.invalidAmount(values.amount ?? '', currency, currencyInfo(currency)?.exponent ?? 2), 'amount');
  }
  return minor;
}

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

  async function productsPage(req: FastifyRequest, reply: FastifyReply, status: number, state: CatalogFormState): Promise<FastifyReply> {
    const location = locationOf(req, reply);
    const active = req.method === 'GET' ? activeOf(req) : null;
    const window = await listProductsPage(kit.core, scopeOf(req), req.method === 'GET' ? { ...keysetOf(req), active } : { startingAfter: null, endingBefore: null, active });
    return sendDashboardPage(reply, status, productsListPage(location, operatorOf(req), req.dashboardLivemode, active, window, state));
  }

  async function productPage(req: FastifyRequest, reply: FastifyReply, status: number, state: CatalogFormState): Promise<FastifyReply> {
    const location = locationOf(req, reply);
    const detail = await productDetail(kit.core, scopeOf(req), idOf(req), req.method === 'GET' ? keysetOf(req) : { startingAfter: null, endingBefore: null });
    return sendDashboardPage(reply, status, productDetailPage(location, operatorOf(req), req.dashboardLivemode, detail, state));
  }

  /** A refusal (bad amount, bad name, from the form or the core) is the page again with the reason and what was typed. */
  function refusal(error: unknown, values: Record<string, string>): CatalogFormState & { status: number } {
    if (!(error instanceof ApiError) || error.status < 400 || error.status >= 500) throw error;
    return { status: error.status, notice: { text: error.message, tone: 'bad' }, values };
  }

  function noticeOf(req: FastifyRequest, reply: FastifyReply): CatalogFormState {
    const t = CHECKOUT_TEXT[locationOf(req, reply).lang];
    const done = queryParam(req.query, 'done');
    const text = done === 'product_created' ? t.doneProductCreated : done === 'price_created' ? t.donePriceCreated : null;
    return { notice: text === null ? null : { text, tone: 'ok' }, values: {} };
  }

  scope.get(PRODUCTS_PATH, routeAuth('none'), async (req, reply) => productsPage(req, reply, 200, noticeOf(req, reply)));

  scope.get(`${PRODUCTS_PATH}/:id`, routeAuth('none'), async (req, reply) => productPage(req, reply, 200, noticeOf(req, reply)));

  scope.post(PRODUCTS_PATH, routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const values = formValues(req.body, ['name', 'description', 'amount', 'currency']);
    let productId: string;
    try {
      const product = parseParams(createProductShape, { name: values.name, ...(values.description === '' ? {} : { description: values.description }) });
      const price = values.amount?.trim() === '' ? null : parseParams(createPriceShape, { currency: values.currency, unit_amount: amountOf(req, reply, values, values.currency ?? ''), product_data: product });
      const created = await auditedAction(kit, req, {
        action: 'product.create',
        objectId: null,
        detail: { name: product.name, ...(price === null ? {} : { unit_amount: price.unit_amount, currency: price.currency }) },
        run: async () => {
          if (price === null) return { product: String((await createProduct(kit.core, actionContext(req), product)).id), price: null };
          const view = await createPrice(kit.core, actionContext(req), price);
          return { product: String(view.product), price: String(view.id) };
        },
        outcome: (result) => result,
      });
      productId = created.product;
    } catch (error) {
      const { status, ...state } = refusal(error, values);
      return productsPage(req, reply, status, state);
    }
    return reply.redirect(withParam(modePath(`${PRODUCTS_PATH}/${encodeURIComponent(productId)}`, req.dashboardLivemode), 'done', 'product_created'), 303);
  });

  scope.post(`${PRODUCTS_PATH}/:id/prices`, routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const id = idOf(req);
    // Another account's or mode's product is "no such" before anything is recorded.
    await productDetail(kit.core, scopeOf(req), id, { startingAfter: null, endingBefore: null, limit: 1 });
    const values = formValues(req.body, ['amount', 'currency', 'nickname']);
    try {
      const price = parseParams(createPriceShape, {
        currency: values.currency, unit_amount: amountOf(req, reply, values, values.currency ?? ''), product: id, ...(values.nickname === '' ? {} : { nickname: values.nickname }),
      });
      await auditedAction(kit, req, {
        action: 'price.create',
        objectId: id,
        detail: { unit_amount: price.unit_amount, currency: price.currency },
        run: () => createPrice(kit.core, actionContext(req), price),
        outcome: (view) => ({ price: view.id }),
      });
    } catch (error) {
      const { status, ...state } = refusal(error, values);
      return productPage(req, reply, status, state);
    }
    return reply.redirect(withParam(modePath(`${PRODUCTS_PATH}/${encodeURIComponent(id)}`, req.dashboardLivemode), 'done', 'price_created'), 303);
  });
}
