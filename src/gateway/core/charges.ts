import { resourceMissing } from '../errors.js';
import { findChargeByAccountAndId, listChargesByAccount } from '../store/charges.js';
import type { Scope } from '../store/scope.js';
import type { CoreDeps } from './context.js';
import { listWindow } from './lists.js';
import type { ListParams, Page } from './lists.js';
import { chargeView } from './views.js';
import type { ApiObject } from './views.js';

export async function retrieveCharge(deps: Pick<CoreDeps, 'database'>, scope: Scope, id: string): Promise<ApiObject> {
  const row = await findChargeByAccountAndId(deps.database.db, scope, id);
  if (row === undefined) throw resourceMissing('charge', id);
  return chargeView(row);
}

export interface ListChargesParams extends ListParams {
  payment_intent?: string | null;
  customer?: string | null;
}

export async function listCharges(deps: Pick<CoreDeps, 'database'>, scope: Scope, params: ListChargesParams): Promise<Page<ApiObject>> {
  const db = deps.database.db;
  const window = await listWindow(params, 'charge', (id) => findChargeByAccountAndId(db, scope, id));
  const page = await listChargesByAccount(db, scope, window, {
    ...(params.payment_intent == null ? {} : { paymentIntent: params.payment_intent }),
    ...(params.customer == null ? {} : { customer: params.customer }),
  });
  return { data: page.rows.map(chargeView), hasMore: page.hasMore };
}
