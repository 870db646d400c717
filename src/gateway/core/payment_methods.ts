import { resourceMissing } from '../errors.js';
import { findPaymentMethodByAccountAndId, insertPaymentMethod } from '../store/payment_methods.js';
import type { Executor } from '../store/schema.js';
import type { Scope } from '../store/scope.js';
import { mergeMetadata } from '../domain/metadata.js';
import type { CoreDeps } from './context.js';
import type { PaymentMethodData } from './params.js';
import { paymentMethodView } from './views.js';
import type { ApiObject } from './views.js';

const EMPTY_BILLING_DETAILS = { address: null, email: null, name: null, phone: null };

/** Creates the `pm_…` row for `payment_method_data` inside the caller's transaction. */
export async function createPaymentMethodInTx(tx: Executor, deps: Pick<CoreDeps, 'clock' | 'ids'>, scope: Scope, data: PaymentMethodData): Promise<string> {
  const id = deps.ids.next('pm');
  await insertPaymentMethod(tx, {
    id,
    account_id: scope.accountId,
    livemode: scope.livemode ? 1 : 0,
    created: deps.clock.now(),
    type: data.type,
    billing_details: JSON.stringify({ ...EMPTY_BILLING_DETAILS, ...(data.billing_details ?? {}) }),
    customer: null,
    metadata: JSON.stringify(mergeMetadata({}, data.metadata ?? {})),
  });
  return id;
}

export async function retrievePaymentMethod(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<ApiObject> {
  const row = await findPaymentMethodByAccountAndId(deps.database.db, scope, id);
  if (row === undefined) throw resourceMissing('payment_method', id);
  return paymentMethodView(row);
}
