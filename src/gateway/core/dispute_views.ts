import { disputableMinor, emptyEvidence, hasEvidence } from '../domain/disputes.js';
import type { Evidence } from '../domain/disputes.js';
import type { Metadata } from '../domain/metadata.js';
import type { BalanceTransactionRow, ChargeRow, DisputeRow, Executor } from '../store/schema.js';
import { balanceTransactionView } from './balance.js';
import type { ApiObject } from './views.js';

/** A dispute row's evidence, every Stripe field present (text or null). */
export function evidenceOf(row: Pick<DisputeRow, 'evidence'>): Evidence {
  return { ...emptyEvidence(), ...(JSON.parse(row.evidence) as Partial<Evidence>) };
}

export function balanceTransactionIdsOf(row: Pick<DisputeRow, 'balance_transactions'>): string[] {
  return JSON.parse(row.balance_transactions) as string[];
}

/**
 * Whether the charge can still be refunded: not while an escalation is open (refunds answer
 * `charge_disputed`), and only while something is left after refunds and escalations not won.
 */
export function isChargeRefundable(charge: Pick<ChargeRow, 'amount_captured' | 'amount_refund_reserved' | 'amount_dispute_reserved' | 'open_escalations'>): boolean {
  if (charge.open_escalations > 0) return false;
  return disputableMinor({ amountCapturedMinor: charge.amount_captured, amountRefundReservedMinor: charge.amount_refund_reserved, amountDisputeReservedMinor: charge.amount_dispute_reserved }) > 0;
}

/**
 * The Dispute object (api.md §7a): every field of Stripe's `dispute` schema, with the Alipay+
 * side in `payment_method_details.alipay` and the original reason code in `network_reason_code`.
 */
export function disputeView(row: DisputeRow, charge: ChargeRow, transactions: BalanceTransactionRow[], nowMs: number): ApiObject {
  const evidence = evidenceOf(row);
  const byId = new Map(transactions.map((txn) => [txn.id, txn]));
  return {
    id: row.id,
    object: 'dispute',
    amount: row.amount,
    balance_transactions: balanceTransactionIdsOf(row).flatMap((id) => {
      const txn = byId.get(id);
      return txn === undefined ? [] : [balanceTransactionView(txn, nowMs)];
    }),
    charge: row.charge_id,
    created: row.created,
    currency: row.currency,
    evidence,
    evidence_details: {
      due_by: row.due_by,
      has_evidence: hasEvidence(evidence),
      past_due: row.past_due === 1,
      submission_count: row.submission_count,
    },
    is_charge_refundable: isChargeRefundable(charge),
    livemode: row.livemode === 1,
    metadata: JSON.parse(row.metadata) as Metadata,
    network_reason_code: row.network_reason_code,
    payment_intent: row.payment_intent_id,
    payment_method_details: { type: 'alipay', alipay: { dispute_type: row.kind, dispute_request_id: row.dispute_request_id } },
    reason: row.reason,
    status: row.status,
  };
}

/** Loads what the view needs besides the row (its charge and balance transactions), in `ex`. */
export async function loadDisputeView(ex: Executor, row: DisputeRow, nowMs: number): Promise<ApiObject> {
  const charge = await ex.selectFrom('charges').selectAll().where('id', '=', row.charge_id).executeTakeFirstOrThrow();
  const ids = balanceTransactionIdsOf(row);
  const transactions = ids.length === 0 ? [] : await ex.selectFrom('balance_transactions').selectAll().where('id', 'in', ids).execute();
  return disputeView(row, charge, transactions, nowMs);
}

/** The views of a page of disputes with two queries (their charges, their balance transactions), not two per row. */
export async function loadDisputeViews(ex: Executor, rows: DisputeRow[], nowMs: number): Promise<ApiObject[]> {
  if (rows.length === 0) return [];
  const chargeIds = [...new Set(rows.map((row) => row.charge_id))];
  const charges = new Map((await ex.selectFrom('charges').selectAll().where('id', 'in', chargeIds).execute()).map((charge) => [charge.id, charge]));
  const txnIds = rows.flatMap(balanceTransactionIdsOf);
  const transactions = txnIds.length === 0 ? [] : await ex.selectFrom('balance_transactions').selectAll().where('id', 'in', txnIds).execute();
  return rows.map((row) => {
    const charge = charges.get(row.charge_id);
    if (charge === undefined) throw new Error(`charge ${row.charge_id} of dispute ${row.id} vanished`);
    return disputeView(row, charge, transactions, nowMs);
  });
}
