import type { ColumnType, Insertable, Kysely, Selectable, Transaction } from 'kysely';
import type { PaymentAttemptStatus } from '../domain/payment_attempts.js';
import type { RefundStatus } from '../domain/refunds.js';
import type { DisputeKind, DisputeStatus } from '../domain/disputes.js';

/**
 * Typed tables. One SQL subset for SQLite and PostgreSQL: text, integer, bigint (money and
 * millisecond timestamps; INTEGER affinity on SQLite), booleans as integers 0/1, JSON as text.
 */
type Bool = number;

export interface AccountsTable {
  id: string;
  created: number;
  name: string | null;
  business_category: string | null;
  settlement_currency: string;
  /** 1 on the account `npm start` creates for the operator; a partial unique index keeps it single. */
  is_default: Bool | null;
}

export interface ApiKeysTable {
  /** SHA-256 hex of the whole key: the plaintext is never stored. */
  key_hash: string;
  id: string;
  account_id: string;
  livemode: Bool;
  kind: 'secret' | 'publishable';
  /** The last four characters, to tell keys apart in listings. */
  last4: string;
  created: number;
  revoked_at: number | null;
}

export interface IdempotencyKeysTable {
  account_id: string;
  livemode: Bool;
  idempotency_key: string;
  request_method: string;
  request_path: string;
  /** SHA-256 of the canonical JSON of the parameters: a reuse with other parameters is refused. */
  params_hash: string;
  /** The `req_…` that claimed the key: later transactions of the same request recognise their claim. */
  request_id: string;
  /** null while the first request is executing. */
  response_status: number | null;
  response_body: string | null;
  created: number;
  expires_at: number;
  /** The gateway process running the request (null: claimed before crash recovery existed). */
  owner: ColumnType<string | null, string | null | undefined, string | null>;
  /** Lease of the running request (ms), renewed while it runs; past it, the request died. */
  locked_until: ColumnType<number | null, number | null | undefined, number | null>;
  /** JSON: what the request durably started (core/idempotency.ts RecoveryPoint), for a retry to finish. */
  recovery_point: ColumnType<string | null, string | null | undefined, string | null>;
}

/** A PaymentIntent created with `confirm: true` whose first attempt is not started yet. */
export interface PendingConfirmsTable {
  payment_intent_id: string;
  account_id: string;
  livemode: Bool;
  idempotency_key: string | null;
  created: number;
  /** When the worker may confirm it (the creating request is surely gone); pushed on every try. */
  due_at: number;
  tries: ColumnType<number, number | undefined, number>;
}

export interface PaymentIntentsTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  updated: number;
  /** Optimistic concurrency: every write compares and increments it. */
  version: number;
  status: string;
  amount: number;
  amount_received: number;
  currency: string;
  client_secret: string;
  capture_method: string;
  confirmation_method: string;
  payment_method_types: string;
  payment_method_options: string;
  payment_method: string | null;
  return_url: string | null;
  description: string | null;
  metadata: string;
  merchant_order_id: string | null;
  merchant_user_id: string | null;
  shipping: string | null;
  receipt_email: string | null;
  statement_descriptor: string | null;
  customer: string | null;
  next_action: string | null;
  last_payment_error: string | null;
  latest_charge: string | null;
  canceled_at: number | null;
  cancellation_reason: string | null;
  checkout_session: string | null;
}

export interface PaymentAttemptsTable {
  id: string;
  account_id: string;
  livemode: Bool;
  payment_intent_id: string;
  payment_method_id: string;
  /** Sent to Alipay+ as paymentRequestId: derived from our ids and reused on every retry. */
  payment_request_id: string;
  /** Moved only along domain/payment_attempts.ts, as a compare-and-set (store `moveAttempt`). */
  status: PaymentAttemptStatus;
  amount: number;
  currency: string;
  terminal_type: string;
  os_type: string | null;
  client_ip: string | null;
  return_url: string;
  created: number;
  updated: number;
  /** The wallet network's payment id, once known. */
  external_payment_id: string | null;
  failure_code: string | null;
  failure_message: string | null;
  expires_at: number | null;
  /** When the worker next looks at this attempt (ms); only open and canceling attempts are due. */
  next_check_at: number | null;
  /** The worker's checks since the attempt last changed status (drives the retry backoff). */
  checks: number;
  /** The worker process holding this attempt, until `lease_until` (ms). */
  lease_owner: string | null;
  lease_until: number | null;
  /** How money taken after the attempt stopped being awaited went back: `cancel` or `refund`. */
  reversal: string | null;
  reversal_refund_request_id: string | null;
  reversal_refund_id: string | null;
}

