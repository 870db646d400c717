import { sql } from 'kysely';
import type { RawBuilder, SelectQueryBuilder, SqlBool } from 'kysely';
import type { DatabaseKind } from './database.js';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import type {
  AttentionItemRow, ChargeRow, DisputeRow, EventRow, Executor, PaymentAttemptRow, PaymentIntentRow, PaymentMethodRow, RefundRow,
  Tables, WebhookDeliveryAttemptRow, WebhookDeliveryRow,
} from './schema.js';
import { metadataMatches, metadataSideTable } from './payment_intents.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/**
 * The dashboard's Payments pages (core/dashboard_payments.ts): the list with the operator's
 * filters, and everything that happened to one PaymentIntent for its timeline. Every query is
 * scoped by account and mode, and each filter runs on an index (migrations_dashboard_payments.ts).
 */

export interface DashboardPaymentFilters {
  status?: string;
  currency?: string;
  /** Inclusive bounds, minor units. */
  amountGte?: number;
  amountLte?: number;
  merchantOrderId?: string;
  metadata?: { key: string; value: string };
  /** Only PaymentIntents with something awaiting an operator (attention_items). */
  attention?: boolean;
}

/** One keyset page, newest first; filters combine with AND. */
export async function listDashboardPayments(ex: Executor, kind: DatabaseKind, scope: Scope, window: ListWindow, filters: DashboardPaymentFilters) {
  // SQLite plans without statistics (nothing runs ANALYZE) and then prefers the index that gives
  // the order (payment_intents_list), walking every row of the account to find an order id or the
  // few PaymentIntents awaiting attention. A unary + keeps it off an index where that would
  // happen: it seeks those few rows by their own index (payment_intents_order_list, the primary
  // key from attention_items) and sorts the handful. A metadata filter on SQLite reads its matches
  // newest first (or oldest first) from the side table's index instead, and stops at the page.
  const byMetadata = kind === 'sqlite' && filters.metadata !== undefined;
  const few = kind === 'sqlite' && (filters.merchantOrderId !== undefined || filters.attention === true);
  const byAttention = kind === 'sqlite' && (filters.attention === true || byMetadata);
  const column = (name: 'account_id' | 'livemode' | 'created' | 'id', plain: boolean) => (plain ? sql.ref(name) : sql`+${sql.ref(name)}`);
  const from = ex.selectFrom('payment_intents');
  // The side table's columns are named apart from payment_intents' (migration 0092), so every
  // condition below reads the same joined or not; only the selected columns and the order differ.
  let query = (filters.metadata !== undefined && byMetadata
    ? from.innerJoin(metadataSideTable.as('m'), (join) => join.onRef('m.payment_intent_id', '=', 'payment_intents.id'))
      .selectAll('payment_intents')
      .where('m.intent_account_id', '=', scope.accountId).where('m.intent_livemode', '=', bool(scope.livemode))
      .where('m.key', '=', filters.metadata.key).where('m.value', '=', filters.metadata.value)
    : from.selectAll()) as unknown as SelectQueryBuilder<Tables, 'payment_intents', PaymentIntentRow>;
  query = query
    .where(sql<SqlBool>`${column('account_id', !byAttention)} = ${scope.accountId}`)
    .where(sql<SqlBool>`${column('livemode', !byAttention)} = ${bool(scope.livemode)}`);
  if (filters.status !== undefined) query = query.where('status', '=', filters.status);
  if (filters.currency !== undefined) query = query.where('currency', '=', filters.currency);
  if (filters.amountGte !== undefined) query = query.where('amount', '>=', filters.amountGte);
  if (filters.amountLte !== undefined) query = query.where('amount', '<=', filters.amountLte);
  if (filters.merchantOrderId !== undefined) query = query.where('merchant_order_id', '=', filters.merchantOrderId);
  if (filters.metadata !== undefined && !byMetadata) query = query.where(metadataMatches(kind, scope, filters.metadata.key, filters.metadata.value));
  if (filters.attention === true) {
    query = query.where('id', 'in', ex.selectFrom('attention_items').select('payment_intent_id')
      .where('account_id', '=', scope.accountId).where('livemode', '=', bool(scope.livemode)));
  }
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  if (byMetadata && window.cursor !== null) {
    // The same bound as the keyset condition, on the side table's column, so the read seeks to the cursor.
    const at = window.cursor.at.created;
    query = query.where(window.cursor.direction === 'after' ? sql<SqlBool>`m.intent_created <= ${at}` : sql<SqlBool>`m.intent_created >= ${at}`);
  }
  const rows = byMetadata
    ? await query.orderBy(sql`m.intent_created`, order).orderBy(sql`m.payment_intent_id`, order).limit(window.limit + 1).execute()
    : await query.orderBy(column('created', !few), order).orderBy(column('id', !few), order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}

/**
 * An event's object id, as the expression index `events_object` (migration 0070) stores it. The
 * path is a literal, not a bound parameter: both databases use an expression index only for the
 * very same expression text.
 */
export function eventObjectId(kind: DatabaseKind): RawBuilder<string> {
  return kind === 'sqlite'
    ? sql<string>`json_extract(${sql.ref('data')}, '$.object.id')`
    : sql<string>`((${sql.ref('data')})::jsonb -> 'object' ->> 'id')`;
}

export interface PaymentHistoryRows {
  attempts: PaymentAttemptRow[];
  charges: ChargeRow[];
  refunds: RefundRow[];
  disputes: DisputeRow[];
  attention: AttentionItemRow[];
  paymentMethod: PaymentMethodRow | undefined;
  events: EventRow[];
  deliveries: (WebhookDeliveryRow & { endpoint_url: string })[];
  deliveryAttempts: WebhookDeliveryAttemptRow[];
}

/** Bounds what one detail page reads, so a PaymentIntent with a storm of events stays one quick page. */
export const HISTORY_ROWS_MAX = 500;

/** Everything recorded about one PaymentIntent (already found in the caller's scope). */
export async function findPaymentHistory(ex: Executor, kind: DatabaseKind, intent: PaymentIntentRow): Promise<PaymentHistoryRows> {
  const scope = { accountId: intent.account_id, livemode: intent.livemode === 1 };
  const [attempts, charges, refunds, disputes, attention, paymentMethod] = await Promise.all([
    ex.selectFrom('payment_attempts').selectAll().where('payment_intent_id', '=', intent.id).orderBy('created').limit(HISTORY_ROWS_MAX).execute(),
    ex.selectFrom('charges').selectAll().where('payment_intent_id', '=', intent.id).limit(HISTORY_ROWS_MAX).execute(),
    ex.selectFrom('refunds').selectAll().where('payment_intent_id', '=', intent.id).orderBy('created').limit(HISTORY_ROWS_MAX).execute(),
    ex.selectFrom('disputes').selectAll().where('payment_intent_id', '=', intent.id).orderBy('created').limit(HISTORY_ROWS_MAX).execute(),
    ex.selectFrom('attention_items').selectAll().where('payment_intent_id', '=', intent.id)
      .where('account_id', '=', scope.accountId).where('livemode', '=', bool(scope.livemode)).limit(HISTORY_ROWS_MAX).execute(),
    intent.payment_method === null
      ? Promise.resolve(undefined)
      : ex.selectFrom('payment_methods').selectAll().where('id', '=', intent.payment_method)
        .where('account_id', '=', scope.accountId).where('livemode', '=', bool(scope.livemode)).executeTakeFirst(),
  ]);
  // The events of the PaymentIntent and of every object hanging off it (charge, refund, dispute).
  const objectIds = [intent.id, ...charges.map((c) => c.id), ...refunds.map((r) => r.id), ...disputes.map((d) => d.id)];
  const events = await ex.selectFrom('events').selectAll()
    .where('account_id', '=', scope.accountId).where('livemode', '=', bool(scope.livemode))
    .where(eventObjectId(kind), 'in', objectIds)
    // No ORDER BY: it would draw SQLite (no statistics) to events_list and a walk of the account's
    // events; the timeline is sorted by the core anyway.
    .limit(HISTORY_ROWS_MAX).execute();
  const eventIds = events.map((e) => e.id);
  const deliveries = eventIds.length === 0 ? [] : await ex.selectFrom('webhook_deliveries')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
    .selectAll('webhook_deliveries').select('webhook_endpoints.url as endpoint_url')
    .where('webhook_deliveries.event_id', 'in', eventIds)
    .where('webhook_deliveries.account_id', '=', scope.accountId)
    .orderBy('webhook_deliveries.created').limit(HISTORY_ROWS_MAX).execute();
  const deliveryAttempts = deliveries.length === 0 ? [] : await ex.selectFrom('webhook_delivery_attempts').selectAll()
    .where('delivery_id', 'in', deliveries.map((d) => d.id)).orderBy('attempted_at').limit(HISTORY_ROWS_MAX).execute();
  return { attempts, charges, refunds, disputes, attention, paymentMethod, events, deliveries, deliveryAttempts };
}
