import { AlipayPlusError, amount, parseDateTime } from '../../../alipayplus/index.js';
import type { DisputeDocument, Result, ResponseEscalationRequest, ResponseRetrievalRequest } from '../../../alipayplus/index.js';
import type {
  ConnectorDisputeDecided,
  ConnectorDisputeOpened,
  ConnectorDisputeResponseOutcome,
  ConnectorDisputeResponseRequest,
  ConnectorStoredDisputeResponse,
  DisputeCallName,
  DisputeDisposition,
} from '../types.js';

/**
 * Pure mappings between the gateway's disputes and the Alipay+ dispute calls (alipayplus.md §7,
 * wire types in src/alipayplus/wire.ts). No I/O: tested directly.
 */

const MINOR_UNITS = /^(0|[1-9]\d{0,15})$/;
const ID_MAX = 64;

export type ParsedDisputeCall = { ok: true; call: Omit<ConnectorDisputeOpened, 'livemode'> | Omit<ConnectorDisputeDecided, 'livemode'> } | { ok: false; reason: string };

function text(body: Record<string, unknown>, field: string, options: { required: boolean; max?: number }): string | null | { error: string } {
  const value = body[field];
  if (value === undefined || value === null) return options.required ? { error: `${field} is required` } : null;
  if (typeof value !== 'string' || (options.required && value.length === 0)) return { error: `${field} must be a non-empty string` };
  if (options.max !== undefined && value.length > options.max) return { error: `${field} must be at most ${options.max} characters` };
  return value;
}

function readAmount(raw: unknown, field: string): { currency: string; amountMinor: number } | { error: string } {
  const value = raw as { currency?: unknown; value?: unknown } | undefined;
  if (typeof value !== 'object' || value === null || typeof value.currency !== 'string' || typeof value.value !== 'string' || !MINOR_UNITS.test(value.value)) {
    return { error: `${field} must be an Amount with a natural-number value` };
  }
  const amountMinor = Number(value.value);
  if (!Number.isSafeInteger(amountMinor) || amountMinor < 1) return { error: `${field} must be at least 1 minor unit` };
  return { currency: value.currency.toUpperCase(), amountMinor };
}

const isError = (value: unknown): value is { error: string } => typeof value === 'object' && value !== null && 'error' in value;

/**
 * Reads a verified dispute call's body into the connector's report, or says why it is malformed
 * (answered `F / PARAM_ILLEGAL`). Which call it is comes from the path it was posted to.
 */
export function parseDisputeCallBody(call: DisputeCallName, body: Record<string, unknown>): ParsedDisputeCall {
  const disputeRequestId = text(body, 'disputeRequestId', { required: true, max: ID_MAX });
  const paymentRequestId = text(body, 'paymentRequestId', { required: true, max: ID_MAX });
  const paymentId = text(body, 'paymentId', { required: true, max: ID_MAX });
  for (const value of [disputeRequestId, paymentRequestId, paymentId]) if (isError(value)) return { ok: false, reason: value.error };
  const ids = { disputeRequestId: disputeRequestId as string, paymentRequestId: paymentRequestId as string, externalPaymentId: paymentId as string };

  if (call === 'notifyDisputeResult') {
    const type = body.disputeType === 'RETRIEVAL' ? 'retrieval' : body.disputeType === 'ESCALATION' ? 'escalation' : null;
    if (type === null) return { ok: false, reason: 'disputeType must be RETRIEVAL or ESCALATION' };
    const result = body.disputeResult === 'CLOSED' ? 'closed' : body.disputeResult === 'MERCHANT_WON' ? 'won' : body.disputeResult === 'MERCHANT_LOST' ? 'lost' : null;
    if (result === null) return { ok: false, reason: 'disputeResult must be CLOSED, MERCHANT_WON or MERCHANT_LOST' };
    return { ok: true, call: { kind: 'decided', type, ...ids, result } };
  }

  const escalation = call === 'initiateEscalation';
  const reasonCode = text(body, escalation ? 'escalationReasonCode' : 'retrievalReasonCode', { required: true, max: 64 });
  if (isError(reasonCode)) return { ok: false, reason: reasonCode.error };
  const reasonMessage = text(body, escalation ? 'escalationReasonMessage' : 'retrievalReasonMessage', { required: false, max: 1024 });
  if (isError(reasonMessage)) return { ok: false, reason: reasonMessage.error };
  const dueByMs = parseDateTime(body.responseDeadline);
  if (dueByMs === null) return { ok: false, reason: 'responseDeadline must be an ISO 8601 datetime with an offset' };
  const occurredAtMs = body.disputeOccurTime === undefined ? null : parseDateTime(body.disputeOccurTime);
  if (body.disputeOccurTime !== undefined && occurredAtMs === null) return { ok: false, reason: 'disputeOccurTime must be an ISO 8601 datetime with an offset' };
  let disputed: { currency: string; amountMinor: number } | null = null;
  if (escalation) {
    const read = readAmount(body.escalationAmount, 'escalationAmount');
    if (isError(read)) return { ok: false, reason: read.error };
    disputed = read;
  }
  return {
    ok: true,
    call: { kind: 'opened', type: escalation ? 'escalation' : 'retrieval', ...ids, amount: disputed, reasonCode: reasonCode as string, reasonMessage, occurredAtMs, dueByMs },
  };
}

