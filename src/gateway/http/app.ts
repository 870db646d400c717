import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { GatewayConfig } from '../config.js';
import type { PaymentConnector } from '../connector/types.js';
import { ApiKeyAuthenticator } from '../core/accounts.js';
import type { CoreDeps } from '../core/context.js';
import { createIdGenerator } from '../ids.js';
import type { IdGenerator } from '../ids.js';
import type { Database } from '../store/database.js';
import { installScrapeGauges } from '../metrics/gauges.js';
import { GatewayMetrics } from '../metrics/registry.js';
import { installAuth, requireDeclaredAuth, withRouteAuth } from './auth.js';
import { installRateLimit } from './rate_limit.js';
import { BODY_LIMIT_BYTES, checkPathParameters, checkQuery, installBodyParsers, installGetBodies, parseQuery } from './body.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling, requestLogUrlResolver } from './errors.js';
import { installExpandParameter, installExpandRemoval } from './expand.js';
import { installIdempotency } from './idempotency.js';
import { installRequestLog } from './request_log.js';
import type { RequestLogSink } from '../core/request_logs.js';
import { OneLinePerRequest, requestLoggerFactory, serializeRequest, REDACT_PATHS } from './logging.js';
import { registerAlipayPlusRoutes, type InboundConnector } from './routes/alipayplus.js';
import { registerChargeRoutes } from './routes/charges.js';
import { registerEventRoutes } from './routes/events.js';
import { registerHealthRoutes } from './routes/health.js';
import { registerMetricsRoute } from './routes/metrics.js';
import { registerPaymentIntentRoutes } from './routes/payment_intents.js';
import { registerPaymentMethodRoutes } from './routes/payment_methods.js';
import { registerRefundRoutes } from './routes/refunds.js';
import { registerDisputeRoutes } from './routes/disputes.js';
import { registerBalanceRoutes } from './routes/balance.js';
import { registerWebhookEndpointRoutes } from './routes/webhook_endpoints.js';
import { registerCheckoutSessionRoutes } from './routes/checkout_sessions.js';
import { registerPriceRoutes } from './routes/prices.js';
import { registerProductRoutes } from './routes/products.js';
import { publicUrlOf, registerCheckoutPages } from './pages/checkout.js';
import { registerDashboard } from './dashboard/index.js';
import { collectOperations } from './openapi/operation.js';
import { sharedSchemas } from './openapi/objects.js';
import { registerOpenApiRoutes } from './openapi/routes.js';
import './context.js';

export interface GatewayAppOptions {
  config: GatewayConfig;
  /** An open, migrated database (see openDatabase and migrate). */
  database: Database;
  clock: Clock;
  logger: Logger;
  connector: PaymentConnector;
  /** Defaults to a generator over `clock`. */
  ids?: IdGenerator;
  /** Serves the inbound Alipay+ routes (notifications, the shopper's return) when given. */
  alipayPlus?: InboundConnector;
  /** Called after every answered write request (it may have committed events): wakes the webhook worker. */
  afterWrite?: () => void;
  /** This gateway's metrics (startGateway shares them with its workers); default: a new registry. */
  metrics?: GatewayMetrics;
  /** Receives every answered, authenticated /v1 request (the request log writer); absent: no request log. */
  requestLog?: RequestLogSink;
}

/**
 * Builds the merchant API (api.md §1–3) as a Fastify instance, not yet listening.
 * Infrastructure hooks (request id, auth, body parsing, idempotency, errors) load before routes.
 */
export function buildGatewayApp(options: GatewayAppOptions): FastifyInstance {
  const ids = options.ids ?? createIdGenerator(options.clock);
  const logger = options.logger.child({}, { serializers: { req: serializeRequest }, redact: { paths: REDACT_PATHS, censor: '[REDACTED]' } });
  const metrics = options.metrics ?? new GatewayMetrics();
  installScrapeGauges(metrics, options.database, options.clock);
  const core: CoreDeps = { database: options.database, clock: options.clock, ids, connector: options.connector, logger, metrics };
  const requestLines = new OneLinePerRequest();
  const app: FastifyInstance = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // Request ids are ours (`req_…`); an inbound X-Request-Id is not trusted.
    requestIdHeader: false,
    logController: requestLines,
    childLoggerFactory: requestLoggerFactory,
    genReqId: () => ids.next('req'),
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
    routerOptions: { querystringParser: parseQuery, ignoreTrailingSlash: true },
  });
  requestLines.writeCompletedLinesWith(app.log);
  app.decorate('core', core);
  // Before any route: every route must declare who may call it (auth.ts).
  app.decorate('declaredRoutes', requireDeclaredAuth(app));
  // After it (it settles each route's auth): every /v1 route with its schemas, for /openapi.json.
  const operations = collectOperations(app);
  for (const schema of sharedSchemas()) app.addSchema(schema);
  // Callback-style hooks where nothing is awaited: an async hook costs a promise per request.
  app.addHook('onRequest', (req, reply, done) => {
    void reply.header('Request-Id', req.id);
    checkQuery(req.query);
    if (!req.is404) checkPathParameters(req.params);
    done();
  });
  // Counted when the answer is sent: the route pattern (never the URL, which carries ids) and Fastify's own timing.
  // One hook for both (each hook costs every request its own step through Fastify's hook runner).
  const afterWrite = options.afterWrite ?? null;
  app.addHook('onResponse', (req, reply, done) => {
    metrics.httpAnswered(req.method, req.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
    if (afterWrite !== null && req.method !== 'GET' && req.method !== 'HEAD') afterWrite();
    done();
  });
  installErrorHandling(app, options.requestLog ? requestLogUrlResolver(() => publicUrlOf(app, options.config.publicUrl)) : null);
  installBodyParsers(app);
  const authenticator = new ApiKeyAuthenticator(options.database, options.clock);
  installAuth(app, authenticator);
  // After authentication: only real keys reach the shared counter (rate_limit.ts).
  if (options.config.rateLimitPerSecond) installRateLimit(app, options.config.rateLimitPerSecond, options.database);
  installGetBodies(app);
  installExpandParameter(app);
  installIdempotency(app);
  installExpandRemoval(app);
  if (options.requestLog) installRequestLog(app, options.requestLog, options.clock);
  // The last onSend hook, after every one that writes: nothing is answered (API, hosted pages, the
  // acks to Alipay+) before the commits it reports or read are durable (store/durability.ts).
  const database = options.database;
  app.addHook('onSend', (_req, _reply, payload, done) => {
    database.durable().then(() => done(null, payload), done);
  });
  registerHealthRoutes(app);
  registerMetricsRoute(app, metrics, options.config.metricsToken ?? null);
  registerPaymentIntentRoutes(app);
  registerPaymentMethodRoutes(app);
  registerChargeRoutes(app);
  registerRefundRoutes(app);
  registerDisputeRoutes(app);
  registerBalanceRoutes(app);
  registerEventRoutes(app);
  registerWebhookEndpointRoutes(app);
  registerProductRoutes(app);
  registerPriceRoutes(app);
  registerCheckoutSessionRoutes(app, () => publicUrlOf(app, options.config.publicUrl));
  registerCheckoutPages(app, authenticator);
  registerDashboard(app, { publicUrl: options.config.publicUrl, authenticator });
  const alipayPlus = options.alipayPlus;
  // Inbound Alipay+ traffic carries no API key: notifications prove themselves by their signature, returns by their token.
  if (alipayPlus) withRouteAuth(app, 'none', (scope) => registerAlipayPlusRoutes(scope, alipayPlus));
  registerOpenApiRoutes(app, operations);
  return app;
}
