import {
  amount,
  formatDateTime,
  result,
  type InitiateEscalationRequest,
  type InitiateRetrievalRequest,
  type NotifyDisputeResultRequest,
  type ResponseEscalationRequest,
  type ResponseRetrievalRequest,
  type Result,
} from '../../alipayplus/index.js';
import { decideOpen, isPastDeadline, judgement, REASON_CODE_DEFAULT, responseDeadline, stateAfterResponse, type DisputeFacts, type DisputeType, type JudgeOutcome, type OpenRefusalCode } from '../domain/dispute-rules.js';
import type { DisputeResponseApi, DisputeRow } from '../store/disputes.js';
import type { NotificationRow, OutboundApi } from '../store/notifications.js';
import type { PaymentRow } from '../store/payments.js';
import type { SandboxContext } from './context.js';
import { newDisputeId, newDisputeRequestId } from './ids.js';

/**
 * What happens to a dispute on the Alipay+ side: opened (with the network's limits) and sent to the
 * acquirer, answered by the acquirer's responseRetrieval / responseEscalation, judged and notified.
 * Each state change is one transaction with the outbox row that tells the acquirer about it; the
 * send itself happens after the commit (ctx.deliverNow), never inside a transaction.
 */

type InitiateApi = 'initiateRetrieval' | 'initiateEscalation';
const INITIATE_API: Record<DisputeType, InitiateApi> = { RETRIEVAL: 'initiateRetrieval', ESCALATION: 'initiateEscalation' };
const RESPONSE_API: Record<DisputeType, DisputeResponseApi> = { RETRIEVAL: 'responseRetrieval', ESCALATION: 'responseEscalation' };

export type DisputeError =
  | { ok: false; status: 404; code: 'PAYMENT_NOT_FOUND' | 'DISPUTE_NOT_FOUND'; message: string }
  | { ok: false; status: 409; code: OpenRefusalCode | 'PAYMENT_NOT_NOTIFIABLE' | 'DISPUTE_NOT_JUDGEABLE' | 'DISPUTE_NOT_ACKNOWLEDGED'; message: string };

/** The dispute after the change, and the outbox row to send now (null when nothing is sent). */
export type DisputeChange = { ok: true; dispute: DisputeRow; notificationId: number | null } | DisputeError;

/** OPEN disputes past their response deadline become EXPIRED; called before every read, so states are exact to the clock. */
export function expireDueDisputes(ctx: SandboxContext): void {
  ctx.disputes.expireDue(ctx.clock.now());
}

export function disputeFacts(rows: readonly DisputeRow[]): DisputeFacts[] {
  return rows.map((row) => ({ type: row.type, state: row.state, amountMinor: row.amount_minor }));
}

export interface OpenDisputeInput {
  paymentId: string;
  type: DisputeType;
  amountMinor?: number;
  reasonCode?: string;
  reasonMessage?: string;
  dueInDays?: number;
  disputeRequestId?: string;
}

