import type { CoreDeps } from '../core/context.js';
import { closePastDueDisputes, resendDisputeResponse } from '../core/disputes.js';
import { nextRetryAt } from '../domain/schedule.js';
import type { DisputeRow } from '../store/schema.js';

/**
 * One re-send of a dispute response still without a final answer (alipayplus.md §7: the same
 * disputeRequestId and body until Alipay+ answers S or F). Returns when to look again, or null
 * once it is answered. Responses are retried for as long as they stay unanswered: the case is
 * decided at Alipay+ either way, and a dropped defence must still reach it.
 */
export async function checkDisputeResponse(deps: CoreDeps, dispute: DisputeRow): Promise<number | null> {
  const unanswered = await resendDisputeResponse(deps, dispute);
  return unanswered ? nextRetryAt(dispute.checks + 1, deps.clock.now()) : null;
}

/** Disputes past `due_by` without a submitted response: closed as Alipay+ closes them. */
export function enforceDisputeDeadlines(deps: CoreDeps): Promise<string[]> {
  return closePastDueDisputes(deps);
}
