import { ApiError } from '../errors.js';
import { REFUND_SENDING_CHECK_DELAY_MS, SENDING_CHECK_DELAY_MS } from '../domain/schedule.js';
import { inTransaction } from '../store/database.js';
import { findAttemptById, findAttemptByPaymentRequestId } from '../store/payment_attempts.js';
import { findPaymentIntentById } from '../store/payment_intents.js';
import { releaseLease, takeLease, type LeasedTable } from '../store/leases.js';
import {
  deletePendingConfirm,
  findDuePendingConfirms,
  takePendingConfirm,
} from '../store/recovery.js';
import { findRefundById } from '../store/refunds.js';
import type { PaymentIntentRow, PendingConfirmRow, Tables } from '../store/schema.js';
import type { CoreDeps, RequestContext } from './context.js';
import { IDEMPOTENCY_LEASE_MS, completeIdempotentRequest, finishRefusedRequest, keepClaimAlive, takeOverForWorker } from './idempotency.js';
import type { RecoveryPoint } from './idempotency.js';
import { confirmPaymentIntent, declineError, notePayOutcome, payAtNetwork, paymentRequestIdOf, recordPayOutcome } from './payment_attempts.js';
import { withCasRetries } from './payment_intent_rules.js';
import { recordRefundOutcome, refundAtNetwork, refundView, sendRefund } from './refunds.js';
import { resumeDisputeResponse } from './disputes.js';
import { paymentIntentView } from './views.js';
import type { ApiObject } from './views.js';

/**
 * Crash recovery of requests with an Idempotency-Key (DESIGN.md: "a retried request with the same
 * Idempotency-Key completes what the first began"). A request that changes state in several
 * transactions — create with `confirm: true`, confirm, refund — notes in its first one what it
 * started (the key's RecoveryPoint). When it dies before its response is stored, a retry with the
 * same key takes over its claim (core/idempotency.ts) and finishes exactly that: the same
 * PaymentIntent confirmed, the same attempt re-sent with its paymentRequestId, the same refund
 * re-sent with its refundRequestId, or, when the worker or a notification got there first, the
 * state they recorded, answered as the first request would have (a decline is a 402). It never
 * starts a second object, and takes no longer than the first request would have.
 */

/**
 * The worker confirms a PaymentIntent created with `confirm: true` and left without an attempt
 * this long after its creation: by then the creating request is surely gone (twice its lease) and
 * a client retry, which would confirm it itself, had its chance.
 */
export const STRANDED_CONFIRM_DELAY_MS = 2 * IDEMPOTENCY_LEASE_MS;
/** The worker's tries at one stranded confirm (delays doubling from STRANDED_CONFIRM_DELAY_MS) before it gives up. */
export const STRANDED_CONFIRM_TRIES_MAX = 5;
export const STRANDED_CONFIRM_BATCH_MAX = 20;
/**
 * A retry re-sending an attempt or refund holds its worker lease this long: the same budget the
 * worker leaves the request path before it inquires a `sending` attempt, which the configuration
 * check keeps longer than the connector's sends (domain/schedule.ts `timeoutInconsistency`).
 */
export const RESEND_LEASE_MS = Math.max(SENDING_CHECK_DELAY_MS, REFUND_SENDING_CHECK_DELAY_MS);

/** Finishes what a dead request with this key started; answers as that request would have (an ApiError for 4xx/402). */
export function recoverIdempotentRequest(deps: CoreDeps, ctx: RequestContext, point: RecoveryPoint): Promise<ApiObject> {
  switch (point.step) {
    case 'confirm':
      return point.attempt === null ? recoverCreatedConfirm(deps, ctx, point.paymentIntent) : resumeAttempt(deps, ctx, point.attempt);
    case 'refund':
      return resumeRefund(deps, ctx, point.refund);
    case 'dispute_response':
      return resumeDisputeResponse(deps, ctx, point.dispute);
  }
}

async function recoverCreatedConfirm(deps: CoreDeps, ctx: RequestContext, paymentIntentId: string): Promise<ApiObject> {
  const first = await findAttemptByPaymentRequestId(deps.database.db, paymentRequestIdOf(paymentIntentId, 1));
  return first === undefined ? confirmCreatedIntent(deps, ctx, paymentIntentId) : resumeAttempt(deps, ctx, first.id);
}

/**
 * The confirm of a create with `confirm: true` (its create committed): the request path, a retry
 * that finds no attempt yet, and the worker all come here, and all start the attempt with the
 * same derived paymentRequestId (`<pi>_1`), so at most one of them starts it; the others report it.
 */