/** Opens a retrieval or an escalation within the limits, and queues its initiate call. */
export function openDispute(ctx: SandboxContext, input: OpenDisputeInput): DisputeChange {
  return ctx.db.transaction((): DisputeChange => {
    expireDueDisputes(ctx);
    const now = ctx.clock.now();
    const payment = ctx.payments.findByPaymentId(input.paymentId);
    if (!payment) return { ok: false, status: 404, code: 'PAYMENT_NOT_FOUND', message: `no payment ${input.paymentId}` };
    const decision = decideOpen({
      payment: { status: payment.status, paidAt: payment.paid_at, amountMinor: payment.amount_minor, refundedMinor: payment.refunded_minor },
      disputes: disputeFacts(ctx.disputes.listByPaymentId(payment.payment_id)),
      type: input.type,
      amountMinor: input.amountMinor,
      nowMs: now,
    });
    if (!decision.ok) return { ok: false, status: 409, code: decision.code, message: decision.message };
    if (!payment.notify_url) {
      return { ok: false, status: 409, code: 'PAYMENT_NOT_NOTIFIABLE', message: 'the payment has no paymentNotifyUrl, so there is nowhere to send the dispute' };
    }
    const disputeId = newDisputeId(now);
    ctx.disputes.insert({
      dispute_id: disputeId,
      dispute_request_id: input.disputeRequestId ?? newDisputeRequestId(now),
      payment_id: payment.payment_id,
      client_id: payment.client_id,
      payment_request_id: payment.payment_request_id,
      type: input.type,
      amount_minor: decision.amountMinor,
      currency: payment.currency,
      reason_code: input.reasonCode ?? REASON_CODE_DEFAULT[input.type],
      reason_message: input.reasonMessage ?? null,
      occurred_at: now,
      response_deadline: responseDeadline(input.type, now, input.dueInDays),
      created_at: now,
    });
    const dispute = ctx.disputes.findById(disputeId) as DisputeRow;
    const notificationId = enqueueCall(ctx, INITIATE_API[dispute.type], dispute, payment, initiateBody(dispute), now);
    return { ok: true, dispute, notificationId };
  })();
}

/** Sends the initiate call again with the same disputeRequestId (and, to test the acquirer, perhaps another paymentRequestId). */
export function resendDispute(ctx: SandboxContext, disputeId: string, paymentRequestId?: string): DisputeChange {
  return ctx.db.transaction((): DisputeChange => {
    expireDueDisputes(ctx);
    const dispute = ctx.disputes.findById(disputeId);
    if (!dispute) return { ok: false, status: 404, code: 'DISPUTE_NOT_FOUND', message: `no dispute ${disputeId}` };
    const payment = ctx.payments.findByPaymentId(dispute.payment_id) as PaymentRow;
    const body = { ...initiateBody(dispute), ...(paymentRequestId === undefined ? {} : { paymentRequestId }) };
    const notificationId = enqueueCall(ctx, INITIATE_API[dispute.type], dispute, payment, body, ctx.clock.now());
    return { ok: true, dispute, notificationId };
  })();
}

/** Decides an ongoing dispute and queues notifyDisputeResult, in one transaction. */
export function judgeDispute(ctx: SandboxContext, disputeId: string, outcome: JudgeOutcome): DisputeChange {
  return ctx.db.transaction((): DisputeChange => {
    expireDueDisputes(ctx);
    const now = ctx.clock.now();
    const dispute = ctx.disputes.findById(disputeId);
    if (!dispute) return { ok: false, status: 404, code: 'DISPUTE_NOT_FOUND', message: `no dispute ${disputeId}` };
    // The network never decides a case the acquirer has not been told about: a result that
    // overtook its initiate call would be refused as unknown and the two sides would part ways.
    if (!initiateAcknowledged(ctx, disputeId)) {
      return { ok: false, status: 409, code: 'DISPUTE_NOT_ACKNOWLEDGED', message: `the acquirer has not acknowledged the initiate call of ${disputeId} yet; judge it once it has` };
    }
    const decided = judgement(dispute.type, dispute.state, outcome);
    if (!decided || !ctx.disputes.judge(disputeId, decided.state, decided.result, now)) {
      return { ok: false, status: 409, code: 'DISPUTE_NOT_JUDGEABLE', message: `a ${dispute.type} in state ${dispute.state} cannot be judged ${outcome}` };
    }
    const judged = ctx.disputes.findById(disputeId) as DisputeRow;
    const payment = ctx.payments.findByPaymentId(judged.payment_id) as PaymentRow;
    const notificationId = enqueueCall(ctx, 'notifyDisputeResult', judged, payment, resultBody(judged), now);
    return { ok: true, dispute: judged, notificationId };
  })();
}

function initiateAcknowledged(ctx: SandboxContext, disputeId: string): boolean {
  return ctx.notifications.listByDisputeId(disputeId).some((row) => row.api !== 'notifyDisputeResult' && row.status === 'acknowledged');
}

