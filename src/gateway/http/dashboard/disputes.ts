import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../../core/context.js';
import { DISPUTE_STATUS_FILTERS, disputeDetail, listDisputesPage } from '../../core/dashboard_disputes.js';
import type { DisputeDetail, DisputeListOrder, DisputeStatusFilter } from '../../core/dashboard_disputes.js';
import { closeDispute, updateDispute } from '../../core/disputes.js';
import { DAY_MS, utcDayStart } from '../../domain/days.js';
import { EVIDENCE_FIELDS } from '../../domain/disputes.js';
import type { EvidenceField } from '../../domain/disputes.js';
import { ApiError, invalidRequest } from '../../errors.js';
import { routeAuth } from '../context.js';
import { queryParam } from '../pages/html.js';
import { auditedAction, refusedToViewer } from './actions.js';
import type { DashboardKit } from './kit.js';
import { locationOf, operatorOf, scopeOf } from './kit.js';
import { sendDashboardPage } from './page.js';
import { enumQuery, listLimitOf } from './query.js';
import { formField } from './session.js';
import { DISPUTES_TEXT } from './disputes_text.js';
import { DISPUTES_PATH, disputeDetailPage, disputePath, disputesListPage } from './disputes_views.js';
import type { DisputePageState, EvidenceDraft } from './disputes_views.js';
import { withParam } from './views.js';

/**
 * The Disputes pages: the list by status and deadline, and one dispute with its evidence form,
 * submit and accept. Answers go through core/disputes.ts (`updateDispute`, `closeDispute`) exactly
 * as `POST /v1/disputes/:id[/close]` do — same events, webhooks and response to Alipay+ — inside
 * an audited action, and only for admins.
 */

const DONE = ['saved', 'submitted', 'accepted', 'refused'] as const;
type Done = (typeof DONE)[number];

function statusFilterOf(req: FastifyRequest): DisputeStatusFilter | null {
  return enumQuery(req.query, 'status', DISPUTE_STATUS_FILTERS);
}

function orderOf(req: FastifyRequest): DisputeListOrder | null {
  return enumQuery(req.query, 'order', ['created', 'deadline']);
}

/** `due_before=YYYY-MM-DD`: disputes due on that UTC day or earlier, i.e. before the next day begins. */
function dueBeforeOf(req: FastifyRequest): { text: string; ms: number } | null {
  const value = queryParam(req.query, 'due_before');
  if (value === undefined) return null;
  const ms = utcDayStart(value);
  if (ms === null) {
    throw invalidRequest('parameter_invalid', `Invalid due_before '${value}': use a date as YYYY-MM-DD.`, 'due_before');
  }
  return { text: value, ms: ms + DAY_MS };
}

function idOf(req: FastifyRequest): string {
  return (req.params as { id: string }).id;
}

/** The API's request context for an operator's action: their account and mode; no Idempotency-Key (the form's PRG is the guard against resubmission). */
function actionContext(req: FastifyRequest): RequestContext {
  return { scope: scopeOf(req), requestId: req.id, idempotency: null };
}

/** The evidence fields the form posted, CRLF (how browsers send textareas) as LF; '' unsets a field. */
function postedEvidence(body: unknown): EvidenceDraft {
  const draft: EvidenceDraft = {};
  const fields = (body ?? {}) as Record<string, unknown>;
  for (const field of EVIDENCE_FIELDS) {
    const value = fields[field];
    if (typeof value === 'string') draft[field] = value.replace(/\r\n?/g, '\n');
  }
  return draft;
}

