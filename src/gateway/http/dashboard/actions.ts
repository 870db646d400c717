import type { FastifyReply, FastifyRequest } from 'fastify';
import { appendAudit } from '../../core/operators.js';
import { ApiError } from '../../errors.js';
import type { DashboardKit } from './kit.js';
import { locationOf } from './kit.js';
import { sendDashboardPage } from './page.js';
import { modePath, messagePage } from './views.js';
import { DASHBOARD_PATH, sessionOf } from './session.js';
import { DASHBOARD_TEXT } from './text.js';

/**
 * Operator actions (refund, cancel, answer a dispute, roll a key, retry a delivery): only admins
 * may act, and the audit log says who did what. Viewers see the same pages without the forms;
 * this check is what actually refuses them, whatever they post.
 */

/** Answers a viewer's action with 403 and returns true; returns false for an admin. */
export function refusedToViewer(req: FastifyRequest, reply: FastifyReply): boolean {
  const session = sessionOf(req);
  if (session.operator.role === 'admin') return false;
  const location = locationOf(req, reply);
  const t = DASHBOARD_TEXT[location.lang];
  void sendDashboardPage(reply, 403, messagePage(location, t.forbiddenTitle, t.adminOnlyText, { href: modePath(DASHBOARD_PATH, req.dashboardLivemode), label: t.backHome }, session));
  return true;
}

export interface AuditedAction<T> {
  /** Dotted verb for the log: `payment.refund`, `dispute.submit`, `api_key.roll`, … */
  action: string;
  /** The object acted on (`pi_…`, `dp_…`, …). */
  objectId: string | null;
  /** What the operator asked for (amounts, reason); never secrets. */
  detail: Record<string, unknown>;
  run: () => Promise<T>;
  /** What to add to the outcome entry (the id of what was created, its status). */
  outcome?: (result: T) => Record<string, unknown>;
}

/**
 * Runs an operator's action between two audit entries: the request is recorded (and committed)
 * before anything happens, so no action exists without its "who" even if the process dies
 * mid-way; the outcome — `<action>.succeeded` with what came of it, or `<action>.failed` with
 * the error code — is recorded after.
 */
export async function auditedAction<T>(kit: DashboardKit, req: FastifyRequest, action: AuditedAction<T>): Promise<T> {
  const session = sessionOf(req);
  const entry = {
    accountId: session.operator.accountId, userId: session.operator.id, actorEmail: session.operator.email,
    objectId: action.objectId, livemode: req.dashboardLivemode, ip: req.ip,
  };
  await appendAudit(kit.core.database.db, kit.operators, { ...entry, action: action.action, detail: action.detail });
  let result: T;
  try {
    result = await action.run();
  } catch (error) {
    const code = error instanceof ApiError ? (error.fields.code ?? error.fields.type) : 'internal_error';
    await appendAudit(kit.core.database.db, kit.operators, { ...entry, action: `${action.action}.failed`, detail: { code } });
    throw error;
  }
  await appendAudit(kit.core.database.db, kit.operators, { ...entry, action: `${action.action}.succeeded`, detail: action.outcome?.(result) ?? null });
  return result;
}