export interface PaymentMethodsTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  type: string;
  billing_details: string;
  customer: string | null;
  metadata: string;
}

export interface ChargesTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  payment_intent_id: string;
  payment_attempt_id: string;
  payment_method_id: string;
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  /** Pending plus succeeded refunds (store/migrations_refunds.ts); defaults to 0 on insert. */
  amount_refund_reserved: number;
  /** Σ escalations not won (store/migrations_disputes.ts); defaults to 0 on insert. */
  amount_dispute_reserved: number;
  /** Escalations still needs_response or under_review: refunds are refused meanwhile. */
  open_escalations: number;
  currency: string;
  status: string;
  buyer_id: string | null;
  transaction_id: string | null;
  wallet: string | null;
  balance_transaction: string | null;
  disputed: Bool;
  description: string | null;
  metadata: string;
  customer: string | null;
  /** JSON: the payment method's billing details when the payment succeeded (null before migration 0090). */
  billing_details: string | null;
}

export interface EventsTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  type: string;
  /** `{ object, previous_attributes }` as JSON. */
  data: string;
  request_id: string | null;
  idempotency_key: string | null;
  pending_webhooks: ColumnType<number, number | undefined, number>;
  /** The whole event JSON as first delivered (null only for events written before webhooks). */
  body: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  url: string;
  /** JSON array of event types, or `["*"]`. */
  enabled_events: string;
  status: 'enabled' | 'disabled';
  /**
   * `whsec_…` in plaintext: signing needs the key itself (HMAC), so unlike API keys it cannot be
   * stored as a one-way hash. Never logged, returned only by the create call.
   */
  secret: string;
  description: string | null;
  api_version: string | null;
  metadata: string;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed' | 'canceled';

/** One event owed to one endpoint, worked by the delivery workers under a lease. */
export interface WebhookDeliveriesTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  event_id: string;
  event_type: string;
  endpoint_id: string;
  status: WebhookDeliveryStatus;
  attempt_count: number;
  /** When the next attempt is due; null once the delivery is no longer pending. */
  next_attempt_at: number | null;
  /** A worker holds the delivery until then; an expired lease (a crashed process) frees it. */
  lease_until: number | null;
  lease_token: string | null;
  last_attempt_at: number | null;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  delivered_at: number | null;
}

export interface WebhookDeliveryAttemptsTable {
  id: string;
  delivery_id: string;
  attempted_at: number;
  /** null when no HTTP response came back (refused, timed out). */
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  next_retry_at: number | null;
  /** The start of the receiver's response body (null: no response, or recorded before 0085). */
  response_body: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ProductsTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  updated: number;
  active: Bool;
  name: string;
  description: string | null;
  /** JSON array of image URLs. */
  images: string;
  metadata: string;
  /** 1 once DELETE /v1/products/:id ran: kept for the line items that name it, hidden from the API. */
  deleted: ColumnType<Bool, Bool | undefined, Bool>;
}

export interface PricesTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  active: Bool;
  product_id: string;
  currency: string;
  /** Smallest currency unit. */
  unit_amount: number;
  type: 'one_time' | 'recurring';
  /** `{ interval, interval_count }` as JSON for recurring prices. */
  recurring: string | null;
  billing_scheme: string;
  lookup_key: string | null;
  nickname: string | null;
  metadata: string;
}

export interface CheckoutSessionsTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  updated: number;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'unpaid' | 'paid';
  mode: string;
  currency: string;
  amount_subtotal: number;
  amount_total: number;
  /** The PaymentIntent created with the session (its `checkout_session` names the session back). */
  payment_intent_id: string;
  expires_at: number;
  success_url: string;
  cancel_url: string | null;
  /** `<public URL>/pay/<id>?key=<publishable key>`, fixed at creation. */
  url: string;
  payment_method_types: string;
  client_reference_id: string | null;
  customer_email: string | null;
  locale: string | null;
  metadata: string;
}

export interface CheckoutLineItemsTable {
  id: string;
  session_id: string;
  position: number;
  price_id: string;
  description: string;
  quantity: number;
  currency: string;
  amount_subtotal: number;
  amount_total: number;
}

export interface CheckoutPageKeysTable {
  account_id: string;
  livemode: Bool;
  publishable_key: string;
  created: number;
}

