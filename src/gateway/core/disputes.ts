import type { ConnectorDisputeResponseOutcome, ConnectorStoredDisputeResponse, DisputeConnector } from '../connector/types.js';
import { ApiError, invalidRequest, resourceMissing } from '../errors.js';
import { EVIDENCE_FIELDS, EVIDENCE_TEXT_MAX, RESPONDING_STATUSES, canRespond, evidenceLength, mergeEvidence, transitionDispute } from '../domain/disputes.js';
import type { EvidenceField } from '../domain/disputes.js';
import type { Metadata } from '../domain/metadata.js';
import { REFUND_SENDING_CHECK_DELAY_MS, nextRetryAt } from '../domain/schedule.js';
import { inTransaction } from '../store/database.js';
import { findDisputeByAccountAndId, findDisputeById, findPastDueDisputes, listDisputesByAccount, moveDispute, recordResponseAnswer, scheduleResponseResend } from '../store/disputes.js';
import type { DisputeFields } from '../store/disputes.js';
import { releaseLease, takeLease } from '../store/leases.js';
import type { DisputeRow, Executor } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps, RequestContext } from './context.js';
import { ConcurrentUpdate } from './context.js';
import { moveDisputeWithEffects, networkContext, previousAttributes } from './dispute_moves.js';
import type { EventContext } from './dispute_moves.js';
import { evidenceOf, loadDisputeView, loadDisputeViews } from './dispute_views.js';
import { recordEvent } from './events.js';
import { claimInTransaction, completeIdempotentRequest } from './idempotency.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import { applyMetadata, withCasRetries } from './payment_intent_rules.js';
import type { ApiObject } from './views.js';

/**
 * The merchant side of disputes (api.md §7a): retrieve, list, update with evidence and metadata,
 * submit, close. A response to Alipay+ (submit, or closing an escalation) is written as its exact
 * wire body in the transaction that moves the status, committed, and only then sent outside any
 * transaction; an unknown outcome leaves it for the worker (workers/disputes.ts) or a retry with
 * the same Idempotency-Key (core/recovery.ts), which re-send the same body — the same
 * disputeRequestId — until Alipay+ answers.
 */

/** The request path is still sending a response this long after storing it; the worker waits that long first. */
export const DISPUTE_SENDING_CHECK_DELAY_MS = REFUND_SENDING_CHECK_DELAY_MS;
/** A retry re-sending a stored response holds the worker's lease this long. */
const RESEND_LEASE_MS = DISPUTE_SENDING_CHECK_DELAY_MS;
export const PAST_DUE_BATCH_MAX = 50;

export interface UpdateDisputeParams {
  evidence?: Partial<Record<EvidenceField, string | null>> | null;
  metadata?: Record<string, string | null> | null;
  submit?: boolean | null;
}

function disputeConnector(deps: CoreDeps): DisputeConnector {
  const connector = deps.connector;
  if (connector.buildDisputeResponse === undefined || connector.sendDisputeResponse === undefined) {
    throw new ApiError({ status: 500, type: 'api_error', message: 'This gateway has no connector that answers disputes.', shouldRetry: false });
  }
  return connector as DisputeConnector;
}

async function ownedDispute(ex: Executor, scope: Scope, id: string): Promise<DisputeRow> {
  const row = await findDisputeByAccountAndId(ex, scope, id);
  if (row === undefined) throw resourceMissing('dispute', id);
  return row;
}

function notUpdatable(row: DisputeRow, nowMs: number): void {
  const decision = canRespond(row.id, row.status, row.due_by, nowMs);
  if (!decision.ok) throw invalidRequest('dispute_not_updatable', decision.message);
}

/** The wire body of the merchant's response (the connector builds it), to store before it is sent. */
function responseFor(deps: CoreDeps, row: DisputeRow, action: 'defend' | 'accept', evidence: ReturnType<typeof evidenceOf>): ConnectorStoredDisputeResponse {
  return disputeConnector(deps).buildDisputeResponse({
    livemode: row.livemode === 1,
    type: row.kind,
    disputeRequestId: row.dispute_request_id,
    paymentRequestId: row.payment_request_id,
    action,
    evidence: EVIDENCE_FIELDS.flatMap((field) => (evidence[field] ? [{ field, text: evidence[field] }] : [])),
    amount: { currency: row.currency, amountMinor: row.amount },
  });
}

