import type { ConnectorDisputeDecided, ConnectorDisputeOpened, DisputeDisposition } from '../connector/types.js';
import { disputableMinor, emptyEvidence, kindOfStatus, openingStatus, stripeReasonOf, transitionDispute } from '../domain/disputes.js';
import type { DisputeStatus } from '../domain/disputes.js';
import { findChargeByAttemptId } from '../store/charges.js';
import { inTransaction } from '../store/database.js';
import { findDisputeByRequestId, insertDispute, markChargeDisputed, reserveEscalation } from '../store/disputes.js';
import { findAttemptByPaymentRequestId } from '../store/payment_attempts.js';
import type { ChargeRow, DisputeRow, Executor } from '../store/schema.js';
import { recordDisputeBalanceInTx } from './balance.js';
import type { CoreDeps } from './context.js';
import { moveDisputeWithEffects, networkContext } from './dispute_moves.js';
import { loadDisputeView } from './dispute_views.js';
import { recordEvent } from './events.js';
import { withCasRetries } from './payment_intent_rules.js';

/**
 * The network side of disputes (alipayplus.md §7, disputes-design.md "The flow"): Alipay+ opens a
 * dispute on a paid payment and later reports its result. The HTTP layer has verified the
 * signature (connector); here every fact is checked against what the gateway stored, and the
 * change is recorded in ONE transaction before Alipay+ is answered, so an acknowledged call is
 * never lost and a repeated one (same disputeRequestId) changes nothing.
 */
export async function applyDisputeCall(deps: CoreDeps, call: ConnectorDisputeOpened | ConnectorDisputeDecided): Promise<DisputeDisposition> {
  const disposition = call.kind === 'opened' ? await recordDisputeOpened(deps, call) : await applyDisputeResult(deps, call);
  const log = { dispute_request_id: call.disputeRequestId, payment_request_id: call.paymentRequestId, call: call.kind };
  if (disposition.ack) deps.logger.info({ ...log, note: disposition.note }, 'Alipay+ dispute call acknowledged');
  else deps.logger.warn({ ...log, why: disposition.why, note: disposition.note }, 'Alipay+ dispute call refused');
  return disposition;
}

const ack = (note: string): DisputeDisposition => ({ ack: true, note });
const refuse = (why: Extract<DisputeDisposition, { ack: false }>['why'], note: string): DisputeDisposition => ({ ack: false, why, note });

/** Whether a repeat of a recorded initiate call reports the same dispute (its key fields). */
function sameDispute(row: DisputeRow, call: ConnectorDisputeOpened): boolean {
  if (row.payment_request_id !== call.paymentRequestId || row.kind !== call.type) return false;
  return call.amount === null || (row.amount === call.amount.amountMinor && row.currency === call.amount.currency);
}

/**
 * Records a dispute Alipay+ opened: the paid attempt by paymentRequestId, its paymentId and
 * currency checked, and for an escalation its amount reserved on the charge against refunds and
 * other escalations (one conditional UPDATE, store/disputes.ts) and withdrawn from the balance.
 * Dispute row, `charge.disputed`, balance transaction and Events commit together.
 */
export async function recordDisputeOpened(deps: CoreDeps, call: ConnectorDisputeOpened): Promise<DisputeDisposition> {
  return withCasRetries(() =>
    inTransaction(deps.database, async (tx): Promise<DisputeDisposition> => {
      const existing = await findDisputeByRequestId(tx, call.livemode, call.disputeRequestId);
      if (existing !== undefined) {
        return sameDispute(existing, call)
          ? ack(`dispute ${existing.id} was recorded before`)
          : refuse('repeat_inconsistent', `disputeRequestId ${call.disputeRequestId} was used for another dispute (${existing.kind} of ${existing.payment_request_id})`);
      }
      const found = await findPaidCharge(tx, call);
      if (!found.ok) return found.disposition;
      const { charge } = found;
      if (call.amount !== null && call.amount.currency !== charge.currency) {
        return refuse('invalid', `escalationAmount currency ${call.amount.currency} is not the payment's ${charge.currency}`);
      }
      return recordInTx(tx, deps, call, charge);
    }),
  );
}

async function findPaidCharge(tx: Executor, call: ConnectorDisputeOpened | ConnectorDisputeDecided): Promise<{ ok: true; charge: ChargeRow } | { ok: false; disposition: DisputeDisposition }> {
  const attempt = await findAttemptByPaymentRequestId(tx, call.paymentRequestId);
  const unknown = { ok: false as const, disposition: refuse('unknown_payment', `no paid payment ${call.paymentRequestId}`) };
  if (attempt === undefined || (attempt.livemode === 1) !== call.livemode || attempt.status !== 'succeeded') return unknown;
  const charge = await findChargeByAttemptId(tx, attempt.id);
  if (charge === undefined || charge.status !== 'succeeded') return unknown;
  const storedPaymentId = attempt.external_payment_id ?? charge.transaction_id;
  if (storedPaymentId !== call.externalPaymentId) {
    return { ok: false, disposition: refuse('invalid', `paymentId ${call.externalPaymentId} is not the paymentId of ${call.paymentRequestId}`) };
  }
  return { ok: true, charge };
}