export async function confirmCreatedIntent(deps: CoreDeps, ctx: RequestContext, paymentIntentId: string, justCreated?: PaymentIntentRow): Promise<ApiObject> {
  try {
    return await confirmPaymentIntent(deps, ctx, paymentIntentId, {}, undefined, justCreated);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500 || error.status === 402) throw error;
    // Someone else started the first attempt meanwhile (the worker, a retry, a merchant's own confirm): report that one.
    const started = await findAttemptByPaymentRequestId(deps.database.db, paymentRequestIdOf(paymentIntentId, 1));
    if (started !== undefined) return resumeAttempt(deps, ctx, started.id);
    // Refused (a prohibited account, a PaymentIntent canceled meanwhile): that is the request's answer, and nothing is left to confirm.
    await inTransaction(deps.database, (tx) => deletePendingConfirm(tx, paymentIntentId));
    throw error;
  }
}

/**
 * Runs a re-send while holding the row's worker lease (RESEND_LEASE_MS), so the worker does not
 * inquire or close what the re-send is about to create. Null when the row is not in `status` or
 * is leased (the worker is on it): the caller answers from the current state instead.
 */
async function whileLeased<T extends LeasedTable>(deps: CoreDeps, ctx: RequestContext, table: T, id: string, status: Tables[T]['status'], resend: () => Promise<ApiObject>): Promise<ApiObject | null> {
  const holder = holderOf(deps, ctx);
  const now = deps.clock.now();
  if (!(await takeLease(deps.database.db, table, id, [status], holder, now, now + RESEND_LEASE_MS))) return null;
  try {
    return await resend();
  } finally {
    await releaseLease(deps.database.db, table, id, holder).catch((error: unknown) => {
      deps.logger.warn({ err: error, id }, 'could not release the lease of a re-send; it runs out');
    });
  }
}

/**
 * A confirm whose attempt committed: still `sending` (the response of the pay was lost with the
 * request), it is re-sent with its paymentRequestId — safe to repeat at Alipay+ — while holding
 * the attempt's worker lease, and the outcome recorded as the request path records it. Otherwise
 * (or while the worker holds it) the attempt's current state is the answer.
 */
async function resumeAttempt(deps: CoreDeps, ctx: RequestContext, attemptId: string): Promise<ApiObject> {
  const attempt = await findAttemptById(deps.database.db, attemptId);
  if (attempt === undefined) throw new Error(`attempt ${attemptId} of a recovery point vanished`);
  if (attempt.status === 'sending') {
    const resent = await whileLeased(deps, ctx, 'payment_attempts', attempt.id, 'sending', async () => {
      const intent = await findPaymentIntentById(deps.database.db, attempt.payment_intent_id);
      if (intent === undefined) throw new Error(`PaymentIntent ${attempt.payment_intent_id} of attempt ${attempt.id} vanished`);
      deps.logger.info({ payment_request_id: attempt.payment_request_id }, 'recovering a confirm: re-sending its pay with the same paymentRequestId');
      const outcome = await payAtNetwork(deps, intent, attempt);
      const recorded = await withCasRetries(() => inTransaction(deps.database, (tx) => recordPayOutcome(tx, deps, ctx, attempt.id, outcome)));
      notePayOutcome(deps, recorded, ctx.scope.livemode);
      if (recorded.failure !== null) throw recorded.failure;
      return recorded.view;
    });
    if (resent !== null) return resent;
  }
  return answerFromAttempt(deps, ctx, attemptId);
}

/** The response the confirm gives for the state its attempt is in now, stored for the key. */
async function answerFromAttempt(deps: CoreDeps, ctx: RequestContext, attemptId: string): Promise<ApiObject> {
  const answer = await inTransaction(deps.database, async (tx) => {
    const attempt = await findAttemptById(tx, attemptId);
    const intent = attempt === undefined ? undefined : await findPaymentIntentById(tx, attempt.payment_intent_id);
    if (attempt === undefined || intent === undefined) throw new Error(`attempt ${attemptId} or its PaymentIntent vanished`);
    const view = paymentIntentView(intent);
    if (attempt.status === 'failed') {
      const failure = declineError(view, attempt.failure_code ?? 'UNKNOWN', attempt.failure_message ?? 'The payment was not completed.');
      await completeIdempotentRequest(tx, ctx, failure.status, failure.toBody());
      return { view, failure };
    }
    await completeIdempotentRequest(tx, ctx, 200, view);
    return { view, failure: null };
  });
  if (answer.failure !== null) throw answer.failure;
  return answer.view;
}

/**
 * A refund whose create committed: never marked sent, it is sent now (as the request path would);
 * sent but still pending, it is re-sent with its refundRequestId while holding its worker lease;
 * otherwise its current state is the answer. The client learns the refund's id either way.
 */
