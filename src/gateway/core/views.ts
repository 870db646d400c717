import type { ChargeRow, PaymentIntentRow, PaymentMethodRow } from '../store/schema.js';

/**
 * API objects as clients see them (api.md §2–3): snake_case wire names, timestamps in ms,
 * currencies upper-case. Internal columns (version, account id) never leave through here.
 */
export type ApiObject = Record<string, unknown>;

const json = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** Stripe's billing_details with nothing known: every field present, null. */
const NO_BILLING_DETAILS = { address: null, email: null, name: null, phone: null };

export function paymentIntentView(row: PaymentIntentRow): ApiObject {
  return {
    id: row.id,
    object: 'payment_intent',
    created: row.created,
    livemode: row.livemode === 1,
    status: row.status,
    amount: row.amount,
    amount_capturable: 0,
    amount_received: row.amount_received,
    currency: row.currency,
    client_secret: row.client_secret,
    capture_method: row.capture_method,
    confirmation_method: row.confirmation_method,
    payment_method_types: json(row.payment_method_types),
    payment_method_options: json(row.payment_method_options),
    payment_method: row.payment_method,
    next_action: json(row.next_action),
    return_url: row.return_url,
    description: row.description,
    metadata: json(row.metadata),
    merchant_order_id: row.merchant_order_id,
    merchant_user_id: row.merchant_user_id,
    last_payment_error: json(row.last_payment_error),
    latest_charge: row.latest_charge,
    canceled_at: row.canceled_at,
    cancellation_reason: row.cancellation_reason,
    shipping: json(row.shipping),
    receipt_email: row.receipt_email,
    statement_descriptor: row.statement_descriptor,
    customer: row.customer,
  };
}

/**
 * What a publishable key (with the intent's client_secret) sees of a PaymentIntent: Stripe's
 * fields marked "retrievable with publishable key" that this object has. The merchant's own
 * data (metadata, customer, order ids, options, the charge) needs the secret key.
 */
export const CLIENT_SAFE_PAYMENT_INTENT_FIELDS = [
  'id', 'object', 'amount', 'amount_details', 'automatic_payment_methods', 'canceled_at', 'cancellation_reason', 'capture_method', 'client_secret',
  'confirmation_method', 'created', 'currency', 'description', 'last_payment_error', 'livemode', 'next_action', 'payment_method',
  'payment_method_types', 'processing', 'receipt_email', 'setup_future_usage', 'shipping', 'status',
] as const;

export function clientSafePaymentIntentView(view: ApiObject): ApiObject {
  return Object.fromEntries(CLIENT_SAFE_PAYMENT_INTENT_FIELDS.filter((field) => Object.hasOwn(view, field)).map((field) => [field, view[field]]));
}

export function paymentMethodView(row: PaymentMethodRow): ApiObject {
  return {
    id: row.id,
    object: 'payment_method',
    created: row.created,
    livemode: row.livemode === 1,
    type: row.type,
    alipay: {},
    billing_details: json(row.billing_details),
    customer: row.customer,
    metadata: json(row.metadata),
  };
}

export function chargeView(row: ChargeRow): ApiObject {
  return {
    id: row.id,
    object: 'charge',
    created: row.created,
    livemode: row.livemode === 1,
    amount: row.amount,
    amount_captured: row.amount_captured,
    amount_refunded: row.amount_refunded,
    refunded: row.amount_refunded === row.amount,
    captured: true,
    paid: row.status === 'succeeded',
    status: row.status,
    currency: row.currency,
    payment_intent: row.payment_intent_id,
    payment_method: row.payment_method_id,
    payment_method_details: {
      type: 'alipay',
      alipay: { buyer_id: row.buyer_id, transaction_id: row.transaction_id, wallet: row.wallet },
    },
    balance_transaction: row.balance_transaction,
    disputed: row.disputed === 1,
    description: row.description,
    customer: row.customer,
    metadata: json(row.metadata),
    billing_details: { ...NO_BILLING_DETAILS, ...(json(row.billing_details) as object | null) },
  };
}