async function recordInTx(tx: Executor, deps: CoreDeps, call: ConnectorDisputeOpened, charge: ChargeRow): Promise<DisputeDisposition> {
  const now = deps.clock.now();
  const amountMinor = call.amount?.amountMinor ?? charge.amount;
  if (call.type === 'escalation') {
    const reserved = await reserveEscalation(tx, charge.id, amountMinor);
    if (reserved === null) {
      const left = disputableMinor({ amountCapturedMinor: charge.amount_captured, amountRefundReservedMinor: charge.amount_refund_reserved, amountDisputeReservedMinor: charge.amount_dispute_reserved });
      return refuse('amount_exceeded', `escalationAmount ${amountMinor} exceeds the disputable amount of ${call.paymentRequestId} (${left}: paid less refunds and escalations not won)`);
    }
    charge = reserved;
  } else {
    charge = await markChargeDisputed(tx, charge.id);
  }
  const row: DisputeRow = {
    id: deps.ids.next('dp'),
    account_id: charge.account_id,
    livemode: charge.livemode,
    created: now,
    updated: now,
    charge_id: charge.id,
    payment_intent_id: charge.payment_intent_id,
    payment_request_id: call.paymentRequestId,
    payment_id: call.externalPaymentId,
    dispute_request_id: call.disputeRequestId,
    kind: call.type,
    status: openingStatus(call.type),
    amount: amountMinor,
    currency: charge.currency,
    reason: stripeReasonOf(call.reasonCode),
    network_reason_code: call.reasonCode,
    reason_message: call.reasonMessage,
    occurred_at: call.occurredAtMs,
    due_by: call.dueByMs,
    past_due: 0,
    evidence: JSON.stringify(emptyEvidence()),
    submission_count: 0,
    metadata: '{}',
    balance_transactions: '[]',
    result: null,
    response_api: null,
    response_body: null,
    response_state: null,
    response_code: null,
    next_check_at: null,
    checks: 0,
    lease_owner: null,
    lease_until: null,
  };
  if (call.type === 'escalation') {
    const withdrawal = await recordDisputeBalanceInTx(tx, deps, row, charge, 'withdrawal', now);
    if (withdrawal !== null) row.balance_transactions = JSON.stringify([withdrawal.id]);
  }
  await insertDispute(tx, row);
  const view = await loadDisputeView(tx, row, now);
  const ctx = networkContext(row);
  await recordEvent(tx, deps, ctx, 'charge.dispute.created', view);
  if (call.type === 'escalation') await recordEvent(tx, deps, ctx, 'charge.dispute.funds_withdrawn', view);
  return ack(`recorded dispute ${row.id}`);
}

const RESULT_STATUS: Record<ConnectorDisputeDecided['result'], DisputeStatus> = { closed: 'warning_closed', won: 'won', lost: 'lost' };

/**
 * Applies Alipay+'s result of a dispute: a retrieval closed, an escalation won (its amount
 * reinstated) or lost. Already applied: acknowledged again, nothing changes. Alipay+ decides the
 * money, so an escalation the gateway closed as lost by presumption (past due, or accepted too
 * late) that Alipay+ reports won becomes won. Any other contradiction (a retrieval won, a won
 * case lost) is refused and logged.
 */
export async function applyDisputeResult(deps: CoreDeps, call: ConnectorDisputeDecided): Promise<DisputeDisposition> {
  return withCasRetries(() =>
    inTransaction(deps.database, async (tx): Promise<DisputeDisposition> => {
      const dispute = await findDisputeByRequestId(tx, call.livemode, call.disputeRequestId);
      if (dispute === undefined) return refuse('unknown_payment', `no dispute ${call.disputeRequestId}`);
      if (dispute.payment_request_id !== call.paymentRequestId || dispute.payment_id !== call.externalPaymentId || dispute.kind !== call.type) {
        return refuse('invalid', `the result's payment or type does not match dispute ${call.disputeRequestId}`);
      }
      const target = RESULT_STATUS[call.result];
      if (kindOfStatus(target) !== dispute.kind) return refuse('invalid', `a ${dispute.kind} cannot be ${call.result}`);
      if (dispute.status === target) return ack(`dispute ${dispute.id} is already ${target}`);
      const result = { kind: 'result', result: call.result } as const;
      const { row } = await moveDisputeWithEffectsOrNull(tx, deps, dispute, result);
      if (row === null) {
        deps.logger.error({ dispute: dispute.id, status: dispute.status, result: call.result }, 'Alipay+ reported a dispute result that contradicts its recorded status');
        return refuse('invalid', `dispute ${call.disputeRequestId} has a status of ${dispute.status}; it cannot become ${target}`);
      }
      return ack(`dispute ${dispute.id} is now ${row.status}`);
    }),
  );
}

async function moveDisputeWithEffectsOrNull(tx: Executor, deps: CoreDeps, dispute: DisputeRow, input: { kind: 'result'; result: ConnectorDisputeDecided['result'] }): Promise<{ row: DisputeRow | null }> {
  if (!transitionDispute(dispute.status, input).ok) return { row: null };
  const moved = await moveDisputeWithEffects(tx, deps, networkContext(dispute), dispute, input, { result: input.result });
  return { row: moved.row };
}
