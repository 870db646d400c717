/**
 * The gateway's public entry points, for the CLI and tests.
 */
export { loadConfig, databaseKind, ConfigError } from './config.js';
export type { GatewayConfig } from './config.js';
export { systemClock } from './clock.js';
export type { Clock } from './clock.js';
export { createIdGenerator, newClientSecret } from './ids.js';
export type { IdGenerator } from './ids.js';
export { openDatabase, inTransaction, isReachable } from './store/database.js';
export type { Database, DatabaseKind, OpenDatabaseOptions } from './store/database.js';
export { migrate, MIGRATIONS } from './store/migrations.js';
export { createAccount, createApiKeys, ensureDefaultAccount, hashApiKey } from './core/accounts.js';
export type { AccountInput, ApiKeyPair, DefaultAccount } from './core/accounts.js';
export { recordAttemptFailed, recordAttemptSucceeded } from './core/payment_attempts.js';
export type { AttemptFailureResult, AttemptSuccessResult, SuccessDetails } from './core/payment_attempts.js';
export type { CoreDeps } from './core/context.js';
export type * from './connector/types.js';
export { buildGatewayApp } from './http/app.js';
export type { GatewayAppOptions } from './http/app.js';
export { createGatewayLogger } from './http/logging.js';
export { startGateway } from './server.js';
export type { RunningGateway, StartGatewayOptions } from './server.js';
export { GatewayWorker } from './workers/worker.js';
export type { GatewayWorkerOptions } from './workers/worker.js';
