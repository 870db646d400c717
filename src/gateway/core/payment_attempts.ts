import { ApiError, parameterMissing, unexpectedState } from '../errors.js';
import { transition } from '../domain/payment_intents.js';
import { isOpen } from '../domain/payment_attempts.js';
import type { PaymentIntentEventType, PaymentIntentStatus } from '../domain/payment_intents.js';
import type { ConnectorPayOutcome, ConnectorSettlement, OsType, TerminalType } from '../connector/types.js';
import { findAccountById } from '../store/accounts.js';
import { inTransaction } from '../store/database.js';
import { findChargeByAttemptId, insertChargeForSucceededAttempt } from '../store/charges.js';
import {
  countAttemptsForIntent,
  findAttemptById,
  findAttemptByPaymentRequestId,
  findLatestAttemptForIntent,
  findOpenAttemptsForIntent,
  insertPaymentAttempt,
  recordAttemptReversal,
} from '../store/payment_attempts.js';
import type { AttemptReversal } from '../store/payment_attempts.js';
import { findPaymentIntentById, markCanceled, markPaymentFailed, markProcessing, markRequiresAction, markStillProcessing, markSucceeded } from '../store/payment_intents.js';
import { findPaymentMethodByAccountAndId } from '../store/payment_methods.js';
import { deletePendingConfirm } from '../store/recovery.js';
import type { AccountRow, ChargeRow, Executor, PaymentAttemptRow, PaymentIntentRow } from '../store/schema.js';
import { moveAttemptOrRetry, tryMoveAttempt } from './attempt_moves.js';
import { completeSessionInTx } from './checkout_completion.js';
import type { CoreDeps, RequestContext } from './context.js';
import { recordEvent } from './events.js';
import { claimHeldInTransaction, claimInTransaction, completeIdempotentRequest } from './idempotency.js';
import type { CancelPaymentIntentParams, ConfirmPaymentIntentParams } from './params.js';
import { checkPaymentFields, findOwnedIntent, mergeAlipayOptions, resolvePaymentMethod, sameSecret, won, withCasRetries } from './payment_intent_rules.js';
import { chargeView, paymentIntentView, paymentMethodView } from './views.js';
import type { ApiObject } from './views.js';
import { assertCanTakeAlipayPayments } from './accounts.js';
import { recordChargeBalanceInTx } from './balance.js';

/**
 * Confirms a PaymentIntent (DESIGN.md's pipeline): record an attempt in `sending` and commit;
 * call the connector outside any transaction; record the outcome in a new transaction.
 * A declined attempt is a 402 `card_error` carrying the PaymentIntent.
 * @param clientSecret required when the caller used a publishable key.
 */
export async function confirmPaymentIntent(
  deps: CoreDeps,
  ctx: RequestContext,
  id: string,
  params: ConfirmPaymentIntentParams,
  clientSecret?: string,
  /** The PaymentIntent as this request's create just committed it (create with confirm: true). */
  justCreated?: PaymentIntentRow,
): Promise<ApiObject> {
  checkPaymentFields(params);
  let created = justCreated;
  const started = await withCasRetries(() => {
    // Only the first try may trust the row the create committed: a retry follows a lost
    // compare-and-set, so the row changed since, and is read afresh.
    const known = created;
    created = undefined;
    return inTransaction(deps.database, (tx) => startAttempt(tx, deps, ctx, id, params, clientSecret, undefined, known));
  });
  const outcome = await payAtNetwork(deps, started.intent, started.attempt, started.account);
  const recorded = await recordStartedPayOutcome(deps, ctx, started, outcome);
  notePayOutcome(deps, recorded, ctx.scope.livemode);
  if (recorded.failure !== null) throw recorded.failure;
  return recorded.view;
}

/** After the outcome committed: counts a payment the pay call settled (the metrics). */
export function notePayOutcome(deps: Pick<CoreDeps, 'metrics'>, recorded: RecordedOutcome, livemode: boolean): void {
  if (recorded.settled !== null) deps.metrics?.paymentOutcome(recorded.settled, livemode);
}

