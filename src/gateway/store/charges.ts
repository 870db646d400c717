import type { ChargeRow, Executor } from './schema.js';
import { Precompiled, insertParameters, insertShape } from './precompiled.js';
import { keysetConditions, keysetOrder, takePage } from './pagination.js';
import type { ListWindow } from './pagination.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

/**
 * Records the Charge of a succeeded attempt. The unique payment_attempt_id makes a second
 * report of the same success (a duplicate notification) fail instead of charging twice.
 */
export function insertChargeForSucceededAttempt(ex: Executor, row: ChargeRow): Promise<unknown> {
  return insertStatement.execute(ex, row);
}

const insertStatement = new Precompiled(
  (ex: Executor, row: ChargeRow) => ex.insertInto('charges').values(row).compile(),
  (row) => insertParameters(row),
  (row) => insertShape(row),
);

export function findChargeByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<ChargeRow | undefined> {
  return ex
    .selectFrom('charges')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}

export async function findChargeByAttemptId(ex: Executor, attemptId: string): Promise<ChargeRow | undefined> {
  return (await byAttemptIdStatement.execute<ChargeRow>(ex, attemptId)).rows[0];
}

const byAttemptIdStatement = new Precompiled(
  (ex: Executor, attemptId: string) => ex.selectFrom('charges').selectAll().where('payment_attempt_id', '=', attemptId).compile(),
  (attemptId) => [attemptId],
);

export interface ChargeFilters {
  paymentIntent?: string;
  customer?: string;
}

export async function listChargesByAccount(ex: Executor, scope: Scope, window: ListWindow, filters: ChargeFilters) {
  let query = ex
    .selectFrom('charges')
    .selectAll()
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode));
  if (filters.paymentIntent !== undefined) query = query.where('payment_intent_id', '=', filters.paymentIntent);
  if (filters.customer !== undefined) query = query.where('customer', '=', filters.customer);
  for (const condition of keysetConditions(window)) query = query.where(condition);
  const order = keysetOrder(window);
  const rows = await query.orderBy('created', order).orderBy('id', order).limit(window.limit + 1).execute();
  return takePage(rows, window);
}
