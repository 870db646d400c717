import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { PaymentConnector } from '../connector/types.js';
import type { IdGenerator } from '../ids.js';
import type { GatewayMetrics } from '../metrics/registry.js';
import type { Database } from '../store/database.js';
import type { Scope } from '../store/scope.js';
import type { IdempotencyClaim } from './idempotency_claim.js';

/** What every service needs, built once per process and passed down (no module-level state). */
export interface CoreDeps {
  database: Database;
  clock: Clock;
  ids: IdGenerator;
  connector: PaymentConnector;
  logger: Logger;
  /** This gateway's Prometheus instruments; absent (tools, some tests): nothing is counted. */
  metrics?: GatewayMetrics;
}

/** Who is asking, for one API request. */
export interface RequestContext {
  scope: Scope;
  /** `req_…` of the HTTP request, recorded on the Events it causes. */
  requestId: string | null;
  /** The request's Idempotency-Key: claimed by its first transaction, completed with its response. */
  idempotency: IdempotencyClaim | null;
}

/** Thrown inside a transaction when a compare-and-set lost a race; the whole unit is retried. */
export class ConcurrentUpdate extends Error {
  override name = 'ConcurrentUpdate';
}
