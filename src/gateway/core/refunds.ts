import { invalidRequest, resourceMissing, unexpectedState } from '../errors.js';
import type { ConnectorRefundOutcome } from '../connector/types.js';
import { decideRefundAmount, failureReasonOf, transitionRefund } from '../domain/refunds.js';
import type { RefundEventType, RefundInput } from '../domain/refunds.js';
import type { Metadata } from '../domain/metadata.js';
import { findChargeByAccountAndId } from '../store/charges.js';
import { inTransaction } from '../store/database.js';
import {
  findRefundByAccountAndId,
  findRefundById,
  insertRefund,
  listRefundsByAccount,
  markRefundSending,
  moveRefund,
  refundStateOf,
  recordChargeRefunded,
  releaseRefundReservation,
  reserveRefundAmount,
  scheduleRefundCheck,
  updateRefundMetadata,
} from '../store/refunds.js';
import { findAttemptById } from '../store/payment_attempts.js';
import type { ChargeRow, Executor, RefundRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import { REFUND_SENDING_CHECK_DELAY_MS, nextRetryAt } from '../domain/schedule.js';
import type { CoreDeps, RequestContext } from './context.js';
import { ConcurrentUpdate } from './context.js';
import { noteAttention, recordAttentionItem } from './attention.js';
import { recordRefundBalanceInTx } from './balance.js';
import { recordEvent } from './events.js';
import { claimInTransaction, completeIdempotentRequest } from './idempotency.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import { applyMetadata, findOwnedIntent, withCasRetries } from './payment_intent_rules.js';
import { chargeView, paymentIntentView } from './views.js';
import type { ApiObject } from './views.js';

/**
 * A refund recorded by the request path is left to the worker this long after it was recorded:
 * the request path is still sending it, and a second sender would only repeat the same
 * refundRequestId. Derived in domain/schedule.ts from the sends and the request timeout.
 */
export { REFUND_SENDING_CHECK_DELAY_MS };

export type RefundReason = 'duplicate' | 'fraudulent' | 'requested_by_customer';

export interface CreateRefundParams {
  payment_intent?: string | null;
  charge?: string | null;
  /** Smallest currency unit; omitted: the whole unrefunded remainder. */
  amount?: number | null;
  reason?: RefundReason | null;
  metadata?: Record<string, string | null> | null;
}

/** The refund's refundRequestId at Alipay+: the refund id itself, reused on every (re-)send. */
export function refundRequestIdOf(refundId: string): string {
  return refundId;
}

/**
 * Creates a refund (api.md §4): reserves the amount on the charge and records the refund
 * `pending` with `refund.created` in one transaction; sends it to the wallet network outside any
 * transaction; records the outcome in a new one. An unknown outcome stays `pending` for the worker.
 */
export async function createRefund(deps: CoreDeps, ctx: RequestContext, params: CreateRefundParams): Promise<ApiObject> {
  const created = await withCasRetries(() => inTransaction(deps.database, (tx) => createRefundInTx(tx, deps, ctx, params)));
  return sendRefund(deps, ctx, created);
}

async function createRefundInTx(tx: Executor, deps: CoreDeps, ctx: RequestContext, params: CreateRefundParams): Promise<RefundRow> {
  // The refund commits with the key's recovery point naming it: a retry after a crash sends this
  // refund (same refundRequestId) and answers with it, instead of creating another.
  const id = deps.ids.next('re');
  await claimInTransaction(tx, deps, ctx, { step: 'refund', refund: id });
  const charge = await resolveCharge(tx, ctx.scope, params);
  const now = deps.clock.now();
  if (charge.open_escalations > 0) {
    // api.md §7a: the money is with the dispute until Alipay+ decides it.
    throw invalidRequest('charge_disputed', `Charge ${charge.id} has an open dispute (an escalation at Alipay+); it cannot be refunded until the dispute is closed.`, params.charge != null ? 'charge' : 'payment_intent');
  }
  const reserved = charge.amount_refund_reserved ?? 0;
  const disputed = charge.amount_dispute_reserved ?? 0;
  // What escalations not won hold cannot be refunded too: refunds and disputes together stay within the payment.
  const decision = decideRefundAmount({ amountCapturedMinor: charge.amount_captured, amountReservedMinor: reserved + disputed, createdMs: charge.created }, params.amount ?? undefined, now);
  if (!decision.ok) throw invalidRequest(decision.code, decision.message, decision.code === 'amount_too_large' ? 'amount' : undefined);
  // An explicit amount needs only to fit; "the whole remainder" must be computed from the values it reserves against.
  const expected = params.amount == null ? { refundReservedMinor: reserved, disputeReservedMinor: disputed } : undefined;
  if (!(await reserveRefundAmount(tx, charge.id, decision.amountMinor, expected))) throw new ConcurrentUpdate();
  const attempt = await findAttemptById(tx, charge.payment_attempt_id);
  if (attempt === undefined) throw new Error(`attempt ${charge.payment_attempt_id} of charge ${charge.id} vanished`);
  const row: RefundRow = {
    id,
    account_id: charge.account_id,
    livemode: charge.livemode,
    created: now,
    updated: now,
    charge_id: charge.id,
    payment_intent_id: charge.payment_intent_id,
    payment_request_id: attempt.payment_request_id,
    refund_request_id: refundRequestIdOf(id),
    amount: decision.amountMinor,
    currency: charge.currency,
    status: 'pending',
    reason: params.reason ?? null,
    failure_reason: null,
    failure_code: null,
    metadata: JSON.stringify(applyMetadata({}, params.metadata)),
    external_refund_id: null,
    sent_at: null,
    next_check_at: now + REFUND_SENDING_CHECK_DELAY_MS,
    checks: 0,
    lease_owner: null,
    lease_until: null,
    settlement_currency: null,
    settlement_amount: null,
    settlement_quote: null,
    balance_transaction: null,
  };
  await insertRefund(tx, row);
  await recordEvent(tx, deps, ctx, 'refund.created', refundView(row));
  return row;
}

/**
 * The charge a refund is for: `charge`, or the latest charge of a succeeded `payment_intent`.
 * A PaymentIntent that has not succeeded is 400 payment_intent_unexpected_state.
 */
async function resolveCharge(tx: Executor, scope: Scope, params: CreateRefundParams): Promise<ChargeRow> {
  if (params.charge == null && params.payment_intent == null) {
    throw invalidRequest('parameter_missing', 'Missing required param: one of charge or payment_intent.', 'payment_intent');
  }
  let chargeId = params.charge ?? null;
  if (params.payment_intent != null) {
    const intent = await findOwnedIntent(tx, scope, params.payment_intent, 'payment_intent');
    if (intent.status !== 'succeeded' || intent.latest_charge === null) {
      throw unexpectedState(`This PaymentIntent (${intent.id}) does not have a successful charge to refund: its status is ${intent.status}.`, paymentIntentView(intent));
    }
    if (chargeId !== null && chargeId !== intent.latest_charge) {
      throw invalidRequest('parameter_invalid', `Charge ${chargeId} does not belong to PaymentIntent ${intent.id}.`, 'charge');
    }
    chargeId = intent.latest_charge;
  }
  const charge = await findChargeByAccountAndId(tx, scope, chargeId as string);
  if (charge === undefined) throw resourceMissing('charge', chargeId as string, 'charge');
  if (charge.status !== 'succeeded') throw invalidRequest('charge_not_refundable', `Charge ${charge.id} has status ${charge.status}; only succeeded charges can be refunded.`, 'charge');
  return charge;
}

/** Marks the refund sent (no cancel from then on), sends it, records the outcome. */
export async function sendRefund(deps: CoreDeps, ctx: RequestContext | null, refund: RefundRow): Promise<ApiObject> {
  // No connector that refunds (a gateway without Alipay+): the refund waits, unsent and cancelable.
  const claimed = deps.connector.refund !== undefined && (await inTransaction(deps.database, (tx) => markRefundSending(tx, refund.id, deps.clock.now())));
  if (!claimed) {
    const current = (await findRefundById(deps.database.db, refund.id)) ?? refund;
    const view = refundView(current);
    if (ctx !== null) await inTransaction(deps.database, (tx) => completeIdempotentRequest(tx, ctx, 200, view));
    return view;
  }
  const outcome = await refundAtNetwork(deps, refund);
  return recordRefundOutcome(deps, ctx, refund.id, outcome);
}

/** The only network call of a refund; an exception is an unknown outcome, never a lost refund. */
export async function refundAtNetwork(deps: CoreDeps, refund: RefundRow): Promise<ConnectorRefundOutcome> {
  const connector = deps.connector;
  if (connector.refund === undefined) return { kind: 'unknown', reason: 'this gateway has no connector that refunds' };
  try {
    return await connector.refund({
      accountId: refund.account_id,
      livemode: refund.livemode === 1,
      refundId: refund.id,
      refundRequestId: refund.refund_request_id,
      paymentRequestId: refund.payment_request_id,
      amountMinor: refund.amount,
      currency: refund.currency,
      reason: refund.reason,
    });
  } catch (error) {
    deps.logger.warn({ err: error, refund_request_id: refund.refund_request_id }, 'connector refund failed; left for the worker');
    return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Records what the wallet network said about a refund, in one transaction with its Events:
 * `succeeded` adds it to the charge's amount_refunded; `failed` gives the reservation back;
 * `unknown` leaves it pending and schedules the worker's retry. Idempotent: a refund no longer
 * pending is left as it is. `ctx` null: the worker (no request, no idempotency key).
 */
export async function recordRefundOutcome(deps: CoreDeps, ctx: RequestContext | null, refundId: string, outcome: ConnectorRefundOutcome): Promise<ApiObject> {
  let attention: RefundRow | null = null;
  const recorded = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      // A retried unit starts over: only the run that commits may report the move.
      attention = null;
      const refund = await findRefundById(tx, refundId);
      if (refund === undefined) throw new Error(`refund ${refundId} vanished`);
      let view = refundView(refund);
      if (refund.status === 'pending') {
        const eventCtx = ctx ?? { scope: { accountId: refund.account_id, livemode: refund.livemode === 1 }, requestId: null, idempotency: null };
        const now = deps.clock.now();
        switch (outcome.kind) {
          case 'succeeded':
            view = await recordSucceeded(tx, deps, eventCtx, refund, outcome, now);
            break;
          case 'failed':
            view = await recordFailed(tx, deps, eventCtx, refund, outcome.code, now);
            break;
          case 'amount_mismatch': {
            const done = await moveRefundWithEvents(tx, deps, eventCtx, refund, { kind: 'needs_attention' }, now);
            await recordAttentionItem(tx, done, outcome.reason, now);
            attention = done;
            view = refundView(done);
            break;
          }
          case 'unknown':
            await scheduleRefundCheck(tx, refund.id, nextRetryAt(refund.checks, now));
            break;
        }
      }
      if (ctx !== null) await completeIdempotentRequest(tx, ctx, 200, view);
      return view;
    }),
  );
  const moved = attention as RefundRow | null;
  if (moved !== null && outcome.kind === 'amount_mismatch') {
    noteAttention(deps, 'refund', { refund_request_id: moved.refund_request_id, payment_intent_id: moved.payment_intent_id, amount: moved.amount, currency: moved.currency, reason: outcome.reason });
  }
  return recorded;
}