/** The result the gateway answers a dispute call with (alipayplus.md §7; DISPUTE_AMOUNT_EXCEED is our choice). */
export function dispositionResult(disposition: DisputeDisposition): Result {
  if (disposition.ack) return { resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' };
  const code = { unknown_payment: 'ORDER_NOT_EXIST', invalid: 'PARAM_ILLEGAL', repeat_inconsistent: 'REPEAT_REQ_INCONSISTENT', amount_exceeded: 'DISPUTE_AMOUNT_EXCEED' }[disposition.why];
  return { resultCode: code, resultStatus: 'F', resultMessage: disposition.note };
}

/** Evidence field `product_description` → document type `PRODUCT_DESCRIPTION`. */
export function documentsOf(evidence: ConnectorDisputeResponseRequest['evidence']): DisputeDocument[] {
  return evidence.filter((item) => item.text.length > 0).map((item) => ({ documentType: item.field.toUpperCase(), documentContent: item.text }));
}

/**
 * The wire body of the merchant's response. Retrieval: `0001` (all information) when any evidence
 * is given, else `0003` (none); escalation: REFUSE_REFUND with the documents, or ACCEPT_REFUND of
 * the whole escalated amount.
 */
export function toDisputeResponse(request: ConnectorDisputeResponseRequest): ConnectorStoredDisputeResponse {
  const documents = documentsOf(request.evidence);
  if (request.type === 'retrieval') {
    const body: ResponseRetrievalRequest = {
      disputeRequestId: request.disputeRequestId,
      paymentRequestId: request.paymentRequestId,
      responseCode: documents.length > 0 ? '0001' : '0003',
      ...(documents.length > 0 ? { otherDocumentation: documents } : {}),
    };
    return { type: 'retrieval', body: JSON.stringify(body) };
  }
  const body: ResponseEscalationRequest =
    request.action === 'accept'
      ? { disputeRequestId: request.disputeRequestId, paymentRequestId: request.paymentRequestId, refundType: 'ACCEPT_REFUND', refundAmount: amount(request.amount.currency, request.amount.amountMinor) }
      : { disputeRequestId: request.disputeRequestId, paymentRequestId: request.paymentRequestId, refundType: 'REFUSE_REFUND', ...(documents.length > 0 ? { defenseDocumentation: documents } : {}) };
  return { type: 'escalation', body: JSON.stringify(body) };
}

/** `F` is final (the response is refused); anything else leaves it unknown, re-sent with the same body. */
export function fromDisputeResponseError(error: unknown): ConnectorDisputeResponseOutcome {
  if (error instanceof AlipayPlusError && error.kind === 'F') {
    return { kind: 'refused', code: error.resultCode, message: error.response?.result.resultMessage ?? error.message };
  }
  return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
}
