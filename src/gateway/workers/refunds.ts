import type { CoreDeps } from '../core/context.js';
import { refundRequiresAttention, retryRefund } from '../core/refunds.js';
import type { RefundRow } from '../store/schema.js';
import { WORKER_CHECKS_MAX, nextRetryAt } from '../domain/schedule.js';

/**
 * One check of a pending refund (alipayplus.md §6: on timeout or `U`, retry with the same
 * refundRequestId until `S` or `F`): send it again and record the outcome. Returns when to look
 * again, or null when it is final. Retries follow RETRY_BACKOFF_MS by the refund's check count,
 * the last step repeating until the network answers or WORKER_CHECKS_MAX.
 */
export async function checkRefund(deps: CoreDeps, refund: RefundRow): Promise<number | null> {
  // Bounded: a refund sent this many times without a final answer is an operator's.
  if (refund.sent_at !== null && refund.checks >= WORKER_CHECKS_MAX) {
    await refundRequiresAttention(deps, refund.id, `no final answer from Alipay+ after ${refund.checks} sends`);
    return null;
  }
  const status = await retryRefund(deps, refund);
  return status === 'pending' ? nextRetryAt(refund.checks + 1, deps.clock.now()) : null;
}
