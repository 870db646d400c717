import { PAYMENT_INTENT_STATUSES, transition } from '../domain/payment_intents.js';
import { DAY_MS, utcDayStart } from '../domain/days.js';
import type { PaymentIntentStatus } from '../domain/payment_intents.js';
import { CURRENCIES, currencyInfo } from '../domain/money.js';
import { invalidRequest, resourceMissing } from '../errors.js';
import { findPaymentHistory, listDashboardPayments } from '../store/dashboard_payments.js';
import type { DashboardPaymentFilters } from '../store/dashboard_payments.js';
import type { ListWindow } from '../store/pagination.js';
import { findByAccountAndId } from '../store/payment_intents.js';
import type { ChargeRow, PaymentIntentRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps } from './context.js';
import { listWindow } from './lists.js';

/**
 * The dashboard's Payments pages: the operator's filters (typed in a form, so checked here with
 * clear 400s), the list page, and one PaymentIntent with everything that happened to it as a
 * timeline. Reads only; the pages' actions (refund, cancel) go through the API's own core
 * functions (createRefund, cancelPaymentIntent).
 */

/** Rows per page of the list. */
export const PAYMENTS_PAGE_SIZE = 25;

/** The filter "needs attention": not a PaymentIntent status, but PaymentIntents with attention items. */
export const ATTENTION_FILTER = 'requires_attention';

/** The list page's query as typed (every field optional, all strings). */
export interface PaymentListQuery {
  status?: string;
  currency?: string;
  /** `YYYY-MM-DD`, UTC, inclusive. */
  from?: string;
  to?: string;
  /** Major units of the chosen currency (e.g. `12.50`), inclusive. */
  amount_min?: string;
  amount_max?: string;
  /** `pi_…`, a merchant_order_id, or `key:value` for metadata. */
  q?: string;
  starting_after?: string;
  ending_before?: string;
}

export type SearchTarget =
  | { kind: 'id'; id: string }
  | { kind: 'merchant_order_id'; value: string }
  | { kind: 'metadata'; key: string; value: string };

const METADATA_KEY = /^[A-Za-z0-9_.-]{1,40}$/;
/** Values longer than this cannot be a stored merchant_order_id or metadata value (api.md limits). */
const SEARCH_LENGTH_MAX = 500;

/**
 * What the search box holds: a PaymentIntent id (`pi_…`), metadata as `key:value`, or else a
 * merchant_order_id. An order id containing a colon is searched as `merchant_order_id:<value>`.
 */
export function parseSearch(text: string): SearchTarget | null {
  const q = text.trim();
  if (q === '') return null;
  if (q.length > SEARCH_LENGTH_MAX) throw invalidRequest('parameter_invalid', `The search text is longer than ${SEARCH_LENGTH_MAX} characters.`, 'q');
  if (/^pi_[A-Za-z0-9]+$/.test(q)) return { kind: 'id', id: q };
  const colon = q.indexOf(':');
  if (colon > 0) {
    const key = q.slice(0, colon).trim();
    const value = q.slice(colon + 1).trim();
    if (key === 'merchant_order_id') return { kind: 'merchant_order_id', value };
    if (!METADATA_KEY.test(key)) {
      throw invalidRequest('parameter_invalid', `"${key}" is not a metadata key: keys are 1 to 40 letters, digits, "_", "-" or ".". Search an order number containing ":" as merchant_order_id:<value>.`, 'q');
    }
    return { kind: 'metadata', key, value };
  }
  return { kind: 'merchant_order_id', value: q };
}

/** A `YYYY-MM-DD` date as the UTC midnight it starts at. */
function dateStart(text: string, param: string): number {
  const ms = utcDayStart(text);
  if (ms === null) throw invalidRequest('parameter_invalid', `"${text}" is not a date: use YYYY-MM-DD (UTC).`, param);
  return ms;
}

/**
 * An amount typed in major units (`12`, `12.5`, `12.50`) as minor units of the currency
 * (its exponent from domain/money.ts; without a currency, 2 — every currency Zhifu processes).
 * Exact string arithmetic: no floating point between the operator's digits and the minor units.
 */
