import type { FastifyReply, FastifyRequest } from 'fastify';
import { clientSafePaymentIntentView } from '../core/views.js';
import type { ApiObject } from '../core/views.js';

/**
 * Route `onSend` hook of the routes a publishable key may call: whatever the response (the
 * handler's, a replayed idempotent one, or an error carrying the intent), a publishable key
 * gets only the client-safe subset of a PaymentIntent (Stripe's rule).
 */
export async function clientSafeForPublishableKey(req: FastifyRequest, _reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (req.auth?.kind !== 'publishable' || typeof payload !== 'string') return payload;
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
