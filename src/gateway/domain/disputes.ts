/**
 * Pure dispute rules (api.md §7a, alipayplus.md §7): the Dispute status machine, Stripe's reason
 * for an Alipay+ reason code, the evidence fields, what a charge can still lose, and whether a
 * merchant may still answer. No I/O: the services load rows, ask here, and persist.
 *
 * Alipay+ raises two kinds of dispute on a paid payment. A retrieval asks for information (no
 * money moves); its statuses are Stripe's inquiry ones (`warning_*`). An escalation is
 * chargeback-like: its amount is withdrawn from the merchant's balance until the case is won.
 */

export const DISPUTE_STATUSES = [
  'warning_needs_response',
  'warning_under_review',
  'warning_closed',
  'needs_response',
  'under_review',
  'won',
  'lost',
] as const;
export type DisputeStatus = (typeof DISPUTE_STATUSES)[number];

export type DisputeKind = 'retrieval' | 'escalation';

/** The result Alipay+ notifies (notifyDisputeResult), read into the gateway's words. */
export type DisputeResult = 'closed' | 'won' | 'lost';

export type DisputeInput =
  /** The merchant's response was stored to be sent (POST /v1/disputes/:id with submit). */
  | { kind: 'submit' }
  /** The merchant accepts (POST /v1/disputes/:id/close). */
  | { kind: 'close' }
  /** `due_by` passed with no response submitted (the worker). */
  | { kind: 'past_due' }
  /** Alipay+ answered the submitted response `F`: the merchant may correct it and submit again. */
  | { kind: 'response_refused' }
  /** Alipay+ decided the case. */
  | { kind: 'result'; result: DisputeResult };

export type DisputeEventType = 'charge.dispute.updated' | 'charge.dispute.closed' | 'charge.dispute.funds_reinstated';

export type DisputeMove =
  | { ok: true; from: DisputeStatus; to: DisputeStatus; events: DisputeEventType[] }
  | { ok: false; from: DisputeStatus; message: string };

/** The status a dispute opens in. */
export function openingStatus(kind: DisputeKind): DisputeStatus {
  return kind === 'retrieval' ? 'warning_needs_response' : 'needs_response';
}

/** Which kind of dispute a status belongs to (the two machines share no status). */
export function kindOfStatus(status: DisputeStatus): DisputeKind {
  switch (status) {
    case 'warning_needs_response':
    case 'warning_under_review':
    case 'warning_closed':
      return 'retrieval';
    case 'needs_response':
    case 'under_review':
    case 'won':
    case 'lost':
      return 'escalation';
  }
}

export function isFinalDisputeStatus(status: DisputeStatus): boolean {
  switch (status) {
    case 'warning_closed':
    case 'won':
    case 'lost':
      return true;
    case 'warning_needs_response':
    case 'warning_under_review':
    case 'needs_response':
    case 'under_review':
      return false;
  }
}

/** An escalation in these statuses blocks refunds of its charge (`charge_disputed`). */
export const OPEN_ESCALATION_STATUSES: readonly DisputeStatus[] = ['needs_response', 'under_review'];
/** The merchant may answer (submit evidence, or close) only in these. */
export const NEEDS_RESPONSE_STATUSES: readonly DisputeStatus[] = ['warning_needs_response', 'needs_response'];
/** A dispute whose response is stored but not yet accepted may be in these (the worker's re-send). */
export const RESPONDING_STATUSES: readonly DisputeStatus[] = ['warning_under_review', 'under_review', 'warning_closed', 'won', 'lost'];

/**
 * Decides a dispute's move (diagram in README.md). The store applies it as a compare-and-set on
 * `from`. Final statuses refuse everything: a late or repeated input changes nothing.
 */
export function transitionDispute(from: DisputeStatus, input: DisputeInput): DisputeMove {
  const refuse = (why: string): DisputeMove => ({ ok: false, from, message: why });
  const to = (status: DisputeStatus, ...events: DisputeEventType[]): DisputeMove => ({ ok: true, from, to: status, events });
  const closed = (status: DisputeStatus): DisputeMove => to(status, 'charge.dispute.closed');
  // Alipay+'s decision of an open escalation, whether or not the merchant answered it.
  const decided = (result: DisputeResult): DisputeMove => {
    switch (result) {
      case 'won':
        return to('won', 'charge.dispute.closed', 'charge.dispute.funds_reinstated');
      case 'lost':
        return closed('lost');
      case 'closed':
        return refuse('an escalation is won or lost, not closed');
    }
  };
  switch (from) {
    case 'warning_needs_response':
      switch (input.kind) {
        case 'submit':
          return to('warning_under_review', 'charge.dispute.updated');
        case 'close':
        case 'past_due':
          return closed('warning_closed');
        case 'response_refused':
          return refuse('no response of it is under review');
        case 'result':
          return input.result === 'closed' ? closed('warning_closed') : refuse(`a retrieval cannot be ${input.result}`);
      }
      break;
    case 'warning_under_review':
      switch (input.kind) {
        case 'submit':
        case 'close':
        case 'past_due':
          return refuse('its response is under review');
        case 'response_refused':
          return to('warning_needs_response', 'charge.dispute.updated');
        case 'result':
          return input.result === 'closed' ? closed('warning_closed') : refuse(`a retrieval cannot be ${input.result}`);
      }
      break;
    case 'needs_response':
      switch (input.kind) {
        case 'submit':
          return to('under_review', 'charge.dispute.updated');
        case 'close':
        case 'past_due':
          return closed('lost');
        case 'response_refused':
          return refuse('no response of it is under review');
        case 'result':
          return decided(input.result);
      }
      break;
    case 'under_review':
      switch (input.kind) {
        case 'submit':
        case 'close':
        case 'past_due':
          return refuse('its response is under review');
        case 'response_refused':
          return to('needs_response', 'charge.dispute.updated');
        case 'result':
          return decided(input.result);
      }
      break;
    case 'lost':
      // Alipay+ decides where the money goes. An escalation the gateway closed by presumption
      // (past due, or a close whose acceptance Alipay+ refused because it had already judged the
      // case) and that Alipay+ then reports won is won after all; it was already announced closed.
      if (input.kind === 'result' && input.result === 'won') return to('won', 'charge.dispute.updated', 'charge.dispute.funds_reinstated');
      return refuse(`it has a status of ${from}`);
    case 'warning_closed':
    case 'won':
      return refuse(`it has a status of ${from}`);
  }
}

