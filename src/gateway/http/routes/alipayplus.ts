import type { FastifyInstance } from 'fastify';
import { result } from '../../../alipayplus/index.js';
import { NOTIFY_PATHS, RETURN_PATH_PREFIX, type AlipayPlusGateway, type Mode } from '../../connector/alipayplus/modes.js';
import { handlePaymentNotification } from '../../connector/alipayplus/notification.js';
import { returnRedirect } from '../../connector/alipayplus/return.js';
import { BODY_LIMIT_BYTES } from '../body.js';

/**
 * Inbound Alipay+ traffic: signed notifyPayment (one path per mode) and the shopper's return
 * from the wallet. Notifications are read raw, because their signature covers the exact bytes.
 */
export function registerAlipayPlusRoutes(app: FastifyInstance, alipayPlus: AlipayPlusGateway): void {
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) => done(null, body));
    for (const mode of ['test', 'live'] as const) registerNotifyRoute(scope, app, alipayPlus, mode);
  });

  app.get(`${RETURN_PATH_PREFIX}:paymentIntentId`, async (req, reply) => {
    const { paymentIntentId } = req.params as { paymentIntentId: string };
    const token = (req.query as Record<string, unknown>).token;
    const target = await returnRedirect(app.core, alipayPlus, paymentIntentId, typeof token === 'string' ? token : '');
    if (target === null) {
      return reply.code(404).type('text/plain; charset=utf-8').send('Unknown or expired payment return link. 支付返回链接无效。');
    }
    return reply.redirect(target, 303);
  });
}

function registerNotifyRoute(scope: FastifyInstance, app: FastifyInstance, alipayPlus: AlipayPlusGateway, mode: Mode): void {
  const path = NOTIFY_PATHS[mode];
  scope.post(path, async (req, reply) => {
    const side = alipayPlus.receiver(mode);
    if (side === null) return reply.code(404).send({ error: { type: 'invalid_request_error', code: 'resource_missing', message: `${mode} mode has no Alipay+ endpoint configured` } });
    const raw = typeof req.body === 'string' ? req.body : '';
    const inbound = side.receiver.verifyRequest(path, req.headers, raw);
    let body: object;
    if (!inbound.ok) {
      req.log.warn({ mode, reason: inbound.result.resultMessage }, 'rejected an unverifiable Alipay+ notification');
      body = { result: inbound.result };
    } else {
      const disposition = await handlePaymentNotification(app.core, mode, inbound.body);
      if (!disposition.ack) req.log.warn({ mode, note: disposition.note }, 'Alipay+ notification not acknowledged');
      body = disposition.ack ? { result: result('SUCCESS') } : { result: disposition.result };
    }
    const signed = side.receiver.reply(path, side.clientId, body);
    return reply.code(200).headers({ ...signed.headers }).send(signed.body);
  });
}