function enqueueCall(ctx: SandboxContext, api: Exclude<OutboundApi, 'notifyPayment'>, dispute: DisputeRow, payment: PaymentRow, body: object, now: number): number {
  return ctx.notifications.enqueueDisputeCall(api, dispute.dispute_id, payment.payment_id, payment.client_id, disputeCallUrl(payment.notify_url as string, api), JSON.stringify(body), now);
}

/**
 * Where a dispute call goes: `disputes/<api>` resolved against the payment's paymentNotifyUrl
 * (alipayplus wire.ts, INBOUND_DISPUTE_APIS), e.g. `/alipayplus/test/notify` →
 * `/alipayplus/test/disputes/initiateRetrieval`.
 */
export function disputeCallUrl(paymentNotifyUrl: string, api: Exclude<OutboundApi, 'notifyPayment'>): string {
  return new URL(`disputes/${api}`, paymentNotifyUrl).toString();
}

export function initiateBody(dispute: DisputeRow): InitiateRetrievalRequest | InitiateEscalationRequest {
  const common = { disputeRequestId: dispute.dispute_request_id, paymentRequestId: dispute.payment_request_id, paymentId: dispute.payment_id, disputeOccurTime: formatDateTime(dispute.occurred_at) };
  const deadline = formatDateTime(dispute.response_deadline);
  if (dispute.type === 'RETRIEVAL') {
    const body: InitiateRetrievalRequest = { ...common, retrievalReasonCode: dispute.reason_code, responseDeadline: deadline };
    if (dispute.reason_message !== null) body.retrievalReasonMessage = dispute.reason_message;
    return body;
  }
  const body: InitiateEscalationRequest = {
    ...common,
    escalationAmount: amount(dispute.currency, dispute.amount_minor as number),
    escalationReasonCode: dispute.reason_code,
    responseDeadline: deadline,
  };
  if (dispute.reason_message !== null) body.escalationReasonMessage = dispute.reason_message;
  return body;
}

function resultBody(dispute: DisputeRow): NotifyDisputeResultRequest {
  const body: NotifyDisputeResultRequest = {
    disputeRequestId: dispute.dispute_request_id,
    paymentRequestId: dispute.payment_request_id,
    paymentId: dispute.payment_id,
    disputeType: dispute.type,
    disputeResult: dispute.result as NotifyDisputeResultRequest['disputeResult'],
    resultTime: formatDateTime(dispute.judged_at as number),
  };
  if (dispute.amount_minor !== null) body.disputeAmount = amount(dispute.currency, dispute.amount_minor);
  return body;
}

/**
 * The acquirer refused a dispute call with a verified F (inside the notifier's recording
 * transaction). An initiate call refused before the acquirer ever accepted this dispute means it
 * never took hold: the dispute becomes REJECTED and stops counting toward limits and amounts. A
 * refused resend (say, with another paymentRequestId) of a dispute the acquirer holds changes nothing.
 */
export function applyDisputeCallRefusal(ctx: SandboxContext, row: NotificationRow, resultCode: string, nowMs: number): void {
  if ((row.api !== 'initiateRetrieval' && row.api !== 'initiateEscalation') || row.dispute_id === null) return;
  const dispute = ctx.disputes.findById(row.dispute_id);
  if (!dispute || (JSON.parse(row.body) as { paymentRequestId?: unknown }).paymentRequestId !== dispute.payment_request_id) return;
  const everAccepted = ctx.notifications.listDisputeSends(dispute.dispute_id).some((send) => send.api === row.api && send.ack_status === 'S');
  if (!everAccepted) ctx.disputes.reject(dispute.dispute_id, resultCode, nowMs);
}

/**
 * The acquirer's answer to a retrieval or an escalation (responseRetrieval / responseEscalation).
 * The disputeRequestId finds the dispute; the paymentRequestId must be its payment's. An answer
 * already recorded makes the same body idempotent (S again) and any other one inconsistent.
 */
