import type { FastifyInstance, FastifyRequest } from 'fastify';
import { closeDispute, listDisputes, retrieveDispute, updateDispute } from '../../core/disputes.js';
import { EVIDENCE_FIELDS, EVIDENCE_TEXT_MAX } from '../../domain/disputes.js';
import { contextOf, routeAuth } from '../context.js';
import { boolean, metadata, object, parseParams, required, string } from '../schema.js';
import type { Shape } from '../schema.js';
import { listEnvelope, listShape, objectId } from './schemas.js';
import { operation } from '../openapi/operation.js';

/** Stripe's evidence fields, all text (its file fields take text here); their total is checked by the core. */
const evidenceShape = Object.fromEntries(EVIDENCE_FIELDS.map((field) => [field, string({ max: EVIDENCE_TEXT_MAX })])) as Record<(typeof EVIDENCE_FIELDS)[number], ReturnType<typeof string>> & Shape;

/** api.md §7a. `submit` defaults to true when evidence is given (Stripe); metadata alone never submits. */
const updateShape = { evidence: object(evidenceShape), metadata: metadata(), submit: boolean() };
const listDisputesShape = { ...listShape, charge: objectId('ch'), payment_intent: objectId('pi') };

const idOf = (req: FastifyRequest) => parseParams({ id: required(objectId('dp')) }, req.params).id;
/** GET parameters come in the query string; WooshPay also documents JSON bodies on list GETs. */
const queryOf = (req: FastifyRequest) => ({ ...((req.body as object | undefined) ?? {}), ...(req.query as object) });

export function registerDisputeRoutes(app: FastifyInstance): void {
  const core = app.core;
  const list = async (req: FastifyRequest) => listEnvelope('/v1/disputes', await listDisputes(core, contextOf(req).scope, parseParams(listDisputesShape, queryOf(req))));
  app.get('/v1/disputes', { ...routeAuth('secret'), ...operation('dispute_list', { operationId: 'ListDisputes', summary: 'List Disputes', query: listDisputesShape }) }, list);
  // WooshPay's spelling of the list.
  app.get('/v1/disputes/list', { ...routeAuth('secret'), ...operation('dispute_list', { operationId: 'ListDisputesWooshPay', summary: 'List Disputes (WooshPay spelling)', query: listDisputesShape }) }, list);
  app.get('/v1/disputes/:id', { ...routeAuth('secret'), ...operation('dispute', { operationId: 'RetrieveDispute', summary: 'Retrieve a Dispute' }) }, async (req) => {
    parseParams({}, req.query);
    return retrieveDispute(core, contextOf(req).scope, idOf(req));
  });
  app.post('/v1/disputes/:id', { ...routeAuth('secret'), ...operation('dispute', { operationId: 'UpdateDispute', summary: 'Update a Dispute (evidence, submit)', body: updateShape }) }, async (req) => {
    const id = idOf(req);
    return updateDispute(core, contextOf(req), id, parseParams(updateShape, req.body ?? {}));
  });
  app.post('/v1/disputes/:id/close', { ...routeAuth('secret'), ...operation('dispute', { operationId: 'CloseDispute', summary: 'Close a Dispute (accept it)' }) }, async (req) => {
    const id = idOf(req);
    parseParams({}, req.body ?? {});
    return closeDispute(core, contextOf(req), id);
  });
}