/**
 * The worker's bound on a refund without a final answer (WORKER_CHECKS_MAX checks): it moves to
 * requires_attention for an operator, its reservation kept (the money may have gone).
 */
export async function refundRequiresAttention(deps: CoreDeps, refundId: string, reason: string): Promise<boolean> {
  const moved = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      const refund = await findRefundById(tx, refundId);
      if (refund === undefined) throw new Error(`refund ${refundId} vanished`);
      if (!transitionRefund(refundStateOf(refund), { kind: 'needs_attention' }).ok) return null;
      const now = deps.clock.now();
      const ctx = { scope: { accountId: refund.account_id, livemode: refund.livemode === 1 }, requestId: null, idempotency: null };
      const done = await moveRefundWithEvents(tx, deps, ctx, refund, { kind: 'needs_attention' }, now);
      await recordAttentionItem(tx, done, reason, now);
      return done;
    }),
  );
  if (moved === null) return false;
  noteAttention(deps, 'refund', { refund_request_id: moved.refund_request_id, payment_intent_id: moved.payment_intent_id, amount: moved.amount, currency: moved.currency, reason });
  return true;
}

type EventContext = Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>;

/**
 * Moves a refund as the status machine decides and writes the Events it prescribes, in the
 * caller's transaction. A lost compare-and-set retries the unit (ConcurrentUpdate).
 */