/** Why a replaced attempt was closed (the dashboard shows it beside the attempt). */
export const REPLACED_ATTEMPT = { code: 'REPLACED', message: 'The shopper opened the checkout page on another device; a payment attempt for that device replaced this one.' } as const;

/**
 * Replaces the attempt the PaymentIntent awaits (`pending`, shown to the shopper) with a new one
 * for another device, in one transaction: the old attempt moves to `canceling` (no success is
 * recorded for it any more; money taken meanwhile goes back through the worker's reversal), the
 * PaymentIntent to `processing` and the new attempt is recorded in `sending`. After the commit the
 * old one is cancelled at the network and the new one sent, as confirm does. The caller has just
 * inquired the old attempt and found it unpaid, so a payment made before the switch succeeds
 * through it instead. Refused (400) when the PaymentIntent no longer awaits exactly that attempt:
 * two devices switching at once meet at the compare-and-sets, and only one new attempt is live.
 */
export async function replaceAttempt(deps: CoreDeps, ctx: RequestContext, id: string, replacedAttemptId: string, params: ConfirmPaymentIntentParams): Promise<ApiObject> {
  checkPaymentFields(params);
  const started = await withCasRetries(() => inTransaction(deps.database, (tx) => startAttempt(tx, deps, ctx, id, params, undefined, replacedAttemptId)));
  if (started.replaced !== null) await cancelAtNetwork(deps, started.replaced);
  const outcome = await payAtNetwork(deps, started.intent, started.attempt, started.account);
  const recorded = await recordStartedPayOutcome(deps, ctx, started, outcome);
  notePayOutcome(deps, recorded, ctx.scope.livemode);
  if (recorded.failure !== null) throw recorded.failure;
  return recorded.view;
}

