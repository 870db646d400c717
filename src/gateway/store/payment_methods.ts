import type { Executor, PaymentMethodRow } from './schema.js';
import { bool } from './scope.js';
import type { Scope } from './scope.js';

export function insertPaymentMethod(ex: Executor, row: PaymentMethodRow): Promise<unknown> {
  return ex.insertInto('payment_methods').values(row).execute();
}

export function findPaymentMethodByAccountAndId(ex: Executor, scope: Scope, id: string): Promise<PaymentMethodRow | undefined> {
  return ex
    .selectFrom('payment_methods')
    .selectAll()
    .where('id', '=', id)
    .where('account_id', '=', scope.accountId)
    .where('livemode', '=', bool(scope.livemode))
    .executeTakeFirst();
}