export function registerDisputePages(scope: FastifyInstance, kit: DashboardKit): void {
  async function renderDetail(req: FastifyRequest, reply: FastifyReply, status: number, state: Omit<DisputePageState, 'nowMs'> | ((detail: DisputeDetail) => Omit<DisputePageState, 'nowMs'>)): Promise<FastifyReply> {
    const location = locationOf(req, reply);
    const detail = await disputeDetail(kit.core, scopeOf(req), idOf(req));
    const shown = typeof state === 'function' ? state(detail) : state;
    return sendDashboardPage(reply, status, disputeDetailPage(location, operatorOf(req), req.dashboardLivemode, detail, { ...shown, nowMs: kit.core.clock.now() }));
  }

  /** A refusal of the core (past due, already answered, too long) is the dispute's page again with the reason, and what was typed. */
  async function refused(req: FastifyRequest, reply: FastifyReply, error: unknown, draft: EvidenceDraft | null): Promise<FastifyReply> {
    if (!(error instanceof ApiError) || error.status < 400 || error.status >= 500) throw error;
    return renderDetail(req, reply, error.status, { notice: { text: error.message, tone: 'bad' }, draft });
  }

  function done(req: FastifyRequest, reply: FastifyReply, what: Done): FastifyReply {
    return reply.redirect(withParam(disputePath(idOf(req), req.dashboardLivemode), 'done', what), 303);
  }

  scope.get(DISPUTES_PATH, routeAuth('none'), async (req, reply) => {
    const location = locationOf(req, reply);
    const status = statusFilterOf(req);
    const order = orderOf(req);
    const dueBefore = dueBeforeOf(req);
    const window = await listDisputesPage(kit.core, scopeOf(req), {
      status, order, dueBefore: dueBefore?.ms ?? null,
      startingAfter: queryParam(req.query, 'starting_after') ?? null,
      endingBefore: queryParam(req.query, 'ending_before') ?? null,
      ...listLimitOf(req),
    });
    return sendDashboardPage(reply, 200, disputesListPage(location, operatorOf(req), req.dashboardLivemode, {
      status, order, dueBefore: dueBefore?.text ?? null, window, nowMs: kit.core.clock.now(),
    }));
  });

  scope.get(`${DISPUTES_PATH}/:id`, routeAuth('none'), async (req, reply) => {
    const t = DISPUTES_TEXT[locationOf(req, reply).lang];
    const what = DONE.find((value) => value === queryParam(req.query, 'done'));
    if (what === 'refused') return renderDetail(req, reply, 200, (detail) => ({ notice: { text: t.doneRefused(detail.row.response_code ?? '—'), tone: 'bad' }, draft: null }));
    const text = what === undefined ? null : { saved: t.doneSaved, submitted: t.doneSubmitted, accepted: t.doneAccepted }[what];
    return renderDetail(req, reply, 200, { notice: text === null ? null : { text, tone: 'ok' }, draft: null });
  });

  scope.post(`${DISPUTES_PATH}/:id/evidence`, routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const t = DISPUTES_TEXT[locationOf(req, reply).lang];
    const id = idOf(req);
    // Another account's or mode's dispute is "no such" before anything is recorded.
    const current = await disputeDetail(kit.core, scopeOf(req), id);
    const intent = formField(req.body, 'intent');
    if (intent !== 'save' && intent !== 'submit') throw invalidRequest('parameter_invalid', `Invalid intent '${intent}': use save or submit.`, 'intent');
    const draft = postedEvidence(req.body);
    if (intent === 'submit') {
      const merged = EVIDENCE_FIELDS.map((field: EvidenceField) => draft[field] ?? current.evidence[field] ?? '');
      if (!merged.some((text) => text.trim() !== '')) return renderDetail(req, reply, 400, { notice: { text: t.evidenceRequired, tone: 'bad' }, draft });
    }
    try {
      const view = await auditedAction(kit, req, {
        action: intent === 'submit' ? 'dispute.submit' : 'dispute.save_evidence',
        objectId: id,
        detail: { fields: Object.keys(draft).filter((field) => draft[field as EvidenceField] !== (current.evidence[field as EvidenceField] ?? '')) },
        run: () => updateDispute(kit.core, actionContext(req), id, { evidence: draft, submit: intent === 'submit' }),
        outcome: (result) => ({ status: result.status }),
      });
      if (intent === 'save') return done(req, reply, 'saved');
      // Alipay+ refusing the response puts the dispute back to needing one; the page says why.
      return done(req, reply, view.status === 'needs_response' || view.status === 'warning_needs_response' ? 'refused' : 'submitted');
    } catch (error) {
      return refused(req, reply, error, draft);
    }
  });

  scope.post(`${DISPUTES_PATH}/:id/accept`, routeAuth('none'), async (req, reply) => {
    if (refusedToViewer(req, reply)) return reply;
    const t = DISPUTES_TEXT[locationOf(req, reply).lang];
    const id = idOf(req);
    await disputeDetail(kit.core, scopeOf(req), id);
    // Accepting loses the money for good: the box must be ticked, whatever the browser did.
    if (formField(req.body, 'confirm') !== 'yes') return renderDetail(req, reply, 400, { notice: { text: t.confirmRequired, tone: 'bad' }, draft: null });
    try {
      await auditedAction(kit, req, {
        action: 'dispute.accept',
        objectId: id,
        detail: {},
        run: () => closeDispute(kit.core, actionContext(req), id),
        outcome: (result) => ({ status: result.status }),
      });
      return done(req, reply, 'accepted');
    } catch (error) {
      return refused(req, reply, error, null);
    }
  });
}