async function startAttempt(
  tx: Executor,
  deps: CoreDeps,
  ctx: RequestContext,
  id: string,
  params: ConfirmPaymentIntentParams,
  clientSecret: string | undefined,
  replacing?: string,
  justCreated?: PaymentIntentRow,
): Promise<{ intent: PaymentIntentRow; attempt: PaymentAttemptRow; replaced: PaymentAttemptRow | null; account: AccountRow | undefined }> {
  // The attempt commits with the key's recovery point naming it: a retry after a crash re-sends
  // this attempt (same paymentRequestId) instead of starting another.
  const attemptId = deps.ids.next('pa');
  const point = { step: 'confirm', paymentIntent: id, attempt: attemptId } as const;
  // The create with confirm: true that just committed claimed the key: moving its recovery point
  // on is then the whole claim (claimHeldInTransaction falls back to a full claim otherwise).
  if (justCreated === undefined) await claimInTransaction(tx, deps, ctx, point);
  else await claimHeldInTransaction(tx, deps, ctx, point);
  // The row the create committed is used as read: markProcessing below is a compare-and-set on
  // its version, so if anyone changed it since, this transaction rolls back and the retry reads.
  const current = justCreated ?? (await findOwnedIntent(tx, ctx.scope, id));
  if (clientSecret !== undefined && !sameSecret(current.client_secret, clientSecret)) {
    throw new ApiError({ status: 404, type: 'invalid_request_error', code: 'resource_missing', message: `No such payment_intent: '${id}'`, param: 'client_secret' });
  }
  const account = await findAccountById(tx, current.account_id);
  if (account !== undefined) assertCanTakeAlipayPayments(account);
  const paymentMethod = (await resolvePaymentMethod(tx, deps, ctx.scope, params)) ?? current.payment_method;
  const next = transition(current.status as PaymentIntentStatus, replacing === undefined ? { kind: 'confirm_started', hasPaymentMethod: paymentMethod !== null } : { kind: 'attempt_replaced' });
  if (!next.ok) throw unexpectedState(`You cannot confirm this PaymentIntent because ${next.message}.`, paymentIntentView(current));
  let replaced: PaymentAttemptRow | null = null;
  if (replacing !== undefined) {
    const open = await findOpenAttemptsForIntent(tx, id);
    const awaited = open.find((attempt) => attempt.id === replacing);
    if (open.length !== 1 || awaited?.status !== 'pending') throw unexpectedState('You cannot replace this payment attempt because the PaymentIntent no longer awaits it.', paymentIntentView(current));
    replaced = awaited;
  }
  const returnUrl = params.return_url ?? current.return_url;
  if (returnUrl === null) throw parameterMissing('return_url', 'return_url is required to confirm an Alipay payment.');
  const options = mergeAlipayOptions(current.payment_method_options, params.payment_method_options);
  const alipay = (JSON.parse(options) as { alipay: { terminal_type: TerminalType; os_type: OsType | null; client_ip: string | null } }).alipay;
  const now = deps.clock.now();
  // A PaymentIntent whose version is still the create's has no attempt (each attempt moves the
  // version on, and the compare-and-set below checks it): it is the first.
  const sequence = justCreated !== undefined ? 1 : (await countAttemptsForIntent(tx, id)) + 1;
  const attempt: PaymentAttemptRow = {
    id: attemptId,
    account_id: current.account_id,
    livemode: current.livemode,
    payment_intent_id: id,
    payment_method_id: paymentMethod!,
    payment_request_id: paymentRequestIdOf(id, sequence),
    status: 'sending',
    amount: current.amount,
    currency: current.currency,
    terminal_type: alipay.terminal_type,
    os_type: alipay.os_type,
    client_ip: alipay.client_ip,
    return_url: returnUrl,
    created: now,
    updated: now,
    external_payment_id: null,
    failure_code: null,
    failure_message: null,
    expires_at: null,
    next_check_at: null,
    checks: 0,
    lease_owner: null,
    lease_until: null,
    reversal: null,
    reversal_refund_request_id: null,
    reversal_refund_id: null,
  };
  // The intent's compare-and-set goes first: a concurrent confirm loses there (and retries into
  // a clean 400) instead of colliding on the attempt's unique payment_request_id.
  const intent = won(
    await markProcessing(tx, current, {
      payment_method: paymentMethod,
      payment_method_options: options,
      return_url: returnUrl,
      ...(params.shipping === undefined ? {} : { shipping: params.shipping === null ? null : JSON.stringify(params.shipping) }),
      ...(params.receipt_email === undefined ? {} : { receipt_email: params.receipt_email }),
    }, now),
  );
  if (replaced !== null) await moveAttemptOrRetry(tx, replaced, { kind: 'close' }, now, { failure_code: REPLACED_ATTEMPT.code, failure_message: REPLACED_ATTEMPT.message });
  await insertPaymentAttempt(tx, attempt);
  // A create with confirm: true is no longer waiting for its first attempt (core/recovery.ts).
  if (sequence === 1) await deletePendingConfirm(tx, id);
  return { intent, attempt, replaced, account };
}

/** The paymentRequestId of a PaymentIntent's n-th attempt (from 1): derived, so every retry reuses it. */
export function paymentRequestIdOf(paymentIntentId: string, sequence: number): string {
  return `${paymentIntentId}_${sequence}`;
}

/** The only network call of confirm; an exception is an unknown outcome, never a lost attempt. */
export async function payAtNetwork(deps: CoreDeps, intent: PaymentIntentRow, attempt: PaymentAttemptRow, accountRead?: AccountRow): Promise<ConnectorPayOutcome> {
  try {
    // Confirm read the account in the attempt's transaction: its name and settlement currency as committed.
    const account = accountRead ?? (await findAccountById(deps.database.db, attempt.account_id));
    if (account === undefined) throw new Error(`account ${attempt.account_id} of attempt ${attempt.id} vanished`);
    return await deps.connector.confirm({
      merchantName: account.name,
      settlementCurrency: account.settlement_currency,
      accountId: attempt.account_id,
      livemode: attempt.livemode === 1,
      paymentIntentId: intent.id,
      attemptId: attempt.id,
      paymentRequestId: attempt.payment_request_id,
      amountMinor: attempt.amount,
      currency: attempt.currency,
      terminalType: attempt.terminal_type as TerminalType,
      osType: attempt.os_type as OsType | null,
      clientIp: attempt.client_ip,
      returnUrl: attempt.return_url,
      description: intent.description,
      merchantOrderId: intent.merchant_order_id,
      merchantUserId: intent.merchant_user_id,
      createdAtMs: attempt.created,
    });
  } catch (error) {
    deps.logger.warn({ err: error, payment_request_id: attempt.payment_request_id }, 'connector confirm failed; attempt left for inquiry');
    return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
  }
}