export interface Tables {
  accounts: AccountsTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  payment_intents: PaymentIntentsTable;
  payment_attempts: PaymentAttemptsTable;
  payment_methods: PaymentMethodsTable;
  charges: ChargesTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_delivery_attempts: WebhookDeliveryAttemptsTable;
  refunds: RefundsTable;
  balance_transactions: BalanceTransactionsTable;
  balance_totals: BalanceTotalsTable;
  balance_available_on: BalanceAvailableOnTable;
  products: ProductsTable;
  prices: PricesTable;
  checkout_sessions: CheckoutSessionsTable;
  checkout_line_items: CheckoutLineItemsTable;
  checkout_page_keys: CheckoutPageKeysTable;
  attention_items: AttentionItemsTable;
  pending_confirms: PendingConfirmsTable;
  disputes: DisputesTable;
  operator_users: OperatorUsersTable;
  operator_sessions: OperatorSessionsTable;
  audit_log: AuditLogTable;
  rate_limit_windows: RateLimitWindowsTable;
  api_key_reveals: ApiKeyRevealsTable;
}

/** A new API key's plaintext waiting for its one showing, sealed (core/api_key_reveals.ts). */
export interface ApiKeyRevealsTable {
  /** SHA-256 hex of the showing's token (the token is only in the operator's URL). */
  token_hash: string;
  /** The operator session that made the key: only it can take the reveal. */
  session_id: string;
  key_id: string;
  /** AES-256-GCM of the plaintext under a key derived from the token: base64url of IV, tag and ciphertext. */
  sealed: string;
  expires_at: number;
}

/** Requests granted to one API key in one second, shared by every gateway process (store/rate_limits.ts). */
export interface RateLimitWindowsTable {
  /** Hash of the request's credential: never the key itself. */
  key_hash: string;
  /** Start of the one-second window, ms since the epoch. */
  window_start: number;
  /** Requests handed out to the processes in this window (blocks, so it may sit below what they used). */
  granted: number;
}

/** The net of every balance transaction per account, mode and currency (migration 0093). */
export interface BalanceTotalsTable {
  account_id: string;
  livemode: Bool;
  currency: string;
  net: number;
}

/** The net of every balance transaction per account, mode, currency and available_on day (migration 0093). */
export interface BalanceAvailableOnTable {
  account_id: string;
  livemode: Bool;
  currency: string;
  available_on: number;
  net: number;
}

export interface BalanceTransactionsTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  type: 'charge' | 'refund' | 'adjustment' | 'dispute';
  /** Stripe's reporting category where it differs from the type: `dispute` / `dispute_reversal`. */
  reporting_category: string | null;
  source: string;
  payment_intent_id: string | null;
  /** Settlement currency minor units; negative for refunds. */
  amount: number;
  currency: string;
  fee: number;
  net: number;
  /** Alipay+'s quotePrice, as quoted (decimal string). */
  exchange_rate: string | null;
  /** What was paid or refunded, in the payment currency. */
  source_amount: number;
  source_currency: string;
  available_on: number;
  quote_id: string | null;
  /** paymentRequestId or refundRequestId. */
  alipay_request_id: string | null;
  /** Alipay+'s paymentId or refundId. */
  alipay_id: string | null;
}

export interface RefundsTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  updated: number;
  charge_id: string;
  payment_intent_id: string;
  payment_request_id: string;
  refund_request_id: string;
  amount: number;
  currency: string;
  /** Moved only along domain/refunds.ts `transitionRefund`, as a compare-and-set. */
  status: RefundStatus;
  reason: string | null;
  failure_reason: string | null;
  failure_code: string | null;
  metadata: string;
  external_refund_id: string | null;
  sent_at: number | null;
  next_check_at: number | null;
  checks: number;
  lease_owner: string | null;
  lease_until: number | null;
  settlement_currency: string | null;
  settlement_amount: number | null;
  settlement_quote: string | null;
  balance_transaction: string | null;
}

/**
 * What the gateway could not settle alone (migrations_attention.ts): one row per payment attempt
 * or refund in `requires_attention`, written in the transaction that moved it, listed for the
 * operator (`zhifu attention`).
 */
export interface AttentionItemsTable {
  /** The attempt's `pa_…` or the refund's `re_…`. */
  id: string;
  object: 'payment_attempt' | 'refund';
  account_id: string;
  livemode: Bool;
  created: number;
  payment_intent_id: string;
  /** paymentRequestId or refundRequestId: what to look up at Alipay+. */
  request_id: string;
  amount: number;
  currency: string;
  /** What the network said that the gateway could not decide on. */
  reason: string;
}