export function majorToMinor(text: string, currency: string | undefined, param: string): number {
  const exponent = currency === undefined ? 2 : (currencyInfo(currency)?.exponent ?? 2);
  const pattern = exponent === 0 ? /^(\d{1,15})$/ : new RegExp(`^(\\d{1,15})(?:\\.(\\d{1,${exponent}}))?$`);
  const match = pattern.exec(text.trim().replace(/,/g, ''));
  if (match === null) {
    const example = exponent === 0 ? '100' : `12.${'5'.padEnd(exponent, '0')}`;
    throw invalidRequest('parameter_invalid', `"${text}" is not an amount: use digits with at most ${exponent} decimals, like ${example}.`, param);
  }
  const minor = BigInt(match[1]!) * 10n ** BigInt(exponent) + BigInt((match[2] ?? '').padEnd(exponent, '0') || '0');
  if (minor > BigInt(Number.MAX_SAFE_INTEGER)) throw invalidRequest('parameter_invalid', `"${text}" is too large an amount.`, param);
  return Number(minor);
}

export interface ParsedPaymentQuery {
  filters: DashboardPaymentFilters;
  created: { gte?: number; lt?: number };
  search: SearchTarget | null;
}

/** Checks the list page's query; a mistake is a 400 naming the field. */
export function parsePaymentListQuery(query: PaymentListQuery): ParsedPaymentQuery {
  const filters: DashboardPaymentFilters = {};
  const status = query.status ?? '';
  if (status === ATTENTION_FILTER) filters.attention = true;
  else if (status !== '') {
    if (!(PAYMENT_INTENT_STATUSES as readonly string[]).includes(status)) throw invalidRequest('parameter_invalid', `"${status}" is not a PaymentIntent status.`, 'status');
    filters.status = status;
  }
  const currency = (query.currency ?? '').toUpperCase();
  if (currency !== '') {
    if (currencyInfo(currency) === undefined) throw invalidRequest('parameter_invalid', `"${query.currency}" is not a currency Zhifu knows (${CURRENCIES.map((c) => c.code).join(', ')}).`, 'currency');
    filters.currency = currency;
  }
  if ((query.amount_min ?? '') !== '') filters.amountGte = majorToMinor(query.amount_min!, filters.currency, 'amount_min');
  if ((query.amount_max ?? '') !== '') filters.amountLte = majorToMinor(query.amount_max!, filters.currency, 'amount_max');
  if (filters.amountGte !== undefined && filters.amountLte !== undefined && filters.amountGte > filters.amountLte) {
    throw invalidRequest('parameter_invalid', 'The minimum amount is larger than the maximum.', 'amount_min');
  }
  const created: ParsedPaymentQuery['created'] = {};
  if ((query.from ?? '') !== '') created.gte = dateStart(query.from!, 'from');
  // "to" is inclusive: the whole of that UTC day.
  if ((query.to ?? '') !== '') created.lt = dateStart(query.to!, 'to') + DAY_MS;
  if (created.gte !== undefined && created.lt !== undefined && created.gte >= created.lt) {
    throw invalidRequest('parameter_invalid', 'The start date is after the end date.', 'from');
  }
  const search = parseSearch(query.q ?? '');
  if (search?.kind === 'merchant_order_id') filters.merchantOrderId = search.value;
  if (search?.kind === 'metadata') filters.metadata = { key: search.key, value: search.value };
  return { filters, created, search };
}

export interface PaymentListRow {
  id: string;
  amount: number;
  currency: string;
  status: string;
  description: string | null;
  merchantOrderId: string | null;
  customer: string | null;
  created: number;
}

export interface PaymentListPage {
  /** Set when the search named one PaymentIntent of this scope: the page goes to it. */
  exactId: string | null;
  rows: PaymentListRow[];
  hasMore: boolean;
  paged: boolean;
}

function listRow(row: PaymentIntentRow): PaymentListRow {
  return {
    id: row.id, amount: row.amount, currency: row.currency, status: row.status, description: row.description,
    merchantOrderId: row.merchant_order_id, customer: row.customer, created: row.created,
  };
}

