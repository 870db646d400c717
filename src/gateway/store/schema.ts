import type { ColumnType, Insertable, Kysely, Selectable, Transaction } from 'kysely';

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
  status: string;
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
