import type { CoreDeps } from '../core/context.js';
import { retryRefund } from '../core/refunds.js';
import type { RefundRow } from '../store/schema.js';
import { nextRetryAt } from '../domain/schedule.js';

/**
 * One check of a pending refund (alipayplus.md §6: on timeout or `U`, retry with the same
 * refundRequestId until `S` or `F`): send it again and record the outcome. Returns when to look
 * again, or null when it is final. Retries follow RETRY_BACKOFF_MS by the refund's check count,
 * the last step repeating until the network answers.
 */
export async function checkRefund(deps: CoreDeps, refund: RefundRow): Promise<number | null> {
  const status = await retryRefund(deps, refund);
  return status === 'pending' ? nextRetryAt(refund.checks + 1, deps.clock.now()) : null;
}
