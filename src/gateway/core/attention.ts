import { transitionAttempt } from '../domain/payment_attempts.js';
import { inTransaction } from '../store/database.js';
import { insertAttentionItem, listAttentionItems } from '../store/attention.js';
import { findAttemptById, moveAttempt } from '../store/payment_attempts.js';
import { findPaymentIntentById } from '../store/payment_intents.js';
import type { AttentionItemRow, Executor, PaymentAttemptRow, RefundRow } from '../store/schema.js';
import type { CoreDeps } from './context.js';
import { ConcurrentUpdate } from './context.js';
import { recordEvent } from './events.js';
import { withCasRetries } from './payment_intent_rules.js';
import { paymentIntentView } from './views.js';

/*
 * `requires_attention`: what the gateway cannot settle alone — a payment or refund the network
 * reports for another amount, a paymentId that is not the one pay returned, a reversal the network
 * refused, or no final answer within WORKER_CHECKS_MAX checks. The row stops being worked; the
 * move, an Event and an attention item (the operator's list, `zhifu attention`) commit together;
 * then a log line at error level, and the gateway's metrics counter goes up.
 */

export interface AttentionCounts {
  payment_attempt: number;
  refund: number;
}

/**
 * How many rows this gateway moved to requires_attention since it started: its metrics' counter
 * (`zhifu_requires_attention_total`), so gateways sharing one process (tests) count apart; a
 * restart starts at zero (the list stays).
 */
export async function attentionCounts(deps: Pick<CoreDeps, 'metrics'>): Promise<AttentionCounts> {
  const metrics = deps.metrics;
  if (metrics === undefined) return { payment_attempt: 0, refund: 0 };
  return { payment_attempt: await metrics.attentionCount('payment_attempt'), refund: await metrics.attentionCount('refund') };
}

/** After the move committed: the error log line and the counter. */
export function noteAttention(deps: Pick<CoreDeps, 'metrics' | 'logger'>, object: keyof AttentionCounts, fields: Record<string, unknown>): void {
  deps.metrics?.attention(object);
  deps.logger.error(fields, object === 'refund' ? 'refund requires attention' : 'payment attempt requires attention');
}

/** The operator's list entry, in the transaction that moved the row. */
export function recordAttentionItem(tx: Executor, row: PaymentAttemptRow | RefundRow, reason: string, nowMs: number): Promise<unknown> {
  const refund = 'refund_request_id' in row;
  return insertAttentionItem(tx, {
    id: row.id, object: refund ? 'refund' : 'payment_attempt', account_id: row.account_id, livemode: row.livemode, created: nowMs,
    payment_intent_id: row.payment_intent_id, request_id: refund ? row.refund_request_id : row.payment_request_id, amount: row.amount, currency: row.currency, reason,
  });
}

/** Everything awaiting an operator, oldest first (both modes, every account). */
export function listAttention(deps: Pick<CoreDeps, 'database'>, limit = 1000): Promise<AttentionItemRow[]> {
  return listAttentionItems(deps.database.db, limit);
}

/**
 * Moves an attempt still worked (`sending`, `pending`, `canceling`) to requires_attention with
 * `payment_intent.requires_attention`. False when it was already final (nothing written).
 */
export async function recordAttemptRequiresAttention(deps: CoreDeps, attemptId: string, reason: string): Promise<boolean> {
  const moved = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      const attempt = await findAttemptById(tx, attemptId);
      const intent = attempt === undefined ? undefined : await findPaymentIntentById(tx, attempt.payment_intent_id);
      if (attempt === undefined || intent === undefined) throw new Error(`attempt ${attemptId} or its PaymentIntent vanished`);
      const decided = transitionAttempt(attempt.status, { kind: 'needs_attention' });
      if (!decided.ok) return null;
      const now = deps.clock.now();
      if (!(await moveAttempt(tx, attempt.id, decided, now, { next_check_at: null }))) throw new ConcurrentUpdate();
      await recordAttentionItem(tx, attempt, reason, now);
      const ctx = { scope: { accountId: attempt.account_id, livemode: attempt.livemode === 1 }, requestId: null, idempotency: null };
      for (const type of decided.events) await recordEvent(tx, deps, ctx, type, paymentIntentView(intent));
      return attempt;
    }),
  );
  if (moved === null) return false;
  noteAttention(deps, 'payment_attempt', { payment_request_id: moved.payment_request_id, payment_intent_id: moved.payment_intent_id, attempt_status: moved.status, amount: moved.amount, currency: moved.currency, reason });
  return true;
}
