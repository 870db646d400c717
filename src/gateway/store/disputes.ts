import { sql } from 'kysely';
import type { DisputeStatus } from '../domain/disputes.js';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import type { ChargeRow, DisputeRow, Executor } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

export function insertDispute(ex: Executor, row: DisputeRow): Promise<unknown> {
  return ex.insertInto('disputes').values(row).execute();
}

export function findDisputeById(ex: Executor, id: string): Promise<DisputeRow | undefined> {
  return ex.selectFrom('disputes').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findDisputeByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<DisputeRow | undefined> {
  return ex
    .selectFrom('disputes')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

/** By Alipay+'s idempotency field, within one mode (test and live are different networks). */
export function findDisputeByRequestId(ex: Executor, livemode: boolean, disputeRequestId: string): Promise<DisputeRow | undefined> {
  return ex.selectFrom('disputes').selectAll().where('livemode', '=', bool(livemode)).where('dispute_request_id', '=', disputeRequestId).executeTakeFirst();
}

export interface DisputeFilters {
  charge?: string;
  paymentIntent?: string;
}

export async function listDisputesByAccount(ex: Executor, scope: Scope, window: ListWindow, filters: DisputeFilters) {
  let query = ex
    .selectFrom('disputes')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  if (filters.charge !== undefined) query = query.where('charge_id', '=', filters.charge);
  if (filters.paymentIntent !== undefined) query = query.where('payment_intent_id', '=', filters.paymentIntent);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}

/** The disputes of one charge, oldest first. */
export function listDisputesOfCharge(ex: Executor, chargeId: string): Promise<DisputeRow[]> {
  return ex.selectFrom('disputes').selectAll().where('charge_id', '=', chargeId).orderBy('created').orderBy('id').execute();
}

/**
 * Reserves an escalation's amount on its charge and marks the charge disputed: one conditional
 * UPDATE against the same row and sum as a refund's reservation (store/refunds.ts), so a refund
 * and an escalation racing can never together exceed what was captured. Returns the charge as
 * updated, or null when the amount does not fit.
 */
export async function reserveEscalation(ex: Executor, chargeId: string, amountMinor: number): Promise<ChargeRow | null> {
  const updated = await ex
    .updateTable('charges')
    .set({
      amount_dispute_reserved: sql<number>`amount_dispute_reserved + ${amountMinor}`,
      open_escalations: sql<number>`open_escalations + 1`,
      disputed: 1,
    })
    .where('id', '=', chargeId)
    .where(sql<boolean>`amount_refund_reserved + amount_dispute_reserved + ${amountMinor} <= amount_captured`)
    .returningAll()
    .executeTakeFirst();
  return updated ?? null;
}

/** A retrieval moves no money; the charge is disputed from the first dispute on. */
export async function markChargeDisputed(ex: Executor, chargeId: string): Promise<ChargeRow> {
  return ex.updateTable('charges').set({ disputed: 1 }).where('id', '=', chargeId).returningAll().executeTakeFirstOrThrow();
}

/**
 * An escalation left its open statuses: refunds are no longer blocked by it, and when it was won
 * its amount is no longer held (`releaseMinor`); a lost one keeps its reservation for good.
 */
export async function closeEscalationOnCharge(ex: Executor, chargeId: string, releaseMinor: number): Promise<void> {
  await ex
    .updateTable('charges')
    .set({ open_escalations: sql<number>`open_escalations - 1`, amount_dispute_reserved: sql<number>`amount_dispute_reserved - ${releaseMinor}` })
    .where('id', '=', chargeId)
    .execute();
}

/** A lost escalation Alipay+ reports won after all: its amount no longer counts against the charge. */
export async function releaseDisputeReserve(ex: Executor, chargeId: string, releaseMinor: number): Promise<void> {
  await ex
    .updateTable('charges')
    .set({ amount_dispute_reserved: sql<number>`amount_dispute_reserved - ${releaseMinor}` })
    .where('id', '=', chargeId)
    .execute();
}

export type DisputeFields = Partial<
  Pick<
    DisputeRow,
    | 'evidence'
    | 'metadata'
    | 'submission_count'
    | 'past_due'
    | 'balance_transactions'
    | 'result'
    | 'response_api'
    | 'response_body'
    | 'response_state'
    | 'response_code'
    | 'next_check_at'
    | 'checks'
  >
>;

/**
 * Applies a move the dispute status machine decided (`transitionDispute`), or a change of fields
 * within one status (`from` = `to`), as a compare-and-set on the status: null when the dispute
 * left `from` meanwhile (a result, the worker or another request got there first).
 */
export async function moveDispute(ex: Executor, id: string, move: { from: DisputeStatus; to: DisputeStatus }, nowMs: number, fields: DisputeFields = {}): Promise<DisputeRow | null> {
  const result = await ex
    .updateTable('disputes')
    .set({ ...fields, status: move.to, updated: nowMs })
    .where('id', '=', id)
    .where('status', '=', move.from)
    .returningAll()
    .executeTakeFirst();
  return result ?? null;
}

/**
 * Records Alipay+'s final answer to the stored response, if it is still the one being sent
 * (compare-and-set on `response_state`); null when another sender recorded it first.
 */
export async function recordResponseAnswer(ex: Executor, id: string, answer: { state: 'accepted' | 'refused'; code: string | null }, nowMs: number): Promise<DisputeRow | null> {
  const result = await ex
    .updateTable('disputes')
    .set({
      response_state: answer.state,
      response_code: answer.code,
      next_check_at: null,
      updated: nowMs,
      ...(answer.state === 'accepted' ? { submission_count: sql<number>`submission_count + 1` } : {}),
    })
    .where('id', '=', id)
    .where('response_state', '=', 'sending')
    .returningAll()
    .executeTakeFirst();
  return result ?? null;
}

/** When the worker should re-send a response still without a final answer. */
export async function scheduleResponseResend(ex: Executor, id: string, nextCheckAtMs: number): Promise<void> {
  await ex.updateTable('disputes').set({ next_check_at: nextCheckAtMs }).where('id', '=', id).where('response_state', '=', 'sending').execute();
}

/** Disputes past `due_by` still waiting for the merchant's response, oldest deadline first. */
export async function findPastDueDisputes(ex: Executor, nowMs: number, limit: number): Promise<DisputeRow[]> {
  return ex
    .selectFrom('disputes')
    .selectAll()
    .where('status', 'in', ['warning_needs_response', 'needs_response'])
    .where('due_by', '<', nowMs)
    .orderBy('due_by')
    .limit(limit)
    .execute();
}

/** Gives a dispute back after a re-send, counting it; a no-op when the lease was lost meanwhile. */
export async function releaseDispute(ex: Executor, id: string, owner: string, nextCheckAtMs: number | null): Promise<void> {
  await ex
    .updateTable('disputes')
    .set({
      lease_owner: null,
      lease_until: null,
      checks: sql<number>`checks + 1`,
      // An answer recorded meanwhile ends the re-sends, whatever this holder meant to schedule.
      ...(nextCheckAtMs === null ? {} : { next_check_at: sql<number | null>`case when response_state = 'sending' then ${nextCheckAtMs} else null end` }),
    })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .execute();
}
