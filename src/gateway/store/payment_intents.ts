import { sql } from 'kysely';
import type { Expression, SqlBool, Updateable } from 'kysely';
import type { Executor, NewPaymentIntentRow, PaymentIntentRow, PaymentIntentsTable } from './schema.js';
import type { DatabaseKind } from './database.js';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import { Precompiled, insertParameters, insertShape } from './precompiled.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

const insertStatement = new Precompiled(
  (ex: Executor, row: NewPaymentIntentRow) => ex.insertInto('payment_intents').values(row).compile(),
  (row) => insertParameters(row),
  (row) => insertShape(row),
);

export function insertPaymentIntent(ex: Executor, row: NewPaymentIntentRow): Promise<unknown> {
  return insertStatement.execute(ex, row);
}

const byAccountAndIdStatement = new Precompiled(
  (ex: Executor, scope: Scope, id: string) => ex
    .selectFrom('payment_intents')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .compile(),
  (scope, id) => [id, scope.accountId, bool(scope.livemode)],
);

const byIdStatement = new Precompiled(
  (ex: Executor, id: string) => ex.selectFrom('payment_intents').selectAll().where('id', '=', id).compile(),
  (id) => [id],
);

export async function findByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<PaymentIntentRow | undefined> {
  return (await byAccountAndIdStatement.execute<PaymentIntentRow>(ex, scope, id)).rows[0];
}

/** For the connector and workers, which act on ids they minted themselves. */
export async function findPaymentIntentById(ex: Executor, id: string): Promise<PaymentIntentRow | undefined> {
  return (await byIdStatement.execute<PaymentIntentRow>(ex, id)).rows[0];
}

type Changes = Omit<Updateable<PaymentIntentsTable>, 'id' | 'account_id' | 'livemode' | 'created' | 'version' | 'updated'>;

/**
 * Compare-and-set on `version`: the write applies only if nobody changed the row since `current`
 * was read, on both databases and without row locks. Returns the new row, or null on a lost race.
 */
async function writeIfUnchanged(ex: Executor, current: PaymentIntentRow, changes: Changes, nowMs: number): Promise<PaymentIntentRow | null> {
  const result = await writeStatement.execute(ex, current, changes, nowMs);
  if (Number(result.numAffectedRows ?? 0n) !== 1) return null;
  return { ...current, ...changes, version: current.version + 1, updated: nowMs } as PaymentIntentRow;
}

/** One text per set of changed columns: the status moves below, and the update endpoint's combinations. */
const writeStatement = new Precompiled(
  (ex: Executor, current: PaymentIntentRow, changes: Changes, nowMs: number) => ex
    .updateTable('payment_intents')
    .set({ ...changes, version: current.version + 1, updated: nowMs })
    .where('id', '=', current.id)
    .where('version', '=', current.version)
    .compile(),
  (current, changes, nowMs) => [...insertParameters(changes), current.version + 1, nowMs, current.id, current.version],
  (_current, changes) => insertShape(changes),
);

/** Merchant-editable fields (update endpoint), with the status the domain decided. */
export type MerchantFields = Pick<
  Changes,
  | 'amount' | 'currency' | 'description' | 'metadata' | 'merchant_order_id' | 'merchant_user_id' | 'payment_method'
  | 'payment_method_options' | 'payment_method_types' | 'return_url' | 'shipping' | 'receipt_email'
  | 'statement_descriptor' | 'customer' | 'status'
>;

export function recordMerchantUpdate(ex: Executor, current: PaymentIntentRow, fields: MerchantFields, nowMs: number) {
  return writeIfUnchanged(ex, current, fields, nowMs);
}

/** Confirm began: the attempt row exists in `sending`; confirm's parameters are now the intent's. */
export function markProcessing(ex: Executor, current: PaymentIntentRow, fields: MerchantFields, nowMs: number) {
  return writeIfUnchanged(ex, current, { ...fields, status: 'processing', next_action: null, last_payment_error: null }, nowMs);
}

export function markRequiresAction(ex: Executor, current: PaymentIntentRow, nextAction: string, nowMs: number) {
  return writeIfUnchanged(ex, current, { status: 'requires_action', next_action: nextAction }, nowMs);
}

export function markStillProcessing(ex: Executor, current: PaymentIntentRow, nowMs: number) {
  return writeIfUnchanged(ex, current, { status: 'processing' }, nowMs);
}

export function markPaymentFailed(ex: Executor, current: PaymentIntentRow, lastPaymentError: string, nowMs: number) {
  return writeIfUnchanged(ex, current, { status: 'requires_payment_method', next_action: null, last_payment_error: lastPaymentError }, nowMs);
}