async function moveRefundWithEvents(
  tx: Executor,
  deps: CoreDeps,
  ctx: EventContext,
  refund: RefundRow,
  input: RefundInput,
  now: number,
  fields: Parameters<typeof moveRefund>[4] = {},
  charge: () => Promise<ChargeRow | null> = async () => null,
): Promise<RefundRow> {
  const decided = transitionRefund(refundStateOf(refund), input);
  if (!decided.ok) throw new Error(`refund ${refund.id}: ${decided.message}`);
  const done = await moveRefund(tx, refund.id, decided, now, fields);
  if (done === null) throw new ConcurrentUpdate();
  const changedCharge = await charge();
  const view = refundView(done);
  for (const type of decided.events satisfies RefundEventType[]) {
    if (type === 'charge.refunded') {
      if (changedCharge !== null) await recordEvent(tx, deps, ctx, type, chargeView(changedCharge), { amount_refunded: changedCharge.amount_refunded - refund.amount, refunded: false });
    } else {
      await recordEvent(tx, deps, ctx, type, view, { status: refund.status });
    }
  }
  return done;
}

async function recordSucceeded(tx: Executor, deps: CoreDeps, ctx: EventContext, refund: RefundRow, outcome: Extract<ConnectorRefundOutcome, { kind: 'succeeded' }>, now: number): Promise<ApiObject> {
  const settlement = outcome.settlement;
  const fields = {
    external_refund_id: outcome.externalRefundId,
    settlement_currency: settlement?.currency ?? null,
    settlement_amount: settlement?.amountMinor ?? null,
    settlement_quote: settlement?.quote ? JSON.stringify(settlement.quote) : null,
  };
  const balanceTransaction = await recordRefundBalanceInTx(tx, deps, { ...refund, ...fields }, now);
  const done = await moveRefundWithEvents(tx, deps, ctx, refund, { kind: 'network_succeeded' }, now, { ...fields, balance_transaction: balanceTransaction }, () => recordChargeRefunded(tx, refund.charge_id, refund.amount));
  return refundView(done);
}

