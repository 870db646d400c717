import type { FastifyInstance, FastifyRequest } from 'fastify';
import { listBalanceTransactions, retrieveBalance, retrieveBalanceTransaction } from '../../core/balance.js';
import { contextOf, routeAuth } from '../context.js';
import { currency, oneOf, parseParams, required, string } from '../schema.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

const listShapeTxn = {
  ...listShape,
  type: oneOf(['charge', 'refund', 'adjustment', 'dispute']),
  source: string({ max: 64, pattern: /^(ch|re)_\d{19}$/, patternHint: 'a ch_ or re_ id' }),
  currency: currency(),
};
/** GET parameters come in the query string; WooshPay also documents JSON bodies on list GETs. */
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

/** api.md §7: the balance and its transactions, in the account's settlement currency. */
export function registerBalanceRoutes(app: FastifyInstance): void {
  const core = app.core;
  app.get('/v1/balance', { ...routeAuth('secret'), ...operation('balance', { operationId: 'RetrieveBalance', summary: 'Retrieve the balance' }) }, async (req) => {
    parseParams({}, queryOf(req));
    return retrieveBalance(core, contextOf(req).scope);
  });
  app.get('/v1/balance_transactions', { ...routeAuth('secret'), ...operation('balance_transaction_list', { operationId: 'ListBalanceTransactions', summary: 'List BalanceTransactions', query: listShapeTxn }) }, async (req) =>
    listEnvelope('/v1/balance_transactions', await listBalanceTransactions(core, contextOf(req).scope, parseParams(listShapeTxn, queryOf(req)))),
  );
  app.get('/v1/balance_transactions/:id', { ...routeAuth('secret'), ...operation('balance_transaction', { operationId: 'RetrieveBalanceTransaction', summary: 'Retrieve a BalanceTransaction' }) }, async (req) => {
    parseParams({}, req.query);
    return retrieveBalanceTransaction(core, contextOf(req).scope, parseParams({ id: required(objectId('txn')) }, req.params).id);
  });
}
