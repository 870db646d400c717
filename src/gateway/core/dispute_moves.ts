import { OPEN_ESCALATION_STATUSES, transitionDispute } from '../domain/disputes.js';
import type { DisputeEventType, DisputeInput } from '../domain/disputes.js';
import { closeEscalationOnCharge, releaseDisputeReserve, moveDispute } from '../store/disputes.js';
import type { DisputeFields } from '../store/disputes.js';
import type { DisputeRow, Executor } from '../store/schema.js';
import { recordDisputeBalanceInTx } from './balance.js';
import type { CoreDeps, RequestContext } from './context.js';
import { ConcurrentUpdate } from './context.js';
import { balanceTransactionIdsOf, loadDisputeView } from './dispute_views.js';
import { recordEvent } from './events.js';
import type { ApiObject } from './views.js';

export type EventContext = Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>;

/** The context of a change nobody requested over the API (Alipay+, the worker): no request, no key. */
export function networkContext(row: Pick<DisputeRow, 'account_id' | 'livemode'>): EventContext {
  return { scope: { accountId: row.account_id, livemode: row.livemode === 1 }, requestId: null, idempotency: null };
}

/**
 * Moves a dispute as the status machine decides, in the caller's transaction, with everything
 * that goes with the move: an escalation leaving its open statuses stops blocking refunds (and,
 * won, gives its amount back to the charge and writes the reinstating balance transaction), and
 * the Events the machine prescribes, each with the dispute as it is after the move. A lost
 * compare-and-set retries the unit (ConcurrentUpdate). Returns the row and its view.
 */
export async function moveDisputeWithEffects(
  tx: Executor,
  deps: Pick<CoreDeps, 'clock' | 'ids'>,
  ctx: EventContext,
  dispute: DisputeRow,
  input: DisputeInput,
  fields: DisputeFields = {},
): Promise<{ row: DisputeRow; view: ApiObject }> {
  const decided = transitionDispute(dispute.status, input);
  if (!decided.ok) throw new Error(`dispute ${dispute.id}: ${decided.message}`);
  const now = deps.clock.now();
  const extra: DisputeFields = { ...fields };
  const wasOpen = dispute.kind === 'escalation' && OPEN_ESCALATION_STATUSES.includes(dispute.status);
  const staysOpen = OPEN_ESCALATION_STATUSES.includes(decided.to);
  if (decided.to === 'won' && balanceTransactionIdsOf(dispute).length > 0) {
    const charge = await tx.selectFrom('charges').selectAll().where('id', '=', dispute.charge_id).executeTakeFirstOrThrow();
    const reinstated = await recordDisputeBalanceInTx(tx, deps, dispute, charge, 'reinstatement', now);
    if (reinstated !== null) extra.balance_transactions = JSON.stringify([...balanceTransactionIdsOf(dispute), reinstated.id]);
  }
  const moved = await moveDispute(tx, dispute.id, decided, now, extra);
  if (moved === null) throw new ConcurrentUpdate();
  if (wasOpen && !staysOpen) await closeEscalationOnCharge(tx, dispute.charge_id, decided.to === 'won' ? dispute.amount : 0);
  if (dispute.status === 'lost' && decided.to === 'won') await releaseDisputeReserve(tx, dispute.charge_id, dispute.amount);
  const view = await loadDisputeView(tx, moved, now);
  for (const type of decided.events satisfies DisputeEventType[]) {
    await recordEvent(tx, deps, ctx, type, view, type === 'charge.dispute.funds_reinstated' ? null : previousAttributes(dispute, moved));
  }
  return { row: moved, view };
}

/** The changed fields' old values, as Stripe gives them in `previous_attributes`. */
export function previousAttributes(before: DisputeRow, after: DisputeRow): ApiObject {
  const previous: ApiObject = {};
  if (before.status !== after.status) previous.status = before.status;
  if (before.evidence !== after.evidence) previous.evidence = JSON.parse(before.evidence) as unknown;
  if (before.metadata !== after.metadata) previous.metadata = JSON.parse(before.metadata) as unknown;
  if (before.past_due !== after.past_due) previous.evidence_details = { past_due: before.past_due === 1 };
  return previous;
}