export interface RecordedOutcome {
  view: ApiObject;
  /** The 402 to send when the attempt was declined. */
  failure: ApiError | null;
  /** What this outcome settled, when it was the one recorded (for the metrics, counted after the commit). */
  settled: 'succeeded' | 'failed' | null;
}

/**
 * Records the pay outcome of an attempt this request started, reading neither row back on the
 * first try: the attempt and PaymentIntent as its start committed them. Sound because every write
 * an outcome other than `unknown` makes begins with the attempt's compare-and-set from `sending`
 * (requires_action, declined, succeeded all move the attempt first), and the PaymentIntent's writes
 * are compare-and-sets on its version: if a notification, cancel or the worker changed either row
 * meanwhile, that first write fails, the transaction rolls back, and the retry reads both afresh,
 * as before. `unknown` writes the PaymentIntent alone (and its processing Event), which a changed
 * attempt would not stop, so it always reads.
 */
async function recordStartedPayOutcome(
  deps: CoreDeps,
  ctx: RequestContext,
  started: { intent: PaymentIntentRow; attempt: PaymentAttemptRow },
  outcome: ConnectorPayOutcome,
): Promise<RecordedOutcome> {
  let known: { intent: PaymentIntentRow; attempt: PaymentAttemptRow } | undefined = outcome.kind === 'unknown' ? undefined : started;
  return withCasRetries(() => {
    const rows = known;
    known = undefined;
    return inTransaction(deps.database, (tx) => recordPayOutcome(tx, deps, ctx, started.attempt.id, outcome, rows));
  });
}

export async function recordPayOutcome(
  tx: Executor,
  deps: CoreDeps,
  ctx: RequestContext,
  attemptId: string,
  outcome: ConnectorPayOutcome,
  /** The rows as this request's start committed them (recordStartedPayOutcome); read otherwise. */
  started?: { intent: PaymentIntentRow; attempt: PaymentAttemptRow },
): Promise<RecordedOutcome> {
  const attempt = started?.attempt ?? (await findAttemptById(tx, attemptId));
  const current = attempt === undefined ? undefined : (started?.intent ?? (await findPaymentIntentById(tx, attempt.payment_intent_id)));
  if (attempt === undefined || current === undefined) throw new Error(`attempt ${attemptId} or its PaymentIntent vanished`);
  const now = deps.clock.now();
  let intent = current;
  let settled: RecordedOutcome['settled'] = null;
  // Only an attempt still `sending` takes this outcome. Otherwise a notification, inquiry or
  // cancel got there first, and the response reports the state it left.
  if (attempt.status === 'sending') {
    switch (outcome.kind) {
      case 'requires_action':
        await moveAttemptOrRetry(tx, attempt, { kind: 'network_accepted' }, now, { external_payment_id: outcome.externalPaymentId, expires_at: outcome.expiresAtMs });
        intent = won(await markRequiresAction(tx, current, JSON.stringify(nextAction(outcome, attempt.return_url)), now));
        await recordTransitionEvents(tx, deps, ctx, current, intent, 'attempt_requires_action');
        break;
      case 'declined':
        intent = await recordDecline(tx, deps, ctx, current, attempt, outcome.declineCode, outcome.message);
        settled = 'failed';
        break;
      case 'succeeded': {
        const recorded = await recordSuccessInTx(tx, deps, ctx, current, attempt, outcome);
        intent = recorded?.intent ?? current;
        if (recorded !== null) settled = 'succeeded';
        break;
      }
      case 'unknown':
        intent = won(await markStillProcessing(tx, current, now));
        await recordTransitionEvents(tx, deps, ctx, current, intent, 'attempt_unknown');
        break;
    }
  }
  const view = paymentIntentView(intent);
  const failure = attempt.status === 'sending' && outcome.kind === 'declined' ? declineError(view, outcome.declineCode, outcome.message) : null;
  if (failure === null) await completeIdempotentRequest(tx, ctx, 200, view);
  else await completeIdempotentRequest(tx, ctx, failure.status, failure.toBody());
  return { view, failure, settled };
}