/** One page of the list (newest first, PAYMENTS_PAGE_SIZE rows), or the PaymentIntent an id search names. */
export async function listPaymentsPage(deps: Pick<CoreDeps, 'database'>, scope: Scope, query: PaymentListQuery): Promise<PaymentListPage> {
  const db = deps.database.db;
  const parsed = parsePaymentListQuery(query);
  if (parsed.search?.kind === 'id') {
    const found = await findByAccountAndId(db, scope, parsed.search.id);
    // Another account's or mode's id is simply not found: an empty list, like any other miss.
    return found === undefined ? { exactId: null, rows: [], hasMore: false, paged: false } : { exactId: found.id, rows: [listRow(found)], hasMore: false, paged: false };
  }
  const paging = {
    limit: PAYMENTS_PAGE_SIZE,
    created: parsed.created,
    starting_after: emptyToNull(query.starting_after),
    ending_before: emptyToNull(query.ending_before),
  };
  const window: ListWindow = await listWindow(paging, 'payment_intent', (id) => findByAccountAndId(db, scope, id));
  const page = await listDashboardPayments(db, deps.database.kind, scope, window, parsed.filters);
  // Going back (ending_before), the page's own hasMore tells whether newer rows remain; older ones do (the cursor).
  const back = window.cursor?.direction === 'before';
  return { exactId: null, rows: page.rows.map(listRow), hasMore: back || page.hasMore, paged: back ? page.hasMore : window.cursor !== null };
}