async function resumeRefund(deps: CoreDeps, ctx: RequestContext, refundId: string): Promise<ApiObject> {
  const refund = await findRefundById(deps.database.db, refundId);
  if (refund === undefined) throw new Error(`refund ${refundId} of a recovery point vanished`);
  if (refund.status === 'pending' && refund.sent_at === null) return sendRefund(deps, ctx, refund);
  if (refund.status === 'pending' && deps.connector.refund !== undefined) {
    const resent = await whileLeased(deps, ctx, 'refunds', refund.id, 'pending', async () => {
      deps.logger.info({ refund_request_id: refund.refund_request_id }, 'recovering a refund: re-sending it with the same refundRequestId');
      return recordRefundOutcome(deps, ctx, refund.id, await refundAtNetwork(deps, refund));
    });
    if (resent !== null) return resent;
  }
  return inTransaction(deps.database, async (tx) => {
    const current = await findRefundById(tx, refundId);
    if (current === undefined) throw new Error(`refund ${refundId} vanished`);
    const view = refundView(current);
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

/** Names the recovering request in the worker lease it takes (`lease_owner`). */
function holderOf(deps: CoreDeps, ctx: RequestContext): string {
  return `recovery:${ctx.idempotency?.requestId ?? ctx.requestId ?? deps.ids.next('req')}`;
}

/**
 * The worker's job for creates with `confirm: true` whose request died before starting the
 * attempt (workers/stranded_confirms.ts): confirms each due one, with the same paymentRequestId a
 * retry would use. With the creating request's key, its dead claim is taken over and the
 * confirm's answer stored for it, so a later retry replays it; a key still held by a live request
 * (or a retry finishing it) is left alone. Returns the PaymentIntents it confirmed or answered.
 */
export async function finishStrandedConfirms(deps: CoreDeps, owner: string, limit = STRANDED_CONFIRM_BATCH_MAX): Promise<string[]> {
  const due = await findDuePendingConfirms(deps.database.db, deps.clock.now(), limit);
  const finished: string[] = [];
  for (const row of due) {
    try {
      if (await finishStrandedConfirm(deps, owner, row)) finished.push(row.payment_intent_id);
    } catch (error) {
      deps.logger.error({ err: error, payment_intent_id: row.payment_intent_id }, 'stranded confirm failed; retrying later');
    }
  }
  return finished;
}

async function finishStrandedConfirm(deps: CoreDeps, owner: string, row: PendingConfirmRow): Promise<boolean> {
  const log = { payment_intent_id: row.payment_intent_id, tries: row.tries };
  if (row.tries >= STRANDED_CONFIRM_TRIES_MAX) {
    await inTransaction(deps.database, (tx) => deletePendingConfirm(tx, row.payment_intent_id));
    deps.logger.error(log, 'gave up confirming a PaymentIntent created with confirm: true; it stays requires_confirmation');
    return false;
  }
  const now = deps.clock.now();
  if (!(await inTransaction(deps.database, (tx) => takePendingConfirm(tx, row, now + STRANDED_CONFIRM_DELAY_MS * 2 ** row.tries)))) return false;
  const scope = { accountId: row.account_id, livemode: row.livemode === 1 };
  let ctx: RequestContext = { scope, requestId: null, idempotency: null };
  if (row.idempotency_key !== null) {
    const taken = await takeOverForWorker(deps, scope, row.idempotency_key, { requestId: deps.ids.next('req'), owner });
    if (taken.kind === 'live' || taken.kind === 'lost') return false;
    if (taken.kind === 'answered' && (taken.row?.response_status ?? 0) < 500) {
      // The request answered (a refusal): nothing is to be confirmed.
      await inTransaction(deps.database, (tx) => deletePendingConfirm(tx, row.payment_intent_id));
      return false;
    }
    if (taken.kind === 'taken') ctx = { scope, requestId: null, idempotency: taken.claim };
  }
  const claim = ctx.idempotency;
  const stop = claim === null ? () => {} : keepClaimAlive(deps, scope, claim);
  try {
    const view = await confirmCreatedIntent(deps, ctx, row.payment_intent_id);
    deps.logger.info({ ...log, status: view.status }, 'confirmed a PaymentIntent its creating request left unconfirmed');
    return true;
  } catch (error) {
    if (!(error instanceof ApiError) || error.status >= 500) throw error;
    // A decline (402, stored with the attempt's outcome) or a refusal: the key answers with it.
    if (claim !== null && !claim.storedInTransaction) await finishRefusedRequest(deps, scope, claim, error.status, JSON.stringify(error.toBody()));
    deps.logger.info({ ...log, status: error.status, code: error.fields.code }, 'confirm of a PaymentIntent its creating request left unconfirmed was refused');
    return true;
  } finally {
    stop();
  }
}