/**
 * Stripe's dispute reason for an Alipay+ reason code (disputes-design.md); the original is kept
 * as `network_reason_code`. Codes we do not know map to `general`.
 */
export function stripeReasonOf(reasonCode: string): string {
  switch (reasonCode) {
    case 'FRAUD':
    case 'UNAUTHORIZED_TRANSACTION':
      return 'fraudulent';
    case 'GOODS_NOT_RECEIVED':
      return 'product_not_received';
    case 'GOODS_NOT_AS_DESCRIBED':
      return 'product_unacceptable';
    case 'DUPLICATE_TRANSACTION':
      return 'duplicate';
    case 'REFUND_NOT_PROCESSED':
      return 'credit_not_processed';
    case 'UNRECOGNIZED_TRANSACTION':
      return 'unrecognized';
    default:
      return 'general';
  }
}

/** Stripe's evidence fields (its `dispute_evidence` schema), all text here (file fields included). */
export const EVIDENCE_FIELDS = [
  'access_activity_log',
  'billing_address',
  'cancellation_policy',
  'cancellation_policy_disclosure',
  'cancellation_rebuttal',
  'customer_communication',
  'customer_email_address',
  'customer_name',
  'customer_purchase_ip',
  'customer_signature',
  'duplicate_charge_documentation',
  'duplicate_charge_explanation',
  'duplicate_charge_id',
  'product_description',
  'receipt',
  'refund_policy',
  'refund_policy_disclosure',
  'refund_refusal_explanation',
  'service_date',
  'service_documentation',
  'shipping_address',
  'shipping_carrier',
  'shipping_date',
  'shipping_documentation',
  'shipping_tracking_number',
  'uncategorized_file',
  'uncategorized_text',
] as const;
export type EvidenceField = (typeof EVIDENCE_FIELDS)[number];
export type Evidence = Record<EvidenceField, string | null>;

/** Stripe's limit on the combined length of the text evidence fields. */
export const EVIDENCE_TEXT_MAX = 150_000;

export function emptyEvidence(): Evidence {
  return Object.fromEntries(EVIDENCE_FIELDS.map((field) => [field, null])) as Evidence;
}

/** Stripe's update rule: a given field replaces the stored one, `null` ("") unsets it, others stay. */
export function mergeEvidence(stored: Evidence, update: Partial<Record<EvidenceField, string | null>>): Evidence {
  const merged = { ...stored };
  for (const field of EVIDENCE_FIELDS) {
    if (Object.hasOwn(update, field) && update[field] !== undefined) merged[field] = update[field] === '' ? null : (update[field] ?? null);
  }
  return merged;
}

export function evidenceLength(evidence: Evidence): number {
  return EVIDENCE_FIELDS.reduce((sum, field) => sum + (evidence[field]?.length ?? 0), 0);
}

export function hasEvidence(evidence: Evidence): boolean {
  return EVIDENCE_FIELDS.some((field) => (evidence[field] ?? '') !== '');
}

export interface DisputableCharge {
  /** Smallest currency unit. */
  amountCapturedMinor: number;
  /** Pending plus succeeded refunds. */
  amountRefundReservedMinor: number;
  /** Σ escalations not won. */
  amountDisputeReservedMinor: number;
}

/**
 * What a charge can still lose: paid − (pending + succeeded refunds) − escalations not won. Both
 * a new refund and a new escalation must fit in it, so together they never exceed the payment.
 */
export function disputableMinor(charge: DisputableCharge): number {
  return Math.max(0, charge.amountCapturedMinor - charge.amountRefundReservedMinor - charge.amountDisputeReservedMinor);
}

export type UpdatableDecision = { ok: true } | { ok: false; message: string };

/**
 * Whether the merchant may still answer (submit evidence, stage it, or close): only while a
 * response is needed and before `due_by`. Metadata-only updates skip this check.
 */
export function canRespond(id: string, status: DisputeStatus, dueByMs: number | null, nowMs: number): UpdatableDecision {
  if (!NEEDS_RESPONSE_STATUSES.includes(status)) {
    const why = isFinalDisputeStatus(status) ? `it is closed (status ${status})` : `its response is under review (status ${status})`;
    return { ok: false, message: `Dispute ${id} can no longer be updated: ${why}.` };
  }
  if (dueByMs !== null && nowMs > dueByMs) {
    return { ok: false, message: `Dispute ${id} can no longer be updated: it is past due (the response was due by ${new Date(dueByMs).toISOString()}).` };
  }
  return { ok: true };
}