async function recordFailed(tx: Executor, deps: CoreDeps, ctx: EventContext, refund: RefundRow, code: string, now: number): Promise<ApiObject> {
  const done = await moveRefundWithEvents(tx, deps, ctx, refund, { kind: 'network_failed' }, now, { failure_reason: failureReasonOf(code), failure_code: code }, async () => {
    await releaseRefundReservation(tx, refund.charge_id, refund.amount);
    return null;
  });
  return refundView(done);
}

/** The worker's send of a refund the request path left pending: same refundRequestId, outcome recorded. */
export async function retryRefund(deps: CoreDeps, refund: RefundRow): Promise<RefundRow['status']> {
  if (refund.status !== 'pending') return refund.status;
  // Never sent (the request path stopped between its two transactions): mark it sent first, so a cancel cannot race the send.
  if (refund.sent_at === null && !(await inTransaction(deps.database, (tx) => markRefundSending(tx, refund.id, deps.clock.now())))) return 'pending';
  const view = await recordRefundOutcome(deps, null, refund.id, await refundAtNetwork(deps, refund));
  return view.status as RefundRow['status'];
}

export async function retrieveRefund(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<ApiObject> {
  const row = await findRefundByAccountAndId(deps.database.db, scope, id);
  if (row === undefined) throw resourceMissing('refund', id);
  return refundView(row);
}

/** Updates a refund's metadata (the only field a merchant may change), with `refund.updated`. */
export async function updateRefund(deps: CoreDeps, ctx: RequestContext, id: string, params: { metadata?: Record<string, string | null> | null }): Promise<ApiObject> {
  return inTransaction(deps.database, async (tx) => {
    await claimInTransaction(tx, deps, ctx);
    const current = await findRefundByAccountAndId(tx, ctx.scope, id);
    if (current === undefined) throw resourceMissing('refund', id);
    const before = JSON.parse(current.metadata) as Metadata;
    const after = applyMetadata(before, params.metadata);
    let view = refundView(current);
    if (JSON.stringify(after) !== current.metadata) {
      view = refundView(await updateRefundMetadata(tx, id, JSON.stringify(after), deps.clock.now()));
      await recordEvent(tx, deps, ctx, 'refund.updated', view, { metadata: before });
    }
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

/**
 * Cancels a refund that has not been sent to the wallet network yet (pending, never sent); its
 * reservation goes back to the charge. A sent or final refund is 400.
 */
export async function cancelRefund(deps: CoreDeps, ctx: RequestContext, id: string): Promise<ApiObject> {
  return inTransaction(deps.database, async (tx) => {
    await claimInTransaction(tx, deps, ctx);
    const current = await findRefundByAccountAndId(tx, ctx.scope, id);
    if (current === undefined) throw resourceMissing('refund', id);
    const decided = transitionRefund(refundStateOf(current), { kind: 'cancel' });
    const canceled = decided.ok ? await moveRefund(tx, id, decided, deps.clock.now()) : null;
    if (canceled === null) {
      const why = current.status === 'pending' ? 'it has already been sent to Alipay+' : `it has a status of ${current.status}`;
      throw invalidRequest('refund_not_cancelable', `You cannot cancel refund ${id} because ${why}; only a pending refund not yet sent can be canceled.`);
    }
    await releaseRefundReservation(tx, canceled.charge_id, canceled.amount);
    const view = refundView(canceled);
    await recordEvent(tx, deps, ctx, 'refund.updated', view, { status: 'pending' });
    await recordEvent(tx, deps, ctx, 'charge.refund.updated', view, { status: 'pending' });
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

export interface ListRefundsParams extends ListParams {
  payment_intent?: string | null;
  charge?: string | null;
}

export async function listRefunds(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: ListRefundsParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'refund', (id) => findRefundByAccountAndId(db, scope, id));
  const page = await listRefundsByAccount(db, scope, window, {
    ...(params.payment_intent == null ? {} : { paymentIntent: params.payment_intent }),
    ...(params.charge == null ? {} : { charge: params.charge }),
  });
  return { data: page.rows.map(refundView), hasMore: page.hasMore };
}

/** The Refund object (api.md §4, Stripe's fields). Amounts in the smallest currency unit. */
export function refundView(row: RefundRow): ApiObject {
  return {
    id: row.id,
    object: 'refund',
    created: row.created,
    livemode: row.livemode === 1,
    amount: row.amount,
    currency: row.currency,
    charge: row.charge_id,
    payment_intent: row.payment_intent_id,
    status: row.status,
    reason: row.reason,
    // Stripe's schema: a string, present only on a failed refund (never null).
    ...(row.failure_reason === null ? {} : { failure_reason: row.failure_reason }),
    balance_transaction: row.balance_transaction,
    receipt_number: null,
    metadata: JSON.parse(row.metadata) as Metadata,
  };
}
