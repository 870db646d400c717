import type { PaymentConnector } from '../connector/types.js';
import { findOpenAttemptsForIntent } from '../store/payment_attempts.js';
import { findPaymentIntentById } from '../store/payment_intents.js';
import type { CoreDeps } from './context.js';
import { inquireAndApply } from './network_outcomes.js';

export type RedirectStatus = 'succeeded' | 'failed' | 'processing';

/**
 * Where the shopper goes back to after the wallet: the merchant's return_url with
 * `payment_intent`, `payment_intent_client_secret` and `redirect_status`. The redirect itself is
 * never proof of payment: if no outcome is recorded yet, Alipay+ is asked first. Returns null for
 * an unknown PaymentIntent or a token this gateway did not issue.
 */
export async function returnRedirect(deps: CoreDeps, connector: PaymentConnector, paymentIntentId: string, token: string): Promise<string | null> {
  const db = deps.database.db;
  let intent = await findPaymentIntentById(db, paymentIntentId);
  if (!intent || connector.isReturnTokenValid?.(intent.livemode === 1, intent.id, token) !== true) return null;
  if (intent.status === 'requires_action' || intent.status === 'processing') {
    // Only `pending` attempts: a `sending` one may still be mid re-send, and an inquiry then would
    // wrongly find no order. The worker settles those once the sends are over.
    for (const attempt of await findOpenAttemptsForIntent(db, intent.id)) {
      const inquire = connector.inquire?.bind(connector);
      if (attempt.status === 'pending' && inquire !== undefined) await inquireAndApply(deps, { inquire }, attempt);
    }
    intent = (await findPaymentIntentById(db, paymentIntentId)) ?? intent;
  }
  if (intent.return_url === null) return null;
  const target = new URL(intent.return_url);
  target.searchParams.set('payment_intent', intent.id);
  target.searchParams.set('payment_intent_client_secret', intent.client_secret);
  target.searchParams.set('redirect_status', redirectStatus(intent.status));
  return target.toString();
}

function redirectStatus(status: string): RedirectStatus {
  if (status === 'succeeded') return 'succeeded';
  if (status === 'requires_payment_method' || status === 'canceled') return 'failed';
  return 'processing';
}
