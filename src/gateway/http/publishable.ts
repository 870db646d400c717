import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientSafePaymentIntentView } from '../core/views.js';
import type { ApiObject } from '../core/views.js';

/**
 * Route `onSend` hook of the routes a publishable key may call: whatever the response (the
 * handler's, a replayed idempotent one, or an error carrying the intent), a publishable key
 * gets only the client-safe subset of a PaymentIntent (Stripe's rule). Callback style: a secret
 * key's response (nearly every one) passes without a promise.
 */
export function clientSafeForPublishableKey(req: FastifyRequest, _reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void): void {
  if (req.auth?.kind !== 'publishable' || typeof payload !== 'string') return done(null, payload);
  let safe: string;
  try {
    safe = clientSafePayload(payload);
  } catch (error) {
    return done(error as Error);
  }
  done(null, safe);
}

/** The response text with every PaymentIntent in it cut to its client-safe subset. */
function clientSafePayload(payload: string): string {
  let body: { object?: unknown; error?: { payment_intent?: unknown } } | null;
  try {
    body = JSON.parse(payload) as typeof body;
  } catch {
    return payload;
  }
  if (body?.object === 'payment_intent') return JSON.stringify(clientSafePaymentIntentView(body as ApiObject));
  const intent = body?.error?.payment_intent;
  if (typeof intent === 'object' && intent !== null) {
    return JSON.stringify({ ...body, error: { ...body!.error, payment_intent: clientSafePaymentIntentView(intent as ApiObject) } });
  }
  return payload;
}