/** next_action of api.md §2: Stripe's redirect_to_url plus the seed's alipay_handle_redirect. */
export function nextAction(outcome: Extract<ConnectorPayOutcome, { kind: 'requires_action' }>, returnUrl: string): ApiObject {
  return {
    type: 'redirect_to_url',
    redirect_to_url: { url: outcome.redirectUrl, return_url: returnUrl },
    alipay_handle_redirect: {
      url: outcome.redirectUrl,
      native_url: outcome.nativeUrl,
      qr_code: outcome.qrCode === null ? null : { data: outcome.qrCode.data, expires_at: outcome.qrCode.expiresAtMs },
    },
  };
}

export function declineError(view: ApiObject, declineCode: string, message: string): ApiError {
  return new ApiError({
    status: 402,
    type: 'card_error',
    code: 'payment_intent_payment_attempt_failed',
    message: `The payment attempt failed: ${message}`,
    declineCode,
    paymentIntent: view,
    shouldRetry: false,
  });
}

async function recordDecline(tx: Executor, deps: CoreDeps, ctx: Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>, current: PaymentIntentRow, attempt: PaymentAttemptRow, declineCode: string, message: string): Promise<PaymentIntentRow> {
  const now = deps.clock.now();
  // A `canceling` attempt its PaymentIntent still awaited fails when the network confirms the close.
  const input = attempt.status === 'canceling' ? { kind: 'closed', awaited: true } as const : { kind: 'declined' } as const;
  await moveAttemptOrRetry(tx, attempt, input, now, { failure_code: declineCode, failure_message: message });
  const method = await findPaymentMethodByAccountAndId(tx, { accountId: attempt.account_id, livemode: attempt.livemode === 1 }, attempt.payment_method_id);
  const lastPaymentError = {
    type: 'card_error',
    code: 'payment_intent_payment_attempt_failed',
    decline_code: declineCode,
    message,
    payment_method: method === undefined ? null : paymentMethodView(method),
  };
  const intent = won(await markPaymentFailed(tx, current, JSON.stringify(lastPaymentError), now));
  await recordTransitionEvents(tx, deps, ctx, current, intent, 'attempt_failed');
  return intent;
}

/** Writes the Events the status machine prescribes for a transition already persisted. */
async function recordTransitionEvents(
  tx: Executor,
  deps: CoreDeps,
  ctx: Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>,
  before: PaymentIntentRow,
  after: PaymentIntentRow,
  input: 'attempt_requires_action' | 'attempt_failed' | 'attempt_succeeded' | 'attempt_unknown' | 'cancel',
): Promise<void> {
  const next = transition(before.status as PaymentIntentStatus, input === 'cancel' ? { kind: 'cancel', createdByCheckoutSession: false } : { kind: input });
  if (!next.ok) throw new Error(`recorded a transition the status machine refuses: ${before.status} + ${input}`);
  const view = paymentIntentView(after);
  for (const type of next.events) await recordEvent(tx, deps, ctx, type satisfies PaymentIntentEventType, view, { status: before.status });
}

export interface SuccessDetails {
  externalPaymentId: string | null;
  buyerId: string | null;
  wallet: string | null;
  /** What Alipay+ settles the payment at (notification or inquiry): feeds the balance transaction. */
  settlement?: ConnectorSettlement | null;
}