export function respondToDispute(ctx: SandboxContext, clientId: string, api: DisputeResponseApi, request: ResponseRetrievalRequest | ResponseEscalationRequest): { result: Result } {
  return ctx.db.transaction((): { result: Result } => {
    expireDueDisputes(ctx);
    const now = ctx.clock.now();
    const candidates = ctx.disputes.listByRequestId(request.disputeRequestId).filter((dispute) => dispute.client_id === clientId);
    if (candidates.length === 0) return { result: result('ORDER_NOT_EXIST', `no dispute with disputeRequestId ${request.disputeRequestId}`) };
    // A reused disputeRequestId (a test provoking REPEAT_REQ_INCONSISTENT) may name several: the one the acquirer holds.
    const matching = candidates.filter((dispute) => dispute.payment_request_id === request.paymentRequestId);
    const dispute = matching.find((candidate) => candidate.state !== 'REJECTED') ?? matching[0];
    if (!dispute) return { result: result('REPEAT_REQ_INCONSISTENT', `disputeRequestId ${request.disputeRequestId} belongs to another paymentRequestId`) };
    if (RESPONSE_API[dispute.type] !== api) {
      return { result: result('PARAM_ILLEGAL', `disputeRequestId ${request.disputeRequestId} is a ${dispute.type.toLowerCase()}: answer it with ${RESPONSE_API[dispute.type]}`) };
    }
    const body = canonicalJson(request);
    if (dispute.response_body !== null) {
      if (dispute.response_body === body) return { result: result('SUCCESS') };
      return { result: result('REPEAT_REQ_INCONSISTENT', 'this dispute was already answered with another response') };
    }
    if (dispute.state === 'EXPIRED' || (dispute.state === 'OPEN' && isPastDeadline(dispute.response_deadline, now))) {
      return { result: result('RESPONSE_WINDOW_EXCEED', `the response deadline ${formatDateTime(dispute.response_deadline)} has passed`) };
    }
    if (dispute.state !== 'OPEN') return { result: result('REPEAT_REQ_INCONSISTENT', `the dispute is ${dispute.state} and takes no response`) };
    const invalid = api === 'responseEscalation' ? refundProblem(dispute, request as ResponseEscalationRequest) : null;
    if (invalid) return { result: result('PARAM_ILLEGAL', invalid) };
    const refundType = api === 'responseEscalation' ? (request as ResponseEscalationRequest).refundType : null;
    ctx.disputes.recordResponse(dispute.dispute_id, stateAfterResponse(refundType), api, body, now);
    return { result: result('SUCCESS') };
  })();
}

/** ACCEPT_PARTIAL_REFUND names a refund within the escalation; ACCEPT_REFUND concedes exactly all of it. */
function refundProblem(dispute: DisputeRow, request: ResponseEscalationRequest): string | null {
  const refund = request.refundAmount;
  const escalated = dispute.amount_minor as number;
  if (request.refundType === 'REFUSE_REFUND') return refund === undefined ? null : 'refundAmount applies only to ACCEPT_REFUND and ACCEPT_PARTIAL_REFUND';
  if (refund === undefined) return request.refundType === 'ACCEPT_PARTIAL_REFUND' ? 'refundAmount is required for ACCEPT_PARTIAL_REFUND' : null;
  if (refund.currency !== dispute.currency) return `refundAmount.currency must be the escalation's currency ${dispute.currency}`;
  const value = Number(refund.value);
  if (request.refundType === 'ACCEPT_REFUND' && value !== escalated) return `refundAmount of ACCEPT_REFUND must be the escalation amount ${escalated}`;
  if (value < 1 || value > escalated) return `refundAmount ${refund.value} must be between 1 and the escalation amount ${escalated}`;
  return null;
}

/** JSON with keys sorted at every level: two bodies with the same content compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item) ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : item,
  );
}
