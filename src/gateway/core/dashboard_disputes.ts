import { invalidRequest, resourceMissing } from '../errors.js';
import { DISPUTE_STATUSES, NEEDS_RESPONSE_STATUSES } from '../domain/disputes.js';
import type { DisputeStatus, Evidence } from '../domain/disputes.js';
import { findDisputeByAccountAndId } from '../store/disputes.js';
import { findDisputeEventRows, listDisputesForDashboard } from '../store/dashboard_disputes.js';
import type { DisputeListOrder } from '../store/dashboard_disputes.js';
import type { DisputeRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps } from './context.js';
import { loadDisputeView } from './dispute_views.js';

export type { DisputeListOrder, DisputeRow };

/**
 * What the dashboard's Disputes pages read (http/dashboard/disputes.ts): the list by status and
 * deadline, and one dispute with its evidence, money and events. Answering (evidence, submit,
 * accept) goes through core/disputes.ts like the API, so it writes the same events and sends the
 * same response to Alipay+.
 */

/** `open`: every dispute still waiting for the merchant's answer (both kinds); or one status. */
export const DISPUTE_STATUS_FILTERS = ['open', ...DISPUTE_STATUSES] as const;
export type DisputeStatusFilter = (typeof DISPUTE_STATUS_FILTERS)[number];
export const DISPUTE_PAGE_SIZE = 25;
/** A dispute has a handful of events; this bounds a pathological one. */
const DISPUTE_EVENTS_MAX = 200;
const DISPUTE_EVENT_TYPES = ['charge.dispute.created', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_withdrawn', 'charge.dispute.funds_reinstated'];

export interface DisputeListParams {
  status: DisputeStatusFilter | null;
  /** Default: by deadline when only open disputes are shown (the ones with a deadline to meet), else newest first. */
  order: DisputeListOrder | null;
  dueBefore: number | null;
  startingAfter: string | null;
  endingBefore: string | null;
  limit?: number;
}

export interface DisputeListWindow {
  order: DisputeListOrder;
  rows: DisputeRow[];
  firstId: string | null;
  lastId: string | null;
  /** More rows follow the last one in this order. */
  hasMore: boolean;
  /** Rows precede the first one in this order. */
  paged: boolean;
}

export function defaultDisputeOrder(status: DisputeStatusFilter | null): DisputeListOrder {
  return status === 'open' || status === 'needs_response' || status === 'warning_needs_response' ? 'deadline' : 'created';
}

function statusesOf(filter: DisputeStatusFilter | null): readonly DisputeStatus[] | null {
  if (filter === null) return null;
  return filter === 'open' ? NEEDS_RESPONSE_STATUSES : [filter];
}

/** One keyset window of the account's disputes in this mode, filtered and ordered for the list page. */
export async function listDisputesPage(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: DisputeListParams): Promise<DisputeListWindow> {
  const db = deps.database.db;
  if (params.startingAfter !== null && params.endingBefore !== null) {
    throw invalidRequest('parameter_invalid', 'You may only specify one of these parameters: ending_before, starting_after.', 'ending_before');
  }
  const order = params.order ?? defaultDisputeOrder(params.status);
  const cursorId = params.startingAfter ?? params.endingBefore;
  let cursor: { direction: 'after' | 'before'; at: DisputeRow } | null = null;
  if (cursorId !== null) {
    const at = await findDisputeByAccountAndId(db, scope, cursorId);
    if (at === undefined) throw invalidRequest('resource_missing', `No such dispute: '${cursorId}'`, params.startingAfter !== null ? 'starting_after' : 'ending_before');
    cursor = { direction: params.startingAfter !== null ? 'after' : 'before', at };
  }
  const page = await listDisputesForDashboard(db, scope, {
    statuses: statusesOf(params.status), dueBefore: params.dueBefore, order, limit: params.limit ?? DISPUTE_PAGE_SIZE, cursor,
  });
  const backwards = cursor?.direction === 'before';
  return {
    order,
    rows: page.rows,
    firstId: page.rows[0]?.id ?? null,
    lastId: page.rows.at(-1)?.id ?? null,
    // Read backwards, the extra row lies before the window and the cursor row after it.
    hasMore: backwards ? true : page.hasMore,
    paged: backwards ? page.hasMore : cursor !== null,
  };
}

export interface DisputeBalanceEntry {
  id: string;
  amount: number;
  currency: string;
  fee: number;
  net: number;
  reporting_category: string;
  status: string;
  available_on: number;
  created: number;
}

export interface DisputeEventEntry {
  id: string;
  type: string;
  created: number;
  /** The dispute's status as the event recorded it. */
  status: string;
  requestId: string | null;
}

export interface DisputeDetail {
  row: DisputeRow;
  evidence: Evidence;
  hasEvidence: boolean;
  isChargeRefundable: boolean;
  balanceTransactions: DisputeBalanceEntry[];
  events: DisputeEventEntry[];
}

/** One dispute of the account and mode (404 for any other, as the API), with what its page shows. */
export async function disputeDetail(deps: Pick<CoreDeps, 'database' | 'clock'>, scope: Scope, id: string): Promise<DisputeDetail> {
  const db = deps.database.db;
  const row = await findDisputeByAccountAndId(db, scope, id);
  if (row === undefined) throw resourceMissing('dispute', id);
  const view = (await loadDisputeView(db, row, deps.clock.now())) as {
    evidence: Evidence; evidence_details: { has_evidence: boolean }; is_charge_refundable: boolean; balance_transactions: DisputeBalanceEntry[];
  };
  const events = (await findDisputeEventRows(db, scope, row, DISPUTE_EVENT_TYPES, DISPUTE_EVENTS_MAX)).flatMap((event) => {
    const object = (JSON.parse(event.data) as { object?: { id?: unknown; status?: unknown } }).object;
    if (object?.id !== row.id) return [];
    return [{ id: event.id, type: event.type, created: event.created, status: String(object.status ?? ''), requestId: event.request_id }];
  });
  return {
    row,
    evidence: view.evidence,
    hasEvidence: view.evidence_details.has_evidence,
    isChargeRefundable: view.is_charge_refundable,
    balanceTransactions: view.balance_transactions,
    events,
  };
}
