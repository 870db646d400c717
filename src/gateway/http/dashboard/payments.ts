import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { listPaymentsPage, majorToMinor, paymentDetail } from '../../core/dashboard_payments.js';
import type { PaymentDetail, PaymentListQuery } from '../../core/dashboard_payments.js';
import type { RequestContext } from '../../core/context.js';
import {
  IDEMPOTENCY_KEY_LENGTH_MAX, IdempotencyConflict, beginIdempotentRequest, decideIdempotentRequest, endIdempotentRequest, fingerprintParams,
} from '../../core/idempotency.js';
import type { IdempotencyClaim } from '../../core/idempotency.js';
import { cancelPaymentIntent } from '../../core/payment_attempts.js';
import { recoverIdempotentRequest } from '../../core/recovery.js';
import { createRefund } from '../../core/refunds.js';
import type { RefundReason } from '../../core/refunds.js';
import type { ApiObject } from '../../core/views.js';
import { ApiError, invalidRequest } from '../../errors.js';
import type { Scope } from '../../store/scope.js';
import { routeAuth } from '../context.js';
import { formatAmount } from '../pages/checkout.js';
import { queryParam } from '../pages/html.js';
import { auditedAction, refusedToViewer } from './actions.js';
import type { DashboardKit } from './kit.js';
import { locationOf, operatorOf, scopeOf } from './kit.js';
import { sendDashboardPage } from './page.js';
import { PAYMENTS_TEXT } from './payments_text.js';
import { PAYMENTS_PATH, paymentDetailPage, paymentPath, paymentsListPage } from './payments_views.js';
import type { DetailState } from './payments_views.js';
import { formField } from './session.js';
import { withParam } from './views.js';

/**
 * The Payments area (api.md §8): the list with filters and search, one PaymentIntent with its
 * timeline, and the admin's refund and cancel — through the API's own core functions, so they
 * reach Alipay+ and emit the same events and webhooks. The refund form carries a random
 * Idempotency-Key of its own: a form submitted twice (a double click, a resubmitted reload)
 * refunds once, by the same machinery as the API's Idempotency-Key header.
 */

const LIST_QUERY_FIELDS = ['status', 'currency', 'from', 'to', 'amount_min', 'amount_max', 'q', 'starting_after', 'ending_before'] as const;
const REFUND_REASONS: readonly RefundReason[] = ['duplicate', 'fraudulent', 'requested_by_customer'];
/** A double submit arriving while the first is still at Alipay+ waits this long for its answer. */
const IN_PROGRESS_WAIT_MS = 10_000;
const IN_PROGRESS_POLL_MS = 200;

/** This process, as the owner of the refund form's idempotency claims (like the API's hook). */
const CLAIM_OWNER = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;

function listQueryOf(req: FastifyRequest): PaymentListQuery {
  const query: PaymentListQuery = {};
  for (const field of LIST_QUERY_FIELDS) {
    const value = queryParam(req.query, field);
    if (value !== undefined) query[field] = value;
  }
  return query;
}

function newIdempotencyKey(): string {
  return `dash_${randomBytes(18).toString('base64url')}`;
}