function outboxFields(response: ConnectorStoredDisputeResponse, nowMs: number): DisputeFields {
  return { response_api: response.type, response_body: response.body, response_state: 'sending', response_code: null, next_check_at: nowMs + DISPUTE_SENDING_CHECK_DELAY_MS, checks: 0 };
}

/**
 * `POST /v1/disputes/:id`: stages evidence and metadata, and submits. `submit` defaults to true
 * (Stripe) when evidence is given; an update of metadata alone never submits unless `submit: true`
 * says so. Evidence and submit need a dispute that still needs a response and is not past due
 * (`dispute_not_updatable`); metadata alone is always allowed.
 */
export async function updateDispute(deps: CoreDeps, ctx: RequestContext, id: string, params: UpdateDisputeParams): Promise<ApiObject> {
  const submit = params.submit ?? params.evidence != null;
  const staged = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      await claimInTransaction(tx, deps, ctx, submit ? { step: 'dispute_response', dispute: id } : undefined);
      const row = await ownedDispute(tx, ctx.scope, id);
      const now = deps.clock.now();
      const fields: DisputeFields = {};
      if (params.evidence != null || submit) notUpdatable(row, now);
      const evidence = params.evidence == null ? evidenceOf(row) : mergeEvidence(evidenceOf(row), params.evidence);
      if (evidenceLength(evidence) > EVIDENCE_TEXT_MAX) {
        throw invalidRequest('parameter_invalid', `The evidence fields together can be at most ${EVIDENCE_TEXT_MAX} characters long; these have ${evidenceLength(evidence)}.`, 'evidence');
      }
      if (params.evidence != null && JSON.stringify(evidence) !== row.evidence) fields.evidence = JSON.stringify(evidence);
      if (params.metadata != null) {
        const metadata = JSON.stringify(applyMetadata(JSON.parse(row.metadata) as Metadata, params.metadata));
        if (metadata !== row.metadata) fields.metadata = metadata;
      }
      if (submit) {
        const moved = await moveDisputeWithEffects(tx, deps, ctx, row, { kind: 'submit' }, { ...fields, ...outboxFields(responseFor(deps, row, 'defend', evidence), now) });
        return { row: moved.row, view: moved.view, send: true };
      }
      let current = row;
      if (Object.keys(fields).length > 0) {
        // A change within the status: compare-and-set on it, so a result or the worker moving it meanwhile retries this unit.
        const updated = await moveDispute(tx, row.id, { from: row.status, to: row.status }, now, fields);
        if (updated === null) throw new ConcurrentUpdate();
        current = updated;
        await recordEvent(tx, deps, ctx, 'charge.dispute.updated', await loadDisputeView(tx, current, now), previousAttributes(row, current));
      }
      const view = await loadDisputeView(tx, current, now);
      await completeIdempotentRequest(tx, ctx, 200, view);
      return { row: current, view, send: false };
    }),
  );
  if (!staged.send) return staged.view;
  return sendStoredResponse(deps, ctx, staged.row);
}

/**
 * `POST /v1/disputes/:id/close`: the merchant accepts. A retrieval just closes
 * (`warning_closed`, nothing is sent); an escalation becomes `lost` in the transaction that stores
 * its ACCEPT_REFUND response, which is then sent.
 */
export async function closeDispute(deps: CoreDeps, ctx: RequestContext, id: string): Promise<ApiObject> {
  const closed = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      const peek = await ownedDispute(tx, ctx.scope, id);
      const sends = peek.kind === 'escalation';
      await claimInTransaction(tx, deps, ctx, sends ? { step: 'dispute_response', dispute: id } : undefined);
      const row = await ownedDispute(tx, ctx.scope, id);
      notUpdatable(row, deps.clock.now());
      const fields = sends ? outboxFields(responseFor(deps, row, 'accept', evidenceOf(row)), deps.clock.now()) : {};
      const moved = await moveDisputeWithEffects(tx, deps, ctx, row, { kind: 'close' }, fields);
      if (!sends) await completeIdempotentRequest(tx, ctx, 200, moved.view);
      return { row: moved.row, view: moved.view, send: sends };
    }),
  );
  if (!closed.send) return closed.view;
  return sendStoredResponse(deps, ctx, closed.row);
}