/** Either the database or an open transaction: repository functions accept both. */
export type Executor = Kysely<Tables> | Transaction<Tables>;

export type AccountRow = Selectable<AccountsTable>;
export type ApiKeyRow = Selectable<ApiKeysTable>;
export type PaymentIntentRow = Selectable<PaymentIntentsTable>;
export type NewPaymentIntentRow = Insertable<PaymentIntentsTable>;
export type PaymentAttemptRow = Selectable<PaymentAttemptsTable>;
export type PaymentMethodRow = Selectable<PaymentMethodsTable>;
export type ChargeRow = Selectable<ChargesTable>;
export type EventRow = Selectable<EventsTable>;
export type IdempotencyRow = Selectable<IdempotencyKeysTable>;
export type NewIdempotencyRow = Insertable<IdempotencyKeysTable>;
export type PendingConfirmRow = Selectable<PendingConfirmsTable>;
export type WebhookEndpointRow = Selectable<WebhookEndpointsTable>;
export type WebhookDeliveryRow = Selectable<WebhookDeliveriesTable>;
export type WebhookDeliveryAttemptRow = Selectable<WebhookDeliveryAttemptsTable>;
export type RefundRow = Selectable<RefundsTable>;
export type BalanceTransactionRow = Selectable<BalanceTransactionsTable>;
export type ProductRow = Selectable<ProductsTable>;
export type PriceRow = Selectable<PricesTable>;
export type CheckoutSessionRow = Selectable<CheckoutSessionsTable>;
export type CheckoutLineItemRow = Selectable<CheckoutLineItemsTable>;
export type AttentionItemRow = Selectable<AttentionItemsTable>;

export interface DisputesTable {
  id: string;
  account_id: string;
  livemode: Bool;
  created: number;
  updated: number;
  charge_id: string;
  payment_intent_id: string;
  payment_request_id: string;
  /** Alipay+'s paymentId of the disputed payment. */
  payment_id: string;
  dispute_request_id: string;
  kind: DisputeKind;
  status: DisputeStatus;
  /** Payment currency minor units: the escalated amount, or the charge's amount for a retrieval. */
  amount: number;
  currency: string;
  reason: string;
  network_reason_code: string;
  reason_message: string | null;
  occurred_at: number | null;
  due_by: number | null;
  past_due: Bool;
  /** JSON of domain/disputes.ts `Evidence`. */
  evidence: string;
  submission_count: number;
  metadata: string;
  /** JSON array of txn_ ids. */
  balance_transactions: string;
  result: string | null;
  response_api: 'retrieval' | 'escalation' | null;
  response_body: string | null;
  response_state: 'sending' | 'accepted' | 'refused' | null;
  response_code: string | null;
  next_check_at: number | null;
  checks: number;
  lease_owner: string | null;
  lease_until: number | null;
}

export type DisputeRow = Selectable<DisputesTable>;

export type OperatorRole = 'admin' | 'viewer';

/** A dashboard operator of one account (core/operators.ts). */
export interface OperatorUsersTable {
  id: string;
  account_id: string;
  email: string;
  /** scrypt output, base64; `password_salt` base64; `password_params` JSON {N, r, p, keylen}. */
  password_hash: string;
  password_salt: string;
  password_params: string;
  role: OperatorRole;
  live_access: Bool;
  created: number;
  updated: number;
}

export interface OperatorSessionsTable {
  /** SHA-256 hex of the cookie's token: the token itself is never stored. */
  id: string;
  user_id: string;
  created: number;
  /** Idle expiry: moved forward on use. */
  expires_at: number;
  last_seen: number;
  /** Random; the session's CSRF token is derived from it (HMAC), so forms need no storage. */
  csrf_secret: string;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: string;
  account_id: string | null;
  user_id: string | null;
  actor_email: string | null;
  action: string;
  object_id: string | null;
  livemode: Bool | null;
  /** JSON with what else the action needs to be understood (amounts, reasons). */
  detail: string | null;
  ip: string | null;
  created: number;
}

export type OperatorUserRow = Selectable<OperatorUsersTable>;
export type OperatorSessionRow = Selectable<OperatorSessionsTable>;
export type AuditLogRow = Selectable<AuditLogTable>;
