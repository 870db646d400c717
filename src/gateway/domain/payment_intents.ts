/**
 * The PaymentIntent status machine (diagram in README.md). Pure: `(status, input) → next status
 * + events`; no I/O, clock or ids. Every switch is exhaustive over our own statuses with no
 * `default`, so adding a status fails to compile until each transition is decided.
 */
export const PAYMENT_INTENT_STATUSES = [
  'requires_payment_method',
  'requires_confirmation',
  'requires_action',
  'processing',
  'succeeded',
  'canceled',
] as const;
export type PaymentIntentStatus = (typeof PAYMENT_INTENT_STATUSES)[number];

export type PaymentIntentEventType =
  | 'payment_intent.created'
  | 'payment_intent.requires_action'
  | 'payment_intent.processing'
  | 'payment_intent.succeeded'
  | 'payment_intent.payment_failed'
  | 'payment_intent.canceled';

export type PaymentIntentInput =
  /** A payment method was set by create or update (not by confirm). */
  | { kind: 'payment_method_attached' }
  /** Confirm recorded an attempt in `sending`; the wallet network has not answered yet. */
  | { kind: 'confirm_started'; hasPaymentMethod: boolean }
  /**
   * The attempt awaiting the shopper was closed and a new one recorded in `sending` for another
   * device of the same shopper (the hosted page opened on a phone after a desktop, or back).
   */
  | { kind: 'attempt_replaced' }
  | { kind: 'attempt_requires_action' }
  | { kind: 'attempt_failed' }
  | { kind: 'attempt_succeeded' }
  /** The wallet network's answer is unknown (timeout, `U`); a worker inquires later. */
  | { kind: 'attempt_unknown' }
  | { kind: 'cancel'; createdByCheckoutSession: boolean };

export type Transition =
  | { ok: true; status: PaymentIntentStatus; events: PaymentIntentEventType[] }
  | { ok: false; message: string };

const stay = (status: PaymentIntentStatus): Transition => ({ ok: true, status, events: [] });
const move = (status: PaymentIntentStatus, ...events: PaymentIntentEventType[]): Transition => ({ ok: true, status, events });
const refuse = (message: string): Transition => ({ ok: false, message });

/** The status a new PaymentIntent starts in; creation itself writes `payment_intent.created`. */
export function initialStatus(hasPaymentMethod: boolean): PaymentIntentStatus {
  return hasPaymentMethod ? 'requires_confirmation' : 'requires_payment_method';
}

export function transition(status: PaymentIntentStatus, input: PaymentIntentInput): Transition {
  switch (input.kind) {
    case 'payment_method_attached':
      return attachPaymentMethod(status);
    case 'confirm_started':
      return startConfirm(status, input.hasPaymentMethod);
    case 'attempt_replaced':
      // Like confirm_started, a sub-request transient: the new attempt's outcome writes the events.
      return status === 'requires_action' ? stay('processing') : refuse(`it has a status of ${status}, but only an attempt awaiting the shopper (requires_action) can be replaced`);
    case 'attempt_requires_action':
      return attemptOutcome(status, move('requires_action', 'payment_intent.requires_action'));
    case 'attempt_failed':
      return attemptOutcome(status, move('requires_payment_method', 'payment_intent.payment_failed'));
    case 'attempt_succeeded':
      return attemptOutcome(status, move('succeeded', 'payment_intent.succeeded'));
    case 'attempt_unknown':
      // Only a first unknown answer is news; one while the shopper is already redirected is not.
      return attemptOutcome(status, status === 'processing' ? move('processing', 'payment_intent.processing') : stay(status));
    case 'cancel':
      return cancel(status, input.createdByCheckoutSession);
  }
}

/** Whether amount, currency, payment method and return URL may still change. */
export function paymentFieldsEditable(status: PaymentIntentStatus): boolean {
  switch (status) {
    case 'requires_payment_method':
    case 'requires_confirmation':
      return true;
    case 'requires_action':
    case 'processing':
    case 'succeeded':
    case 'canceled':
      return false;
  }
}

function attachPaymentMethod(status: PaymentIntentStatus): Transition {
  switch (status) {
    case 'requires_payment_method':
    case 'requires_confirmation':
      return stay('requires_confirmation');
    case 'requires_action':
    case 'processing':
    case 'succeeded':
    case 'canceled':
      return refuse(`a payment method cannot be attached to a PaymentIntent in status ${status}`);
  }
}

function startConfirm(status: PaymentIntentStatus, hasPaymentMethod: boolean): Transition {
  switch (status) {
    case 'requires_payment_method':
    case 'requires_confirmation':
      // `processing` while the attempt is being sent blocks a second confirm; it is a
      // sub-request transient, so no event is written until the outcome is known.
      return hasPaymentMethod ? stay('processing') : refuse('it has no payment method; pass payment_method or payment_method_data');
    case 'requires_action':
    case 'processing':
    case 'succeeded':
    case 'canceled':
      return refuse(`it has a status of ${status}, but confirm needs requires_payment_method or requires_confirmation`);
  }
}

/** Outcomes apply only while an attempt is outstanding; anything else is a stale report. */
function attemptOutcome(status: PaymentIntentStatus, next: Transition): Transition {
  switch (status) {
    case 'processing':
    case 'requires_action':
      return next;
    case 'requires_payment_method':
    case 'requires_confirmation':
    case 'succeeded':
    case 'canceled':
      return refuse(`no payment attempt is outstanding in status ${status}`);
  }
}

function cancel(status: PaymentIntentStatus, createdByCheckoutSession: boolean): Transition {
  if (createdByCheckoutSession) {
    return refuse('it was created by a Checkout Session; expire the session instead');
  }
  switch (status) {
    case 'requires_payment_method':
    case 'requires_confirmation':
    case 'requires_action':
    case 'processing':
      return move('canceled', 'payment_intent.canceled');
    case 'succeeded':
    case 'canceled':
      return refuse(`it has a status of ${status}; only a PaymentIntent that has not succeeded or been canceled can be canceled`);
  }
}