/**
 * Records a succeeded attempt: attempt, Charge, PaymentIntent and their Events in the caller's
 * transaction. Returns null when the PaymentIntent no longer awaits this payment (canceled or
 * failed meanwhile): money taken then must be returned, which the caller decides.
 */
async function recordSuccessInTx(
  tx: Executor,
  deps: CoreDeps,
  ctx: Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>,
  current: PaymentIntentRow,
  attempt: PaymentAttemptRow,
  details: SuccessDetails,
): Promise<{ intent: PaymentIntentRow; charge: ChargeRow } | null> {
  // A canceling, failed or canceled attempt is no longer awaited, whatever the PaymentIntent says.
  if (!isOpen(attempt.status)) return null;
  if (!transition(current.status as PaymentIntentStatus, { kind: 'attempt_succeeded' }).ok) return null;
  const now = deps.clock.now();
  await moveAttemptOrRetry(tx, attempt, { kind: 'paid' }, now, details.externalPaymentId === null ? {} : { external_payment_id: details.externalPaymentId });
  const charge: ChargeRow = {
    id: deps.ids.next('ch'),
    account_id: attempt.account_id,
    livemode: attempt.livemode,
    created: now,
    payment_intent_id: current.id,
    payment_attempt_id: attempt.id,
    payment_method_id: attempt.payment_method_id,
    amount: attempt.amount,
    amount_captured: attempt.amount,
    amount_refunded: 0,
    amount_refund_reserved: 0,
    amount_dispute_reserved: 0,
    open_escalations: 0,
    currency: attempt.currency,
    status: 'succeeded',
    buyer_id: details.buyerId,
    transaction_id: details.externalPaymentId,
    wallet: details.wallet,
    balance_transaction: null,
    disputed: 0,
    description: current.description,
    metadata: current.metadata,
    customer: current.customer,
    // Stripe's charge keeps the payment method's billing details as they were when it was paid.
    billing_details: (await findPaymentMethodByAccountAndId(tx, { accountId: attempt.account_id, livemode: attempt.livemode === 1 }, attempt.payment_method_id))?.billing_details ?? null,
  };
  charge.balance_transaction = await recordChargeBalanceInTx(tx, deps, charge, attempt.payment_request_id, details.settlement ?? null);
  await insertChargeForSucceededAttempt(tx, charge);
  const intent = won(await markSucceeded(tx, current, charge.id, now));
  await recordTransitionEvents(tx, deps, ctx, current, intent, 'attempt_succeeded');
  await recordEvent(tx, deps, ctx, 'charge.succeeded', chargeView(charge));
  // A Checkout Session follows its payment in the same transaction (api.md §6).
  await completeSessionInTx(tx, deps, ctx, intent);
  return { intent, charge };
}

export type AttemptSuccessResult =
  | { kind: 'recorded'; paymentIntent: ApiObject; charge: ApiObject }
  /** Reported before: the stored Charge is returned and nothing is written. */
  | { kind: 'already_recorded'; paymentIntent: ApiObject; charge: ApiObject }
  /** The PaymentIntent was canceled or failed first; nothing written, the payment must be returned. */
  | { kind: 'not_awaited'; paymentIntent: ApiObject; attempt: PaymentAttemptRow }
  | { kind: 'unknown_attempt' };

/**
 * Records that the wallet network reports the attempt with this paymentRequestId as paid
 * (notification or inquiry). Idempotent: a duplicate report changes nothing.
 */
