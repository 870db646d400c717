/**
 * The payment attempt status machine (diagram in README.md). Pure: `(status, input) → a move
 * {from, to}` or a refusal; no I/O, clock or ids. The store applies the move as a compare-and-set
 * on `from` (store/payment_attempts.ts `moveAttempt`), so a move decided on a stale read loses
 * and the caller re-reads. Every switch is exhaustive over the statuses with no `default`, so a
 * new status does not compile until each input is decided for it.
 */
export const PAYMENT_ATTEMPT_STATUSES = ['sending', 'pending', 'canceling', 'succeeded', 'failed', 'canceled', 'requires_attention'] as const;
export type PaymentAttemptStatus = (typeof PAYMENT_ATTEMPT_STATUSES)[number];

/** Open at the network and still awaited by the PaymentIntent (see `isOpen`). */
export const OPEN_ATTEMPT_STATUSES: readonly PaymentAttemptStatus[] = ['sending', 'pending'];

/** Statuses the worker still has business with (inquiry, cancel, reversal). */
export const ATTEMPT_WORKER_STATUSES: readonly PaymentAttemptStatus[] = ['sending', 'pending', 'canceling'];

export type PaymentAttemptInput =
  /** The pay created the order and the shopper must act (cashier URL, QR code). */
  | { kind: 'network_accepted' }
  /** The network reports the payment paid (pay response, notification or inquiry). */
  | { kind: 'paid' }
  /** The network reports the payment failed or closed unpaid (pay, notification, inquiry). */
  | { kind: 'declined' }
  /**
   * Stop awaiting the attempt and close it at the network: the PaymentIntent was canceled or its
   * Checkout Session expired (request path), or the worker closes an expired or lost attempt.
   */
  | { kind: 'close' }
  /** A failed attempt reported paid later: its money must go back, which is the `canceling` work. */
  | { kind: 'paid_after_failure' }
  /** The network confirmed the close (or returned the money); `awaited`: the PaymentIntent still waited for it. */
  | { kind: 'closed'; awaited: boolean }
  /**
   * Nothing the gateway can decide alone: an amount that does not match what we sent, or a
   * reversal the network refused. Terminal; an operator settles it (README "requires_attention").
   */
  | { kind: 'needs_attention' };

export type AttemptEventType = 'payment_intent.requires_attention';

export type AttemptMove =
  | { ok: true; from: PaymentAttemptStatus; to: PaymentAttemptStatus; events: AttemptEventType[] }
  | { ok: false; from: PaymentAttemptStatus; message: string };

const move = (from: PaymentAttemptStatus, to: PaymentAttemptStatus, ...events: AttemptEventType[]): AttemptMove => ({ ok: true, from, to, events });
const refuse = (from: PaymentAttemptStatus, input: PaymentAttemptInput): AttemptMove => ({ ok: false, from, message: `a payment attempt in status ${from} cannot take ${input.kind}` });

/** Whether the status is final: no input moves it any more (a `failed` one only when paid later). */
export function isFinal(status: PaymentAttemptStatus): boolean {
  switch (status) {
    case 'sending':
    case 'pending':
    case 'canceling':
      return false;
    case 'succeeded':
    case 'failed':
    case 'canceled':
    case 'requires_attention':
      return true;
  }
}

/** Open at the network and still awaited by its PaymentIntent (an outcome applies to it). */
export function isOpen(status: PaymentAttemptStatus): boolean {
  switch (status) {
    case 'sending':
    case 'pending':
      return true;
    case 'canceling':
    case 'succeeded':
    case 'failed':
    case 'canceled':
    case 'requires_attention':
      return false;
  }
}

export function transitionAttempt(from: PaymentAttemptStatus, input: PaymentAttemptInput): AttemptMove {
  switch (input.kind) {
    case 'network_accepted':
      // Only the request path's own pay answer moves `sending` on; a later report is stale.
      return from === 'sending' ? move(from, 'pending') : refuse(from, input);
    case 'paid':
    case 'declined':
      return isOpen(from) ? move(from, input.kind === 'paid' ? 'succeeded' : 'failed') : refuse(from, input);
    case 'close':
      return isOpen(from) ? move(from, 'canceling') : refuse(from, input);
    case 'paid_after_failure':
      return from === 'failed' ? move(from, 'canceling') : refuse(from, input);
    case 'closed':
      // A closed attempt its PaymentIntent still awaited fails it (back to requires_payment_method).
      return from === 'canceling' ? move(from, input.awaited ? 'failed' : 'canceled') : refuse(from, input);
    case 'needs_attention':
      return needsAttention(from, input);
  }
}

function needsAttention(from: PaymentAttemptStatus, input: PaymentAttemptInput): AttemptMove {
  switch (from) {
    case 'sending':
    case 'pending':
    case 'canceling':
      return move(from, 'requires_attention', 'payment_intent.requires_attention');
    case 'succeeded':
    case 'failed':
    case 'canceled':
    case 'requires_attention':
      return refuse(from, input);
  }
}

/** Parses a stored status; a value outside the machine is a corrupt row, never silently accepted. */
export function attemptStatusOf(value: string): PaymentAttemptStatus {
  if ((PAYMENT_ATTEMPT_STATUSES as readonly string[]).includes(value)) return value as PaymentAttemptStatus;
  throw new Error(`unknown payment attempt status ${value}`);
}