/** The only network call of a dispute response; an exception is an unknown outcome, never a lost response. */
async function sendAtNetwork(deps: CoreDeps, row: DisputeRow): Promise<ConnectorDisputeResponseOutcome> {
  if (row.response_body === null || row.response_api === null) return { kind: 'unknown', reason: 'no stored response' };
  try {
    return await disputeConnector(deps).sendDisputeResponse(row.livemode === 1, { type: row.response_api, body: row.response_body });
  } catch (error) {
    deps.logger.warn({ err: error, dispute: row.id }, 'connector dispute response failed; left for the worker');
    return { kind: 'unknown', reason: error instanceof Error ? error.message : String(error) };
  }
}

/** Sends the stored response and records the answer; the merchant's answer is the dispute after it. */
export async function sendStoredResponse(deps: CoreDeps, ctx: RequestContext | null, row: DisputeRow): Promise<ApiObject> {
  return recordResponseOutcome(deps, ctx, row.id, await sendAtNetwork(deps, row));
}

/**
 * Records what Alipay+ answered to a stored response, in one transaction: `S` counts the
 * submission; `F` marks it refused, logs it, and moves a dispute under review back to needing a
 * response (`charge.dispute.updated`) so the merchant can correct and submit again — a closed
 * escalation stays lost (the merchant conceded); unknown schedules the worker's re-send.
 * Idempotent: an answer recorded before is left as it is. `ctx` null: the worker.
 */
export async function recordResponseOutcome(deps: CoreDeps, ctx: RequestContext | null, disputeId: string, outcome: ConnectorDisputeResponseOutcome): Promise<ApiObject> {
  let refused: DisputeRow | null = null;
  const view = await withCasRetries(() =>
    inTransaction(deps.database, async (tx) => {
      refused = null;
      const row = await findDisputeById(tx, disputeId);
      if (row === undefined) throw new Error(`dispute ${disputeId} vanished`);
      const now = deps.clock.now();
      let current = row;
      if (row.response_state === 'sending') {
        switch (outcome.kind) {
          case 'accepted':
            current = (await recordResponseAnswer(tx, row.id, { state: 'accepted', code: null }, now)) ?? row;
            break;
          case 'refused': {
            const answered = await recordResponseAnswer(tx, row.id, { state: 'refused', code: outcome.code }, now);
            if (answered === null) throw new ConcurrentUpdate();
            current = answered;
            refused = answered;
            if (transitionDispute(answered.status, { kind: 'response_refused' }).ok) {
              const eventCtx: EventContext = ctx ?? networkContext(answered);
              current = (await moveDisputeWithEffects(tx, deps, eventCtx, answered, { kind: 'response_refused' })).row;
            }
            break;
          }
          case 'unknown':
            await scheduleResponseResend(tx, row.id, nextRetryAt(row.checks, now));
            break;
        }
      }
      const answer = await loadDisputeView(tx, current, now);
      if (ctx !== null) await completeIdempotentRequest(tx, ctx, 200, answer);
      return answer;
    }),
  );
  const failed = refused as DisputeRow | null;
  if (failed !== null && outcome.kind === 'refused') {
    deps.logger.error(
      { dispute: failed.id, dispute_request_id: failed.dispute_request_id, result_code: outcome.code, message: outcome.message, status: failed.status },
      'Alipay+ refused a dispute response',
    );
  }
  return view;
}

/**
 * A retry (same Idempotency-Key) of a submit or close whose request died after storing the
 * response: re-sends the same stored body while holding the worker's lease, or answers with the
 * dispute as it is when the answer is already in or the worker holds it.
 */