export async function recordAttemptSucceeded(deps: CoreDeps, paymentRequestId: string, details: SuccessDetails): Promise<AttemptSuccessResult> {
  const result = await withCasRetries(() =>
    inTransaction(deps.database, async (tx): Promise<AttemptSuccessResult> => {
      const attempt = await findAttemptByPaymentRequestId(tx, paymentRequestId);
      const intent = attempt === undefined ? undefined : await findPaymentIntentById(tx, attempt.payment_intent_id);
      if (attempt === undefined || intent === undefined) return { kind: 'unknown_attempt' };
      if (attempt.status === 'succeeded') {
        const charge = await findChargeByAttemptId(tx, attempt.id);
        if (charge !== undefined) return { kind: 'already_recorded', paymentIntent: paymentIntentView(intent), charge: chargeView(charge) };
      }
      const ctx = { scope: { accountId: attempt.account_id, livemode: attempt.livemode === 1 }, requestId: null, idempotency: null };
      const recorded = await recordSuccessInTx(tx, deps, ctx, intent, attempt, details);
      if (recorded === null) {
        // Paid although we recorded it failed: reopen it as `canceling`, so the worker returns the money.
        if (attempt.status === 'failed') await moveAttemptOrRetry(tx, attempt, { kind: 'paid_after_failure' }, deps.clock.now());
        return { kind: 'not_awaited', paymentIntent: paymentIntentView(intent), attempt };
      }
      return { kind: 'recorded', paymentIntent: paymentIntentView(recorded.intent), charge: chargeView(recorded.charge) };
    }),
  );
  if (result.kind === 'recorded') deps.metrics?.paymentOutcome('succeeded', result.paymentIntent.livemode === true);
  return result;
}

export type AttemptFailureResult =
  | { kind: 'recorded'; paymentIntent: ApiObject }
  /** The attempt was already final (succeeded, failed or canceled): nothing written. */
  | { kind: 'already_final'; paymentIntent: ApiObject; attemptStatus: string }
  | { kind: 'unknown_attempt' };

/**
 * Records that the wallet network reports the attempt with this paymentRequestId as failed
 * (notification `F`, inquiry, expiry): the PaymentIntent returns to requires_payment_method
 * with last_payment_error. Idempotent: a repeated report changes nothing.
 */
export async function recordAttemptFailed(deps: CoreDeps, paymentRequestId: string, failure: { declineCode: string; message: string }): Promise<AttemptFailureResult> {
  const result = await withCasRetries(() =>
    inTransaction(deps.database, async (tx): Promise<AttemptFailureResult> => {
      const attempt = await findAttemptByPaymentRequestId(tx, paymentRequestId);
      const intent = attempt === undefined ? undefined : await findPaymentIntentById(tx, attempt.payment_intent_id);
      if (attempt === undefined || intent === undefined) return { kind: 'unknown_attempt' };
      if (!isOpen(attempt.status) || !transition(intent.status as PaymentIntentStatus, { kind: 'attempt_failed' }).ok) {
        return { kind: 'already_final', paymentIntent: paymentIntentView(intent), attemptStatus: attempt.status };
      }
      const ctx = { scope: { accountId: attempt.account_id, livemode: attempt.livemode === 1 }, requestId: null, idempotency: null };
      const failed = await recordDecline(tx, deps, ctx, intent, attempt, failure.declineCode, failure.message);
      return { kind: 'recorded', paymentIntent: paymentIntentView(failed) };
    }),
  );
  if (result.kind === 'recorded') deps.metrics?.paymentOutcome('failed', result.paymentIntent.livemode === true);
  return result;
}

/**
 * Records that a `canceling` attempt is closed at the wallet network (cancelled, or its money
 * returned by `reversal`). If its PaymentIntent still awaits it (the worker closed it at expiry
 * or because its outcome was lost), the attempt fails with the reason stored when it was closed
 * and the PaymentIntent returns to requires_payment_method; otherwise (the PaymentIntent was
 * canceled, or moved on) the attempt ends `canceled`. Idempotent.
 */
