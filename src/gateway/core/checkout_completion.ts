import { closeOpenSession, findSessionById } from '../store/checkout_sessions.js';
import type { CheckoutSessionRow, Executor, PaymentIntentRow } from '../store/schema.js';
import type { CoreDeps, RequestContext } from './context.js';
import { recordEvent } from './events.js';
import type { ApiObject } from './views.js';

/*
 * The part of Checkout Sessions the payment pipeline needs (a session completes in the
 * transaction its PaymentIntent succeeds in). Apart from checkout_sessions.ts, which confirms and
 * cancels attempts, so that neither imports the other.
 */

type Ctx = Pick<RequestContext, 'scope' | 'requestId' | 'idempotency'>;

/** The Checkout Session object of the seed's response (and Stripe's fields stripe-node reads). */
export function sessionView(row: CheckoutSessionRow, intent: PaymentIntentRow, lineItems?: ApiObject): ApiObject {
  return {
    id: row.id,
    object: 'checkout.session',
    created: row.created,
    livemode: row.livemode === 1,
    mode: row.mode,
    status: row.status,
    payment_status: row.payment_status,
    currency: row.currency,
    amount_subtotal: row.amount_subtotal,
    amount_total: row.amount_total,
    url: row.status === 'open' ? row.url : null,
    success_url: row.success_url,
    cancel_url: row.cancel_url,
    expires_at: row.expires_at,
    payment_intent: row.payment_intent_id,
    client_secret: intent.client_secret,
    payment_method_types: JSON.parse(row.payment_method_types) as unknown,
    client_reference_id: row.client_reference_id,
    customer_email: row.customer_email,
    // The seed's response spells absent customer and payment link as "".
    customer: intent.customer ?? '',
    payment_link: '',
    billing_address_collection: 'auto',
    locale: row.locale,
    metadata: JSON.parse(row.metadata) as unknown,
    // Fields Stripe's schema requires for features Zhifu's checkout does not have: off or empty.
    automatic_tax: { enabled: false, status: null },
    custom_fields: [],
    custom_text: { shipping_address: null, submit: null },
    shipping_options: [],
    ...(lineItems === undefined ? {} : { line_items: lineItems }),
  };
}

/**
 * Completes the session of a PaymentIntent that just succeeded, in the same transaction as the
 * success (called by the attempt pipeline): `complete` / `paid` and `checkout.session.completed`.
 */
export async function completeSessionInTx(tx: Executor, deps: Pick<CoreDeps, 'clock' | 'ids'>, ctx: Ctx, intent: PaymentIntentRow): Promise<void> {
  if (intent.checkout_session === null) return;
  const session = await findSessionById(tx, intent.checkout_session);
  if (session === undefined) throw new Error(`PaymentIntent ${intent.id} names a missing session ${intent.checkout_session}`);
  // A canceled PaymentIntent never succeeds, and expiry cancels it in the same transaction, so an
  // open session is the only one a success can meet; anything else is a programmer error.
  if (!(await closeOpenSession(tx, session.id, { status: 'complete', payment_status: 'paid' }, deps.clock.now()))) {
    throw new Error(`session ${session.id} was ${session.status} when its PaymentIntent succeeded`);
  }
  const completed: CheckoutSessionRow = { ...session, status: 'complete', payment_status: 'paid' };
  await recordEvent(tx, deps, ctx, 'checkout.session.completed', sessionView(completed, intent), { status: 'open', payment_status: 'unpaid' });
}