export async function resumeDisputeResponse(deps: CoreDeps, ctx: RequestContext, disputeId: string): Promise<ApiObject> {
  const row = await findDisputeById(deps.database.db, disputeId);
  if (row === undefined) throw new Error(`dispute ${disputeId} of a recovery point vanished`);
  if (row.response_state === 'sending') {
    const holder = `recovery:${ctx.idempotency?.requestId ?? ctx.requestId ?? deps.ids.next('req')}`;
    const now = deps.clock.now();
    if (await takeLease(deps.database.db, 'disputes', row.id, RESPONDING_STATUSES, holder, now, now + RESEND_LEASE_MS)) {
      try {
        deps.logger.info({ dispute_request_id: row.dispute_request_id }, 'recovering a dispute response: re-sending the stored body');
        return await recordResponseOutcome(deps, ctx, row.id, await sendAtNetwork(deps, row));
      } finally {
        await releaseLease(deps.database.db, 'disputes', row.id, holder).catch((error: unknown) => {
          deps.logger.warn({ err: error, dispute: row.id }, 'could not release the lease of a re-send; it runs out');
        });
      }
    }
  }
  return inTransaction(deps.database, async (tx) => {
    const current = await findDisputeById(tx, disputeId);
    if (current === undefined) throw new Error(`dispute ${disputeId} vanished`);
    const view = await loadDisputeView(tx, current, deps.clock.now());
    await completeIdempotentRequest(tx, ctx, 200, view);
    return view;
  });
}

/** The worker's re-send of a stored response still without a final answer; returns whether it is still unanswered. */
export async function resendDisputeResponse(deps: CoreDeps, row: DisputeRow): Promise<boolean> {
  if (row.response_state !== 'sending') return false;
  await recordResponseOutcome(deps, null, row.id, await sendAtNetwork(deps, row));
  const after = await findDisputeById(deps.database.db, row.id);
  return after?.response_state === 'sending';
}

/**
 * The worker's deadline check: disputes past `due_by` with no response submitted close as
 * Alipay+ closes them — a retrieval `warning_closed`, an escalation `lost` — with
 * `evidence_details.past_due` and `charge.dispute.closed`. Returns the ids it closed.
 */
export async function closePastDueDisputes(deps: CoreDeps, limit = PAST_DUE_BATCH_MAX): Promise<string[]> {
  const due = await findPastDueDisputes(deps.database.db, deps.clock.now(), limit);
  const closed: string[] = [];
  for (const candidate of due) {
    try {
      const done = await withCasRetries(() =>
        inTransaction(deps.database, async (tx) => {
          const row = await findDisputeById(tx, candidate.id);
          if (row === undefined || row.due_by === null || row.due_by >= deps.clock.now()) return false;
          if (!transitionDispute(row.status, { kind: 'past_due' }).ok) return false;
          await moveDisputeWithEffects(tx, deps, networkContext(row), row, { kind: 'past_due' }, { past_due: 1 });
          return true;
        }),
      );
      if (done) closed.push(candidate.id);
    } catch (error) {
      deps.logger.error({ err: error, dispute: candidate.id }, 'closing a past-due dispute failed; retrying on the next pass');
    }
  }
  return closed;
}

export async function retrieveDispute(deps: Pick<CoreDeps, 'database' | 'clock'>, scope: Scope, id: string): Promise<ApiObject> {
  const row = await ownedDispute(deps.database.db, scope, id);
  return loadDisputeView(deps.database.db, row, deps.clock.now());
}

export interface ListDisputesParams extends ListParams {
  charge?: string | null;
  payment_intent?: string | null;
}

export async function listDisputes(deps: Pick<CoreDeps, 'database' | 'clock'>, scope: Scope, params: ListDisputesParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'dispute', (id) => findDisputeByAccountAndId(db, scope, id));
  const page = await listDisputesByAccount(db, scope, window, {
    ...(params.charge == null ? {} : { charge: params.charge }),
    ...(params.payment_intent == null ? {} : { paymentIntent: params.payment_intent }),
  });
  const now = deps.clock.now();
  return { data: await loadDisputeViews(db, page.rows, now), hasMore: page.hasMore };
}