export async function recordAttemptClosed(deps: CoreDeps, attemptId: string, reversal: AttemptReversal | null): Promise<'failed' | 'canceled' | 'already_final'> {
  let livemode = false;
  const result = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      const attempt = await findAttemptById(tx, attemptId);
      const intent = attempt === undefined ? undefined : await findPaymentIntentById(tx, attempt.payment_intent_id);
      if (attempt === undefined || intent === undefined) throw new Error(`attempt ${attemptId} or its PaymentIntent vanished`);
      if (attempt.status !== 'canceling') return 'already_final';
      livemode = attempt.livemode === 1;
      if (reversal !== null) await recordAttemptReversal(tx, attempt.id, reversal);
      const latest = await findLatestAttemptForIntent(tx, intent.id);
      if (latest?.id === attempt.id && transition(intent.status as PaymentIntentStatus, { kind: 'attempt_failed' }).ok) {
        const ctx = { scope: { accountId: attempt.account_id, livemode: attempt.livemode === 1 }, requestId: null, idempotency: null };
        await recordDecline(tx, deps, ctx, intent, attempt, attempt.failure_code ?? 'ORDER_IS_CLOSED', attempt.failure_message ?? 'The payment was closed before it was paid.');
        return 'failed';
      }
      await moveAttemptOrRetry(tx, attempt, { kind: 'closed', awaited: false }, deps.clock.now());
      return 'canceled';
    }),
  );
  // A closed attempt its PaymentIntent awaited is a failed payment; the others' PaymentIntent was counted when canceled.
  if (result === 'failed') deps.metrics?.paymentOutcome('failed', livemode);
  return result;
}

/**
 * Cancels a PaymentIntent: the status, its Event and the open attempts' move to `canceling`
 * commit together; the cancel then goes to the wallet network outside the transaction, and
 * attempts it did not confirm stay `canceling` for the worker.
 */
export async function cancelPaymentIntent(deps: CoreDeps, ctx: RequestContext, id: string, params: CancelPaymentIntentParams): Promise<ApiObject> {
  const { view, attempts } = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      await claimInTransaction(tx, deps, ctx);
      const current = await findOwnedIntent(tx, ctx.scope, id);
      const next = transition(current.status as PaymentIntentStatus, { kind: 'cancel', createdByCheckoutSession: current.checkout_session !== null });
      if (!next.ok) throw unexpectedState(`You cannot cancel this PaymentIntent because ${next.message}.`, paymentIntentView(current));
      const now = deps.clock.now();
      const open = await findOpenAttemptsForIntent(tx, id);
      for (const attempt of open) await moveAttemptOrRetry(tx, attempt, { kind: 'close' }, now);
      const canceled = won(await markCanceled(tx, current, params.cancellation_reason ?? null, now));
      await recordTransitionEvents(tx, deps, ctx, current, canceled, 'cancel');
      const canceledView = paymentIntentView(canceled);
      await completeIdempotentRequest(tx, ctx, 200, canceledView);
      return { view: canceledView, attempts: open };
    }),
  );
  deps.metrics?.paymentOutcome('canceled', ctx.scope.livemode);
  for (const attempt of attempts) await cancelAtNetwork(deps, attempt);
  return view;
}

export async function cancelAtNetwork(deps: CoreDeps, attempt: PaymentAttemptRow): Promise<void> {
  try {
    const outcome = await deps.connector.cancel({
      accountId: attempt.account_id,
      livemode: attempt.livemode === 1,
      paymentIntentId: attempt.payment_intent_id,
      attemptId: attempt.id,
      paymentRequestId: attempt.payment_request_id,
    });
    // A `sending` attempt's pay may still be on its way (a same-id re-send), and Alipay+ answers a
    // cancel that overtakes it with ORDER_NOT_EXIST: only the worker, once the request path is
    // surely done, may call that final.
    // The caller moved the attempt to `canceling` before this call (its row here is the one read before).
    if (outcome.kind === 'canceled' && attempt.status === 'pending') await inTransaction(deps.database, (tx) => tryMoveAttempt(tx, { id: attempt.id, status: 'canceling' }, { kind: 'closed', awaited: false }, deps.clock.now()));
    else if (outcome.kind === 'canceled') deps.logger.info({ payment_request_id: attempt.payment_request_id }, 'cancel of an attempt still sending; the worker confirms it');
    else deps.logger.warn({ payment_request_id: attempt.payment_request_id, outcome }, 'cancel not confirmed by the network; left for the worker');
  } catch (error) {
    deps.logger.warn({ err: error, payment_request_id: attempt.payment_request_id }, 'connector cancel failed; left for the worker');
  }
}
