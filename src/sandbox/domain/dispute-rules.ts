/**
 * Rules of Alipay+ disputes as the sandbox enforces them (alipayplus.md §7, disputes design):
 * who may open one and for how much, when an answer is due, and which state each event leads to.
 * Pure: no store, no clock, no I/O.
 */

export type DisputeType = 'RETRIEVAL' | 'ESCALATION';

/**
 * OPEN → RESPONDED → CLOSED (retrieval) | WON | LOST (escalation); OPEN → ACCEPTED (escalation,
 * ACCEPT_REFUND: the merchant conceded); OPEN → EXPIRED (deadline passed, no answer); OPEN →
 * CLOSED | WON | LOST (judged without an answer); OPEN → REJECTED (the acquirer refused the
 * initiate call with a verified F).
 */
export const DISPUTE_STATES = ['OPEN', 'RESPONDED', 'CLOSED', 'WON', 'LOST', 'ACCEPTED', 'EXPIRED', 'REJECTED'] as const;
export type DisputeState = (typeof DISPUTE_STATES)[number];

export const DISPUTE_TRANSITIONS: Readonly<Record<DisputeState, readonly DisputeState[]>> = {
  OPEN: ['RESPONDED', 'ACCEPTED', 'EXPIRED', 'REJECTED', 'CLOSED', 'WON', 'LOST'],
  RESPONDED: ['CLOSED', 'WON', 'LOST'],
  CLOSED: [],
  WON: [],
  LOST: [],
  ACCEPTED: [],
  EXPIRED: [],
  REJECTED: [],
};

const DAY_MS = 24 * 60 * 60 * 1000;
/** A dispute may be raised within 360 days of the payment. */
export const DISPUTE_WINDOW_MS = 360 * DAY_MS;
export const RETRIEVALS_PER_PAYMENT_MAX = 5;
export const ESCALATIONS_PER_PAYMENT_MAX = 2;
/** Days the acquirer has to answer, unless the control call says otherwise (our choice). */
export const RESPONSE_DAYS_DEFAULT: Readonly<Record<DisputeType, number>> = { RETRIEVAL: 20, ESCALATION: 15 };
export const REASON_CODE_DEFAULT: Readonly<Record<DisputeType, string>> = { RETRIEVAL: 'TRANSACTION_INFORMATION_REQUEST', ESCALATION: 'GOODS_NOT_RECEIVED' };

/** The bits of a dispute the rules look at. */
export interface DisputeFacts {
  type: DisputeType;
  state: DisputeState;
  amountMinor: number | null;
}

export interface PaymentFacts {
  status: 'PROCESSING' | 'SUCCESS' | 'FAIL' | 'CANCELLED';
  paidAt: number | null;
  amountMinor: number;
  refundedMinor: number;
}

export type OpenRefusalCode = 'PAYMENT_NOT_PAID' | 'DISPUTE_WINDOW_EXCEEDED' | 'RETRIEVAL_LIMIT_EXCEEDED' | 'ESCALATION_LIMIT_EXCEEDED' | 'DISPUTE_ONGOING' | 'DISPUTE_AMOUNT_EXCEED';

export type OpenDecision = { ok: true; amountMinor: number | null } | { ok: false; code: OpenRefusalCode; message: string };

/** A dispute still waiting for an answer or a judgement: only one of each type at a time. */
export function isOngoing(state: DisputeState): boolean {
  return state === 'OPEN' || state === 'RESPONDED';
}

/** Every dispute counts toward the per-payment limits except one the acquirer refused. */
function countsTowardLimit(state: DisputeState): boolean {
  return state !== 'REJECTED';
}

/** An escalation withholds its amount until the merchant wins it (or it never reached the acquirer). */
function withholdsAmount(dispute: DisputeFacts): boolean {
  return dispute.type === 'ESCALATION' && dispute.state !== 'WON' && dispute.state !== 'REJECTED';
}

export function escalatedMinor(disputes: readonly DisputeFacts[]): number {
  return disputes.filter(withholdsAmount).reduce((sum, dispute) => sum + (dispute.amountMinor ?? 0), 0);
}

/**
 * What can still be escalated or refunded: paid − refunded − escalated (escalations not WON or
 * REJECTED). Refunds and escalations draw on the same amount, so together they never exceed it.
 */
export function disputableMinor(payment: PaymentFacts, disputes: readonly DisputeFacts[]): number {
  return Math.max(0, payment.amountMinor - payment.refundedMinor - escalatedMinor(disputes));
}