export function registerPaymentPages(scope: FastifyInstance, kit: DashboardKit): void {
  scope.get(PAYMENTS_PATH, routeAuth('none'), async (req, reply) => {
    const location = locationOf(req, reply);
    const query = listQueryOf(req);
    const livemode = req.dashboardLivemode;
    try {
      const page = await listPaymentsPage(kit.core, scopeOf(req), query);
      if (page.exactId !== null) return reply.redirect(paymentPath(page.exactId, livemode), 303);
      return sendDashboardPage(reply, 200, paymentsListPage(location, operatorOf(req), livemode, query, page, null));
    } catch (error) {
      // A malformed filter: the form again with what was typed and why, as a 400.
      if (!(error instanceof ApiError) || error.status !== 400) throw error;
      return sendDashboardPage(reply, 400, paymentsListPage(location, operatorOf(req), livemode, query, { exactId: null, rows: [], hasMore: false, paged: false }, error.message));
    }
  });

  scope.get(`${PAYMENTS_PATH}/:id`, routeAuth('none'), async (req, reply) => {
    const location = locationOf(req, reply);
    const t = PAYMENTS_TEXT[location.lang];
    const detail = await paymentDetail(kit.core, scopeOf(req), idOf(req));
    let shown: DetailState['notice'] = null;
    const done = queryParam(req.query, 'done');
    if (done === 'canceled') shown = { text: t.canceledNotice, tone: 'ok' };
    if (done === 'refunded') {
      const refundId = queryParam(req.query, 'refund');
      const refund = detail.timeline.find((entry) => entry.kind === 'refund' && entry.id === refundId);
      if (refund?.kind === 'refund') shown = { text: t.refunded(formatAmount(refund.currency, refund.amount), refund.status), tone: refund.status === 'failed' ? 'bad' : 'ok' };
    }
    return sendDetail(req, reply, 200, detail, { notice: shown, idempotencyKey: newIdempotencyKey(), refundAmount: '', refundReason: '' });
  });

  scope.post(`${PAYMENTS_PATH}/:id/refund`, routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const scopeNow = scopeOf(req);
    const id = idOf(req);
    // The PaymentIntent of this scope (404 otherwise), for the currency the amount is typed in.
    const before = await paymentDetail(kit.core, scopeNow, id);
    const typedAmount = formField(req.body, 'amount').trim();
    const typedReason = formField(req.body, 'reason');
    const form = { refundAmount: typedAmount, refundReason: typedReason };
    try {
      const amount = typedAmount === '' ? null : majorToMinor(typedAmount, before.currency, 'amount');
      if (amount === 0) throw invalidRequest('parameter_invalid', 'The refund amount must be more than 0.', 'amount');
      if (typedReason !== '' && !(REFUND_REASONS as readonly string[]).includes(typedReason)) throw invalidRequest('parameter_invalid', `"${typedReason}" is not a refund reason.`, 'reason');
      const key = formField(req.body, 'idempotency_key');
      if (key.length === 0 || key.length > IDEMPOTENCY_KEY_LENGTH_MAX) throw invalidRequest('parameter_invalid', 'The form has no idempotency_key; reload the page and submit it again.', 'idempotency_key');
      const params = { payment_intent: id, amount, reason: (typedReason === '' ? null : typedReason) as RefundReason | null };
      const claim: IdempotencyClaim = {
        key, method: 'POST', path: `${PAYMENTS_PATH}/${id}/refund`, paramsHash: fingerprintParams(params), requestId: req.id, owner: CLAIM_OWNER, storedInTransaction: false,
      };
      const result = await auditedAction(kit, req, {
        action: 'payment.refund',
        objectId: id,
        detail: { amount: amount ?? 'remainder', currency: before.currency, reason: params.reason, idempotency_key: key },
        run: () => refundOnce(kit, scopeNow, { scope: scopeNow, requestId: req.id, idempotency: claim }, params),
        outcome: (done) => ({ refund: done.refund.id, amount: done.refund.amount, status: done.refund.status, replayed: done.replayed }),
      });
      return reply.redirect(withParam(withParam(paymentPath(id, req.dashboardLivemode), 'done', 'refunded'), 'refund', String(result.refund.id)), 303);
    } catch (error) {
      return refusedAction(req, reply, kit, id, error, form);
    }
  });

  scope.post(`${PAYMENTS_PATH}/:id/cancel`, routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const scopeNow = scopeOf(req);
    const id = idOf(req);
    await paymentDetail(kit.core, scopeNow, id);
    try {
      await auditedAction(kit, req, {
        action: 'payment.cancel',
        objectId: id,
        detail: {},
        run: () => cancelPaymentIntent(kit.core, { scope: scopeNow, requestId: req.id, idempotency: null }, id, {}),
        outcome: (view) => ({ status: view.status }),
      });
      return reply.redirect(withParam(paymentPath(id, req.dashboardLivemode), 'done', 'canceled'), 303);
    } catch (error) {
      return refusedAction(req, reply, kit, id, error, { refundAmount: '', refundReason: '' });
    }
  });

  async function sendDetail(req: FastifyRequest, reply: FastifyReply, status: number, detail: PaymentDetail, state: DetailState): Promise<FastifyReply> {
    return sendDashboardPage(reply, status, paymentDetailPage(locationOf(req, reply), operatorOf(req), req.dashboardLivemode, detail, state));
  }

  /** A refused action (amount too large, charge disputed, …): the detail page with the reason, as its 4xx. */
  async function refusedAction(req: FastifyRequest, reply: FastifyReply, kitNow: DashboardKit, id: string, error: unknown, form: Pick<DetailState, 'refundAmount' | 'refundReason'>): Promise<FastifyReply> {
    if (!(error instanceof ApiError) || error.status >= 500) throw error;
    const t = PAYMENTS_TEXT[locationOf(req, reply).lang];
    const detail = await paymentDetail(kitNow.core, scopeOf(req), id);
    const text = error.fields.code === 'idempotency_key_in_use' ? t.inProgress : t.actionFailed(error.message);
    return sendDetail(req, reply, error.status, detail, { notice: { text, tone: 'bad' }, idempotencyKey: newIdempotencyKey(), ...form });
  }
}

