import type { Executor, PaymentMethodRow } from './schema.js';
import { Precompiled, insertParameters, insertShape } from './precompiled.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

export function insertPaymentMethod(ex: Executor, row: PaymentMethodRow): Promise<unknown> {
  return insertStatement.execute(ex, row);
}

export async function findPaymentMethodByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<PaymentMethodRow | undefined> {
  return (await byAccountAndIdStatement.execute<PaymentMethodRow>(ex, scope, id)).rows[0];
}

// Both run on every payment (payment_method_data at create; the billing details at success).
const insertStatement = new Precompiled(
  (ex: Executor, row: PaymentMethodRow) => ex.insertInto('payment_methods').values(row).compile(),
  (row) => insertParameters(row),
  (row) => insertShape(row),
);

const byAccountAndIdStatement = new Precompiled(
  (ex: Executor, scope: Scope, id: string) => ex
    .selectFrom('payment_methods')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .compile(),
  (scope, id) => [id, scope.accountId, bool(scope.livemode)],
);
