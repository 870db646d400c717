import type { CoreDeps } from '../core/context.js';
import { expireDueSessions } from '../core/checkout_sessions.js';

/** Sessions expired per worker pass; the rest are due on the next pass. */
export const SESSION_EXPIRY_BATCH_MAX = 50;

/**
 * Expires the open Checkout Sessions past their `expires_at` (api.md §6): each session, its
 * PaymentIntent (canceled) and its live attempts (moved to `canceling`, cancelled at Alipay+ right
 * after the commit, or by the attempt worker if that call fails) change in one transaction with
 * `checkout.session.expired` and `payment_intent.canceled`. A session paid meanwhile is left
 * complete. Several processes may run this at once: each expiry is a compare-and-set on the
 * session's `open` status and the PaymentIntent's version, so one wins and the others skip.
 */
export async function expireCheckoutSessions(deps: CoreDeps, limit = SESSION_EXPIRY_BATCH_MAX): Promise<string[]> {
  return expireDueSessions(deps, limit);
}
