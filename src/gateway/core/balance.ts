import type { ConnectorSettlement } from '../connector/types.js';
import { resourceMissing } from '../errors.js';
import { DEFAULT_FEE_SCHEDULE, availableOnMs, convertLikePayment, exchangeRateOf, parseFeeSchedule, paymentFeeMinor } from '../domain/balance.js';
import type { FeeSchedule } from '../domain/balance.js';
import {
  findBalanceTransactionByAccountAndId,
  insertBalanceTransaction,
  listBalanceTransactionsByAccount,
  sumNetByCurrency,
} from '../store/balance_transactions.js';
import type { BalanceTransactionRow, ChargeRow, DisputeRow, Executor, RefundRow } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps } from './context.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import type { ApiObject } from './views.js';

let feeSchedule: FeeSchedule | null = null;

/** The fee schedule: ZHIFU_FEE_SCHEDULE (JSON, see domain/balance.ts) or the default 3.00%. Read once. */
export function currentFeeSchedule(): FeeSchedule {
  feeSchedule ??= process.env.ZHIFU_FEE_SCHEDULE ? parseFeeSchedule(process.env.ZHIFU_FEE_SCHEDULE) : DEFAULT_FEE_SCHEDULE;
  return feeSchedule;
}

/**
 * Records the balance transaction of a succeeded payment, in the caller's transaction, from the
 * settlement amount and quote Alipay+ reported; returns its id, or null when Alipay+ gave no
 * settlement amount (nothing to convert with: the gateway never invents an exchange rate).
 */
export async function recordChargeBalanceInTx(tx: Executor, deps: Pick<CoreDeps, 'ids'>, charge: ChargeRow, paymentRequestId: string, settlement: ConnectorSettlement | null): Promise<string | null> {
  if (settlement === null) return null;
  const fee = paymentFeeMinor(settlement.amountMinor, settlement.currency, currentFeeSchedule());
  const row: BalanceTransactionRow = {
    id: deps.ids.next('txn'),
    account_id: charge.account_id,
    livemode: charge.livemode,
    created: charge.created,
    type: 'charge',
    reporting_category: null,
    source: charge.id,
    payment_intent_id: charge.payment_intent_id,
    amount: settlement.amountMinor,
    currency: settlement.currency,
    fee,
    net: settlement.amountMinor - fee,
    exchange_rate: settlement.quote?.quotePrice ?? null,
    source_amount: charge.amount,
    source_currency: charge.currency,
    available_on: availableOnMs(charge.created),
    quote_id: settlement.quote?.quoteId ?? null,
    alipay_request_id: paymentRequestId,
    alipay_id: charge.transaction_id,
  };
  await insertBalanceTransaction(tx, row);
  return row.id;
}

/** The balance transaction of a succeeded refund (negative, no fee), or null without a settlement amount. */
export async function recordRefundBalanceInTx(tx: Executor, deps: Pick<CoreDeps, 'ids'>, refund: RefundRow, nowMs: number): Promise<string | null> {
  if (refund.settlement_amount === null || refund.settlement_currency === null) return null;
  const quote = refund.settlement_quote === null ? null : (JSON.parse(refund.settlement_quote) as { quoteId: string; quotePrice: string });
  const row: BalanceTransactionRow = {
    id: deps.ids.next('txn'),
    account_id: refund.account_id,
    livemode: refund.livemode,
    created: nowMs,
    type: 'refund',
    reporting_category: null,
    source: refund.id,
    payment_intent_id: refund.payment_intent_id,
    amount: -refund.settlement_amount,
    currency: refund.settlement_currency,
    fee: 0,
    net: -refund.settlement_amount,
    exchange_rate: quote?.quotePrice ?? null,
    source_amount: -refund.amount,
    source_currency: refund.currency,
    available_on: availableOnMs(nowMs),
    quote_id: quote?.quoteId ?? null,
    alipay_request_id: refund.refund_request_id,
    alipay_id: refund.external_refund_id,
  };
  await insertBalanceTransaction(tx, row);
  return row.id;
}

/**
 * The balance transaction of a dispute (api.md §7a): the withdrawal (−amount) when an escalation
 * opens, the reinstatement (+amount) when it is won; in the settlement currency, converted with
 * the payment's quote (the charge's balance transaction), no fee. Null when the charge has no
 * balance transaction (Alipay+ gave no settlement amount: nothing to convert with).
 */
