import type { KeyObject } from 'node:crypto';
import { resolve } from 'node:path';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { API_PATHS, SignedReceiver, headerValue, loadPrivateKey, loadPublicKey, result } from '../alipayplus/index.js';
import { cancelPaymentRoute } from './api/cancel-payment.js';
import { responseEscalationRoute, responseRetrievalRoute } from './api/dispute-responses.js';
import { inquiryPaymentRoute } from './api/inquiry-payment.js';
import { payRoute } from './api/pay.js';
import { registerProtocolRoute } from './api/protocol-route.js';
import { refundRoute } from './api/refund.js';
import { systemClock, type Clock } from './clock.js';
import { registerControlRoutes } from './control/routes.js';
import type { SandboxContext } from './core/context.js';
import { Notifier, type NotifierOptions } from './notifier/notifier.js';
import { registerCashierPage } from './pages/cashier.js';
import { registerWalletPages } from './pages/wallet.js';
import { openSandboxDatabase } from './store/database.js';
import { commitEachDurability, groupCommitDurability, type GroupCommitFactory } from './store/durability.js';
import { DisputeRepository } from './store/disputes.js';
import { FaultRepository } from './store/faults.js';
import { NotificationRepository } from './store/notifications.js';
import { PaymentRepository } from './store/payments.js';
import { RefundRepository } from './store/refunds.js';

export const SANDBOX_PORT_DEFAULT = 4343;
export const SANDBOX_BODY_BYTES_MAX = 1024 * 1024;
const PROTOCOL_PATHS = new Set<string>(Object.values(API_PATHS));

export interface SandboxOptions {
  /** SQLite file of the sandbox's own state (`:memory:` for throwaway runs). */
  databasePath: string;
  /** The sandbox's (Alipay+'s) private key: signs responses and notifications. */
  privateKey: string | KeyObject;
  /** The acquirers (gateways) the sandbox accepts: Client-Id → their public key. */
  clients: Record<string, string | KeyObject>;
  host?: string;
  port?: number;
  /** Base URL shoppers' browsers use to reach the sandbox; default `http://<host>:<port>`. */
  publicUrl?: string;
  clock?: Clock;
  notifier?: NotifierOptions;
  logger?: FastifyServerOptions['logger'];
  /**
   * Group commit for the SQLite file (see store/durability.ts): commits are fsync'd together, off
   * the event loop, and every answer and notification waits for theirs. Default: an fsync in
   * every COMMIT. Ignored for `:memory:`.
   */
  groupCommit?: GroupCommitFactory;
}

export interface Sandbox {
  app: FastifyInstance;
  context: SandboxContext;
  notifier: Notifier;
  /** Starts listening (and the notifier); resolves with the base URL. */
  listen(): Promise<string>;
  url(): string;
  close(): Promise<void>;
}

/**
 * The embedded Alipay+ sandbox: the protocol API, the cashier and wallet pages, the notifier and
 * the control API, over its own SQLite store. It shares nothing with the gateway but the
 * protocol library.
 */
export function createSandbox(options: SandboxOptions): Sandbox {
  // One log line per request (Fastify's own logging writes two: received and completed).
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: SANDBOX_BODY_BYTES_MAX, logController: new LogController({ disableRequestLogging: true }) });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info({ method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 }, 'request completed');
  });
  const db = openSandboxDatabase(options.databasePath);
  const durability = options.groupCommit && options.databasePath !== ':memory:' ? groupCommitDurability(db, resolve(options.databasePath), options.groupCommit) : commitEachDurability;
  // Nothing is answered before what it says is on disk: the payload waits here for the barrier.
  app.addHook('onSend', async (request, reply, payload) => {
    try {
      await durability.durable();
      return payload;
    } catch (error) {
      // What was committed may not survive a power loss: answer nothing that depends on it.
      request.log.error({ err: error }, 'sandbox database could not be made durable');
      reply.code(500).header('content-type', 'application/json; charset=utf-8');
      for (const name of ['signature', 'client-id', 'response-time']) reply.removeHeader(name);
      return JSON.stringify({ error: { code: 'storage_unavailable', message: 'the sandbox could not make its state durable' } });
    }
  });
  let baseUrl = options.publicUrl?.replace(/\/+$/, '') ?? '';
  const privateKey = loadPrivateKey(options.privateKey);
  const clientKeys = new Map(Object.entries(options.clients).map(([id, key]) => [id, loadPublicKey(key)]));
  const context: SandboxContext = {
    db,
    payments: new PaymentRepository(db),
    refunds: new RefundRepository(db),
    notifications: new NotificationRepository(db),
    faults: new FaultRepository(db),
    disputes: new DisputeRepository(db),
    receiver: new SignedReceiver({ privateKey, peerPublicKeys: clientKeys, now: () => clock.now() }),
    privateKey,
    clientPublicKey: (clientId) => clientKeys.get(clientId),
    clock: options.clock ?? systemClock,
    log: app.log,
    publicUrl: () => baseUrl,
    wakeNotifier: () => notifier.wake(),
    deliverNow: (notificationId) => notifier.deliverNow(notificationId),
    durable: () => durability.durable(),
  };
  const clock = context.clock;
  const notifier = new Notifier(context, options.notifier);

  // Protocol bodies are verified against their exact bytes, so they are read raw, whatever the content type.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.setErrorHandler((error: FastifyErrorLike, request, reply) => handleError(context, error, request, reply));
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } }));

  const routes = [payRoute(context), inquiryPaymentRoute(context), cancelPaymentRoute(context), refundRoute(context), responseRetrievalRoute(context), responseEscalationRoute(context)];
  for (const route of routes) {
    registerProtocolRoute(app, context, route);
  }
  registerCashierPage(app, context);
  registerWalletPages(app, context);
  registerControlRoutes(app, context);
  app.get('/healthz', async () => ({ status: 'ok' }));

  return {
    app,
    context,
    notifier,
    async listen() {
      const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? SANDBOX_PORT_DEFAULT });
      if (!baseUrl) baseUrl = address.replace('[::1]', 'localhost');
      notifier.start();
      return baseUrl;
    },
    url: () => baseUrl,
    async close() {
      await notifier.stop();
      await app.close();
      try {
        await durability.close();
      } finally {
        db.close();
      }
    },
  };
}

type FastifyErrorLike = { statusCode?: number; code?: string; message: string };

/** Protocol paths answer malformed or oversized requests with a signed F result; other routes with a 4xx JSON error. */
function handleError(ctx: SandboxContext, error: FastifyErrorLike, request: FastifyRequest, reply: FastifyReply) {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) ctx.log.error({ err: error }, 'sandbox request failed');
  const path = request.url.split('?')[0] ?? '';
  if (PROTOCOL_PATHS.has(path) && request.method === 'POST') {
    const message = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `request body exceeds ${SANDBOX_BODY_BYTES_MAX} bytes` : error.message;
    const code = status === 500 ? 'UNKNOWN_EXCEPTION' : 'PARAM_ILLEGAL';
    const signed = ctx.receiver.reply(path, headerValue(request.headers, 'Client-Id') ?? '', { result: result(code, message) });
    return reply.code(200).headers({ ...signed.headers }).send(signed.body);
  }
  return reply.code(status).send({ error: { code: error.code ?? 'error', message: status === 500 ? 'internal error' : error.message } });
}
