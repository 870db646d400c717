import type { FastifyInstance } from 'fastify';
import { DISPUTE_PATHS, NOTIFY_PATHS, RETURN_PATH_PREFIX, type Mode } from '../../connector/alipayplus/paths.js';
import { DISPUTE_CALL_NAMES, type DisputeCallName, type PaymentConnector } from '../../connector/types.js';
import { applyDisputeCall } from '../../core/dispute_inbound.js';
import { applyPaymentNotification } from '../../core/network_outcomes.js';
import { returnRedirect } from '../../core/payment_returns.js';
import { BODY_LIMIT_BYTES } from '../body.js';

/** The connector side these routes need: it verifies and parses notifications and dispute calls and signs the answers. */
export type InboundConnector = PaymentConnector &
  Required<Pick<PaymentConnector, 'parseNotification' | 'replyToNotification' | 'isReturnTokenValid' | 'parseDisputeCall' | 'replyToDisputeCall'>>;

/**
 * Inbound Alipay+ traffic: signed notifyPayment (one path per mode) and the shopper's return
 * from the wallet. Notifications are read raw, because their signature covers the exact bytes.
 * The connector verifies and parses; the core applies (the same function as the worker's inquiry).
 */
export function registerAlipayPlusRoutes(app: FastifyInstance, connector: InboundConnector): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));
    for (const mode of ['test', 'live'] as const) {
      registerNotifyRoute(scope, app, connector, mode);
      for (const call of DISPUTE_CALL_NAMES) registerDisputeRoute(scope, app, connector, mode, call);
    }
  });

  app.get(`${RETURN_PATH_PREFIX}:paymentIntentId`, async (req, reply) => {
    const { paymentIntentId } = req.params as { paymentIntentId: string };
    const token = (req.query as Record<string, unknown>).token;
    const target = await returnRedirect(app.core, connector, paymentIntentId, typeof token === 'string' ? token : '');
    if (target === null) {
      return reply.code(404).type('text/plain; charset=utf-8').send('Unknown or expired payment return link. 支付返回链接无效。');
    }
    return reply.redirect(target, 303);
  });
}

function registerNotifyRoute(scope: FastifyInstance, app: FastifyInstance, connector: InboundConnector, mode: Mode): void {
  const livemode = mode === 'live';
  scope.post(NOTIFY_PATHS[mode], async (req, reply) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const parsed = connector.parseNotification(livemode, req.headers, raw);
    switch (parsed.kind) {
      case 'not_configured':
        return reply.code(404).send({ error: { type: 'invalid_request_error', code: 'resource_missing', message: parsed.reason } });
      case 'refused':
        req.log.warn({ mode, reason: parsed.reason }, 'rejected an unverifiable or malformed Alipay+ notification');
        return reply.code(200).headers({ ...parsed.reply.headers }).send(parsed.reply.body);
      case 'payment': {
        const disposition = await applyPaymentNotification(app.core, parsed);
        if (!disposition.ack) req.log.warn({ mode, note: disposition.note }, 'Alipay+ notification not acknowledged');
        const signed = connector.replyToNotification(livemode, disposition);
        return reply.code(200).headers({ ...signed.headers }).send(signed.body);
      }
    }
  });
}

/**
 * A dispute call from Alipay+ (alipayplus.md §7): read raw, verified by the connector before
 * anything else, applied by the core in one transaction, and only then answered with a signed result.
 */
function registerDisputeRoute(scope: FastifyInstance, app: FastifyInstance, connector: InboundConnector, mode: Mode, call: DisputeCallName): void {
  const livemode = mode === 'live';
  scope.post(DISPUTE_PATHS[mode][call], async (req, reply) => {
    const raw = typeof req.body === 'string' ? req.body : '';
    const parsed = connector.parseDisputeCall(livemode, call, req.headers, raw);
    switch (parsed.kind) {
      case 'not_configured':
        return reply.code(404).send({ error: { type: 'invalid_request_error', code: 'resource_missing', message: parsed.reason } });
      case 'refused':
        req.log.warn({ mode, call, reason: parsed.reason }, 'rejected an unverifiable or malformed Alipay+ dispute call');
        return reply.code(200).headers({ ...parsed.reply.headers }).send(parsed.reply.body);
      case 'opened':
      case 'decided': {
        const disposition = await applyDisputeCall(app.core, parsed);
        const signed = connector.replyToDisputeCall(livemode, call, disposition);
        return reply.code(200).headers({ ...signed.headers }).send(signed.body);
      }
    }
  });
}
