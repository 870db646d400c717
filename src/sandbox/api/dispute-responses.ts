import { API_PATHS, type ResponseEscalationRequest, type ResponseRetrievalRequest } from '../../alipayplus/index.js';
import type { SandboxContext } from '../core/context.js';
import { respondToDispute } from '../core/disputes.js';
import type { ProtocolRoute } from './protocol-route.js';
import { responseEscalationRequestSchema, responseRetrievalRequestSchema, wireValidator } from './wire-schema.js';

/** The acquirer's answer to a retrieval: the information the wallet asked for (or that there is none). */
export function responseRetrievalRoute(ctx: SandboxContext): ProtocolRoute {
  return {
    path: API_PATHS.responseRetrieval,
    faultTarget: 'responseRetrieval',
    validate: wireValidator(responseRetrievalRequestSchema),
    handle: (body, clientId) => respondToDispute(ctx, clientId, 'responseRetrieval', body as unknown as ResponseRetrievalRequest),
  };
}

/** The acquirer's answer to an escalation: a defence (REFUSE_REFUND) or a concession (ACCEPT_REFUND). */
export function responseEscalationRoute(ctx: SandboxContext): ProtocolRoute {
  return {
    path: API_PATHS.responseEscalation,
    faultTarget: 'responseEscalation',
    validate: wireValidator(responseEscalationRequestSchema),
    handle: (body, clientId) => respondToDispute(ctx, clientId, 'responseEscalation', body as unknown as ResponseEscalationRequest),
  };
}