/**
 * Whether a dispute of `type` may be opened now, and for how much (an escalation defaults to all
 * that is disputable). Checked in the order a shopper would hit them.
 */
export function decideOpen(input: { payment: PaymentFacts; disputes: readonly DisputeFacts[]; type: DisputeType; amountMinor?: number; nowMs: number }): OpenDecision {
  const { payment, disputes, type, nowMs } = input;
  if (payment.status !== 'SUCCESS' || payment.paidAt === null) return { ok: false, code: 'PAYMENT_NOT_PAID', message: `payment is ${payment.status}: only a paid payment can be disputed` };
  if (nowMs > payment.paidAt + DISPUTE_WINDOW_MS) return { ok: false, code: 'DISPUTE_WINDOW_EXCEEDED', message: 'a dispute can be raised within 360 days of the payment' };
  const sameType = disputes.filter((dispute) => dispute.type === type && countsTowardLimit(dispute.state));
  if (type === 'RETRIEVAL') {
    if (sameType.length >= RETRIEVALS_PER_PAYMENT_MAX) return { ok: false, code: 'RETRIEVAL_LIMIT_EXCEEDED', message: `a payment can have at most ${RETRIEVALS_PER_PAYMENT_MAX} retrievals` };
    if (sameType.some((dispute) => isOngoing(dispute.state))) return { ok: false, code: 'DISPUTE_ONGOING', message: 'a retrieval of this payment is still ongoing' };
    return { ok: true, amountMinor: null };
  }
  if (sameType.length >= ESCALATIONS_PER_PAYMENT_MAX) return { ok: false, code: 'ESCALATION_LIMIT_EXCEEDED', message: `a payment can have at most ${ESCALATIONS_PER_PAYMENT_MAX} escalations` };
  if (sameType.some((dispute) => isOngoing(dispute.state))) return { ok: false, code: 'DISPUTE_ONGOING', message: 'an escalation of this payment is still ongoing' };
  const disputable = disputableMinor(payment, disputes);
  const amountMinor = input.amountMinor ?? disputable;
  if (amountMinor <= 0 || amountMinor > disputable) {
    return { ok: false, code: 'DISPUTE_AMOUNT_EXCEED', message: `escalation amount ${amountMinor} exceeds the disputable amount ${disputable} (paid − refunded − escalated)` };
  }
  return { ok: true, amountMinor };
}

/** The response deadline `dueInDays` (fractional, or ≤ 0 for past-due tests) after `nowMs`. */
export function responseDeadline(type: DisputeType, nowMs: number, dueInDays?: number): number {
  return nowMs + Math.round((dueInDays ?? RESPONSE_DAYS_DEFAULT[type]) * DAY_MS);
}

export function isPastDeadline(responseDeadlineMs: number, nowMs: number): boolean {
  return nowMs > responseDeadlineMs;
}

/** The state an accepted response leads to: conceding the whole escalation ends it as ACCEPTED. */
export function stateAfterResponse(refundType: 'ACCEPT_REFUND' | 'ACCEPT_PARTIAL_REFUND' | 'REFUSE_REFUND' | null): 'RESPONDED' | 'ACCEPTED' {
  return refundType === 'ACCEPT_REFUND' ? 'ACCEPTED' : 'RESPONDED';
}

export type JudgeOutcome = 'won' | 'lost' | 'closed';
export type Judgement = { state: 'CLOSED'; result: 'CLOSED' } | { state: 'WON'; result: 'MERCHANT_WON' } | { state: 'LOST'; result: 'MERCHANT_LOST' };

/**
 * What judging does: an ongoing escalation is won or lost, an ongoing retrieval is closed.
 * Anything else (a finished dispute, an outcome of the other type) is null: not judgeable.
 */
export function judgement(type: DisputeType, state: DisputeState, outcome: JudgeOutcome): Judgement | null {
  if (!isOngoing(state)) return null;
  switch (outcome) {
    case 'closed':
      return type === 'RETRIEVAL' ? { state: 'CLOSED', result: 'CLOSED' } : null;
    case 'won':
      return type === 'ESCALATION' ? { state: 'WON', result: 'MERCHANT_WON' } : null;
    case 'lost':
      return type === 'ESCALATION' ? { state: 'LOST', result: 'MERCHANT_LOST' } : null;
  }
}