function idOf(req: FastifyRequest): string {
  return (req.params as { id: string }).id;
}

/**
 * Creates the refund under the form's idempotency key, as the API's hook would for a header
 * (core/idempotency.ts begin/end): the first submit refunds; a second with the same key replays
 * the first's answer (waiting for it while the first is still at Alipay+); a key whose first
 * request died is finished (core/recovery.ts), never started again.
 */
async function refundOnce(kit: DashboardKit, scope: Scope, ctx: RequestContext & { idempotency: IdempotencyClaim }, params: { payment_intent: string; amount: number | null; reason: RefundReason | null }): Promise<{ refund: ApiObject; replayed: boolean }> {
  const claim = ctx.idempotency;
  const started = await beginWaiting(kit, scope, claim);
  if (started.decision.kind === 'replay') return { refund: replayedObject(started.decision.status, started.decision.body), replayed: true };
  try {
    const refund = started.decision.kind === 'recover' ? await recoverIdempotentRequest(kit.core, ctx, started.decision.point) : await createRefund(kit.core, ctx, params);
    await endIdempotentRequest(kit.core, scope, claim, 200, JSON.stringify(refund));
    return { refund, replayed: started.decision.kind === 'recover' };
  } catch (error) {
    if (error instanceof IdempotencyConflict) {
      // Another submit of the same form claimed the key first: answer with what it answers.
      const decision = await waitForFirstSubmit(() => decideIdempotentRequest(kit.core, scope, claim, { takeOver: false }));
      if (decision.kind === 'replay') return { refund: replayedObject(decision.status, decision.body), replayed: true };
      throw new ApiError({ status: 409, type: 'idempotency_error', code: 'idempotency_key_in_use', message: 'The same refund form was submitted twice at once; reload the page.' });
    }
    const status = error instanceof ApiError ? error.status : 500;
    const body = error instanceof ApiError ? JSON.stringify(error.toBody()) : JSON.stringify({ error: { type: 'api_error', message: 'An unexpected error occurred while processing the request.' } });
    await endIdempotentRequest(kit.core, scope, claim, status, body);
    throw error;
  } finally {
    started.stopHeartbeat?.();
  }
}

/** begin, waiting out a first submit of the same form that is still running (409 in-use) for a while. */
function beginWaiting(kit: DashboardKit, scope: Scope, claim: IdempotencyClaim): ReturnType<typeof beginIdempotentRequest> {
  return waitForFirstSubmit(() => beginIdempotentRequest(kit.core, scope, claim));
}

/**
 * Runs `decide` until it stops answering 409 in-use (the first submit of the form, still at
 * Alipay+, holds the key), for at most IN_PROGRESS_WAIT_MS: the operator then sees the first
 * submit's outcome rather than a "try again".
 */
async function waitForFirstSubmit<T>(decide: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + IN_PROGRESS_WAIT_MS;
  for (;;) {
    try {
      return await decide();
    } catch (error) {
      const inUse = error instanceof ApiError && error.fields.code === 'idempotency_key_in_use';
      if (!inUse || Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, IN_PROGRESS_POLL_MS));
    }
  }
}

/** The stored answer of the first submit: the refund, or the error it was refused with. */
function replayedObject(status: number, body: string): ApiObject {
  const parsed = JSON.parse(body) as ApiObject & { error?: { type?: string; code?: string; message?: string; param?: string } };
  if (status < 300 && parsed.error === undefined) return parsed;
  const error = parsed.error ?? {};
  throw new ApiError({
    status, type: (error.type ?? 'api_error') as ApiError['fields']['type'], message: error.message ?? 'The first submit of this form failed.',
    ...(error.code === undefined ? {} : { code: error.code }), ...(error.param === undefined ? {} : { param: error.param }),
  });
}