export function markSucceeded(ex: Executor, current: PaymentIntentRow, chargeId: string, nowMs: number) {
  return writeIfUnchanged(ex, current, { status: 'succeeded', next_action: null, amount_received: current.amount, latest_charge: chargeId }, nowMs);
}

export function markCanceled(ex: Executor, current: PaymentIntentRow, reason: string | null, nowMs: number) {
  return writeIfUnchanged(ex, current, { status: 'canceled', next_action: null, canceled_at: nowMs, cancellation_reason: reason }, nowMs);
}

export interface PaymentIntentFilters {
  customer?: string;
}

export async function listByAccount(ex: Executor, scope: Scope, window: ListWindow, filters: PaymentIntentFilters) {
  let query = ex
    .selectFrom('payment_intents')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  if (filters.customer !== undefined) query = query.where('customer', '=', filters.customer);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}

/** One `field:'value'` clause of the search query language. */
export type SearchClause =
  | { field: 'merchant_order_id'; value: string }
  | { field: 'status'; value: string }
  | { field: 'metadata'; key: string; value: string };

/**
 * `metadata[key] = value` within the account and mode, from an index on both databases:
 * PostgreSQL as a containment, which the GIN index payment_intents_metadata (migration 0070)
 * answers; SQLite from the side table payment_intent_metadata (migration 0092), which triggers
 * keep equal to the text values of the PaymentIntent's metadata.
 */
export function metadataMatches(kind: DatabaseKind, scope: Scope, key: string, value: string): Expression<SqlBool> {
  if (kind === 'postgres') return sql<SqlBool>`(${sql.ref('metadata')})::jsonb @> ${JSON.stringify({ [key]: value })}::jsonb`;
  return sql<SqlBool>`${sql.ref('payment_intents.id')} in (select m.payment_intent_id from payment_intent_metadata as m
    where m.intent_account_id = ${scope.accountId} and m.intent_livemode = ${bool(scope.livemode)} and m.key = ${key} and m.value = ${value})`;
}

/** SQLite's metadata side table (migration 0092), for a query that reads a search's matches from it in order. */
export const metadataSideTable = sql<{ payment_intent_id: string; key: string; value: string; intent_account_id: string; intent_livemode: number; intent_created: number }>`payment_intent_metadata`;

/** Search: clauses joined with AND, newest first, keyset-paged like lists. */
export async function searchByAccount(ex: Executor, kind: DatabaseKind, scope: Scope, clauses: SearchClause[], window: ListWindow) {
  const condition = (clause: SearchClause): Expression<SqlBool> =>
    clause.field === 'metadata' ? metadataMatches(kind, scope, clause.key, clause.value) : sql<SqlBool>`${sql.ref(`payment_intents.${clause.field}`)} = ${clause.value}`;
  const lead = kind === 'sqlite' ? clauses.find((clause) => clause.field === 'metadata') : undefined;
  if (lead?.field === 'metadata') {
    // SQLite: the matches of one metadata clause are read newest first from the side table's
    // index and stop at the page, whether the value is rare or shared by half the account. The
    // PaymentIntent's own scope columns carry a unary + so the plan cannot start from its indexes.
    const seek = window.cursor?.direction === 'after' ? [sql<SqlBool>`m.intent_created <= ${window.cursor.at.created}`] : [];
    const rows = await ex
      .selectFrom('payment_intents')
      .innerJoin(metadataSideTable.as('m'), (join) => join.onRef('m.payment_intent_id', '=', 'payment_intents.id'))
      .selectAll('payment_intents')
      .where('m.intent_account_id', '=', scope.accountId)
      .where('m.intent_livemode', '=', bool(scope.livemode))
      .where('m.key', '=', lead.key)
      .where('m.value', '=', lead.value)
      .where(sql<SqlBool>`+${sql.ref('payment_intents.account_id')} = ${scope.accountId}`)
      .where(sql<SqlBool>`+${sql.ref('payment_intents.livemode')} = ${bool(scope.livemode)}`)
      .where((eb) => eb.and([...clauses.filter((clause) => clause !== lead).map(condition), ...keysetConditions(window), ...seek]))
      .orderBy('m.intent_created', 'desc')
      .orderBy('m.payment_intent_id', 'desc')
      .limit(window.limit + 1)
      .execute();
    return takePage(rows, window);
  }
  let query = ex
    .selectFrom('payment_intents')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  for (const clause of clauses) query = query.where(condition(clause));
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const rows = await query.orderBy('created', 'desc').orderBy('id', 'desc').limit(window.limit + 1).execute();
  return takePage(rows, window);
}