export async function recordDisputeBalanceInTx(
  tx: Executor,
  deps: Pick<CoreDeps, 'ids'>,
  dispute: DisputeRow,
  charge: ChargeRow,
  direction: 'withdrawal' | 'reinstatement',
  nowMs: number,
): Promise<BalanceTransactionRow | null> {
  if (charge.balance_transaction === null) return null;
  const payment = await tx.selectFrom('balance_transactions').selectAll().where('id', '=', charge.balance_transaction).executeTakeFirst();
  if (payment === undefined) return null;
  const settled = convertLikePayment(dispute.amount, { quotePrice: payment.exchange_rate, settledMinor: payment.amount, paidMinor: payment.source_amount });
  const sign = direction === 'withdrawal' ? -1 : 1;
  const row: BalanceTransactionRow = {
    id: deps.ids.next('txn'),
    account_id: dispute.account_id,
    livemode: dispute.livemode,
    created: nowMs,
    type: 'dispute',
    reporting_category: direction === 'withdrawal' ? 'dispute' : 'dispute_reversal',
    source: dispute.id,
    payment_intent_id: dispute.payment_intent_id,
    amount: sign * settled,
    currency: payment.currency,
    fee: 0,
    net: sign * settled,
    exchange_rate: payment.exchange_rate,
    source_amount: sign * dispute.amount,
    source_currency: dispute.currency,
    available_on: availableOnMs(nowMs),
    quote_id: payment.quote_id,
    alipay_request_id: dispute.dispute_request_id,
    alipay_id: dispute.payment_id,
  };
  await insertBalanceTransaction(tx, row);
  return row;
}

/** `GET /v1/balance`: net amounts per settlement currency, available or still pending at the clock's now. */
export async function retrieveBalance(deps: Pick<CoreDeps, 'database' | 'clock'>, scope: Scope): Promise<ApiObject> {
  const sums = await sumNetByCurrency(deps.database.db, scope, deps.clock.now());
  return {
    object: 'balance',
    livemode: scope.livemode,
    available: sums.map((sum) => ({ amount: sum.available, currency: sum.currency })),
    pending: sums.map((sum) => ({ amount: sum.pending, currency: sum.currency })),
  };
}

export async function retrieveBalanceTransaction(deps: Pick<CoreDeps, 'database' | 'clock'>, scope: Scope, id: string): Promise<ApiObject> {
  const row = await findBalanceTransactionByAccountAndId(deps.database.db, scope, id);
  if (row === undefined) throw resourceMissing('balance_transaction', id);
  return balanceTransactionView(row, deps.clock.now());
}

export interface ListBalanceTransactionsParams extends ListParams {
  type?: string | null;
  source?: string | null;
  currency?: string | null;
}

export async function listBalanceTransactions(deps: Pick<CoreDeps, 'database' | 'clock'>, scope: Scope, params: ListBalanceTransactionsParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'balance_transaction', (id) => findBalanceTransactionByAccountAndId(db, scope, id));
  const page = await listBalanceTransactionsByAccount(db, scope, window, {
    ...(params.type == null ? {} : { type: params.type }),
    ...(params.source == null ? {} : { source: params.source }),
    ...(params.currency == null ? {} : { currency: params.currency }),
  });
  const now = deps.clock.now();
  return { data: page.rows.map((row) => balanceTransactionView(row, now)), hasMore: page.hasMore };
}

/** The BalanceTransaction object (api.md §7); `status` follows `available_on` and the clock. */
export function balanceTransactionView(row: BalanceTransactionRow, nowMs: number): ApiObject {
  return {
    id: row.id,
    object: 'balance_transaction',
    created: row.created,
    livemode: row.livemode === 1,
    amount: row.amount,
    currency: row.currency,
    fee: row.fee,
    fee_details: row.fee === 0 ? [] : [{ amount: row.fee, currency: row.currency, type: 'stripe_fee', description: 'Alipay processing fee' }],
    net: row.net,
    exchange_rate: exchangeRateOf(row.exchange_rate),
    type: row.type,
    reporting_category: row.reporting_category ?? row.type,
    source: row.source,
    status: row.available_on <= nowMs ? 'available' : 'pending',
    available_on: row.available_on,
    description: null,
  };
}