function emptyToNull(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

/** One thing that happened, for the detail page's timeline (oldest first). */
export type TimelineEntry =
  | { kind: 'event'; at: number; id: string; type: string; requestId: string | null; pendingWebhooks: number }
  | {
    kind: 'attempt'; at: number; id: string; paymentRequestId: string; terminalType: string; osType: string | null; status: string; amount: number; currency: string;
    externalPaymentId: string | null; failureCode: string | null; failureMessage: string | null; reversal: string | null; updated: number;
  }
  | {
    kind: 'delivery'; at: number; id: string; eventId: string; eventType: string; endpointUrl: string; status: string; attemptCount: number;
    lastStatusCode: number | null; lastLatencyMs: number | null; lastError: string | null; attempts: { at: number; statusCode: number | null; latencyMs: number; error: string | null }[];
  }
  | {
    kind: 'refund'; at: number; id: string; amount: number; currency: string; status: string; reason: string | null; failureReason: string | null;
    failureCode: string | null; refundRequestId: string; updated: number;
  }
  | { kind: 'dispute'; at: number; id: string; disputeKind: string; status: string; amount: number; currency: string; reason: string; dueBy: number | null }
  | { kind: 'attention'; at: number; id: string; object: string; requestId: string; reason: string };

export interface PaymentDetail {
  id: string;
  status: string;
  amount: number;
  amountReceived: number;
  currency: string;
  created: number;
  description: string | null;
  merchantOrderId: string | null;
  merchantUserId: string | null;
  customer: string | null;
  metadata: Record<string, string>;
  lastPaymentError: string | null;
  checkoutSession: string | null;
  cancellationReason: string | null;
  canceledAt: number | null;
  charge: { id: string; status: string; wallet: string | null; buyerId: string | null; transactionId: string | null; disputed: boolean } | null;
  paymentMethod: { id: string; type: string } | null;
  /** Succeeded refunds, and pending ones still reserved against the charge. */
  amountRefunded: number;
  amountRefundPending: number;
  /** What a refund may still take (captured − refunds reserved − disputes reserved); 0 without a charge. */
  amountRefundable: number;
  /** The charge has an open escalation: Alipay+ decides the money, refunds are refused meanwhile. */
  refundBlockedByDispute: boolean;
  cancelable: boolean;
  timeline: TimelineEntry[];
}

function lastErrorText(json: string | null): string | null {
  if (json === null) return null;
  const error = JSON.parse(json) as { code?: string; message?: string };
  return [error.code, error.message].filter((part) => part !== undefined && part !== '').join(': ') || null;
}

function refundable(charge: ChargeRow | undefined): number {
  if (charge === undefined || charge.status !== 'succeeded') return 0;
  return Math.max(0, charge.amount_captured - (charge.amount_refund_reserved ?? 0) - (charge.amount_dispute_reserved ?? 0));
}

/** One PaymentIntent of the operator's scope with its whole history; another scope's is 404. */
export async function paymentDetail(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<PaymentDetail> {
  const db = deps.database.db;
  const intent = /^pi_[A-Za-z0-9]+$/.test(id) ? await findByAccountAndId(db, scope, id) : undefined;
  if (intent === undefined) throw resourceMissing('payment_intent', id);
  const history = await findPaymentHistory(db, deps.database.kind, intent);
  const charge = history.charges.find((c) => c.id === intent.latest_charge) ?? history.charges[0];
  const attemptsOfDelivery = new Map<string, TimelineEntry & { kind: 'delivery' }>();
  const timeline: TimelineEntry[] = [
    ...history.events.map((e): TimelineEntry => ({ kind: 'event', at: e.created, id: e.id, type: e.type, requestId: e.request_id, pendingWebhooks: e.pending_webhooks })),
    ...history.attempts.map((a): TimelineEntry => ({
      kind: 'attempt', at: a.created, id: a.id, paymentRequestId: a.payment_request_id, terminalType: a.terminal_type, osType: a.os_type, status: a.status,
      amount: a.amount, currency: a.currency, externalPaymentId: a.external_payment_id, failureCode: a.failure_code, failureMessage: a.failure_message,
      reversal: a.reversal, updated: a.updated,
    })),
    ...history.deliveries.map((d): TimelineEntry => {
      const entry: TimelineEntry & { kind: 'delivery' } = {
        kind: 'delivery', at: d.created, id: d.id, eventId: d.event_id, eventType: d.event_type, endpointUrl: d.endpoint_url, status: d.status,
        attemptCount: d.attempt_count, lastStatusCode: d.last_status_code, lastLatencyMs: d.last_latency_ms, lastError: d.last_error, attempts: [],
      };
      attemptsOfDelivery.set(d.id, entry);
      return entry;
    }),
    ...history.refunds.map((r): TimelineEntry => ({
      kind: 'refund', at: r.created, id: r.id, amount: r.amount, currency: r.currency, status: r.status, reason: r.reason, failureReason: r.failure_reason,
      failureCode: r.failure_code, refundRequestId: r.refund_request_id, updated: r.updated,
    })),
    ...history.disputes.map((d): TimelineEntry => ({
      kind: 'dispute', at: d.created, id: d.id, disputeKind: d.kind, status: d.status, amount: d.amount, currency: d.currency, reason: d.reason, dueBy: d.due_by,
    })),
    ...history.attention.map((a): TimelineEntry => ({ kind: 'attention', at: a.created, id: a.id, object: a.object, requestId: a.request_id, reason: a.reason })),
  ];
  for (const attempt of history.deliveryAttempts) {
    attemptsOfDelivery.get(attempt.delivery_id)?.attempts.push({ at: attempt.attempted_at, statusCode: attempt.status_code, latencyMs: attempt.latency_ms, error: attempt.error });
  }
  // Oldest first; at the same millisecond the object comes before the events it caused.
  const order: Record<TimelineEntry['kind'], number> = { attempt: 0, refund: 0, dispute: 0, attention: 1, event: 2, delivery: 3 };
  timeline.sort((a, b) => a.at - b.at || order[a.kind] - order[b.kind] || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const pendingRefunds = history.refunds.filter((r) => r.status === 'pending').reduce((sum, r) => sum + r.amount, 0);
  return {
    id: intent.id,
    status: intent.status,
    amount: intent.amount,
    amountReceived: intent.amount_received,
    currency: intent.currency,
    created: intent.created,
    description: intent.description,
    merchantOrderId: intent.merchant_order_id,
    merchantUserId: intent.merchant_user_id,
    customer: intent.customer,
    metadata: JSON.parse(intent.metadata) as Record<string, string>,
    lastPaymentError: lastErrorText(intent.last_payment_error),
    checkoutSession: intent.checkout_session,
    cancellationReason: intent.cancellation_reason,
    canceledAt: intent.canceled_at,
    charge: charge === undefined ? null : {
      id: charge.id, status: charge.status, wallet: charge.wallet, buyerId: charge.buyer_id, transactionId: charge.transaction_id, disputed: charge.disputed === 1,
    },
    paymentMethod: history.paymentMethod === undefined ? null : { id: history.paymentMethod.id, type: history.paymentMethod.type },
    amountRefunded: charge?.amount_refunded ?? 0,
    amountRefundPending: pendingRefunds,
    amountRefundable: refundable(charge),
    refundBlockedByDispute: (charge?.open_escalations ?? 0) > 0,
    cancelable: transition(intent.status as PaymentIntentStatus, { kind: 'cancel', createdByCheckoutSession: intent.checkout_session !== null }).ok,
    timeline,
  };
}
