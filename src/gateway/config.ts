import path from 'node:path';
import { parseFeeSchedule } from './domain/balance.js';
import { timeoutInconsistency } from './domain/schedule.js';

/** The gateway's settings, read from the environment variables of api.md §8. */
export interface GatewayConfig {
  port: number;
  host: string;
  /** Base URL for hosted pages and Alipay+ notify/return URLs, without a trailing slash. */
  publicUrl: string;
  dataDir: string;
  /** `sqlite:<path>` or `postgres://…`. */
  databaseUrl: string;
  /** Pins the default account's test secret key instead of generating one. */
  testSecretKey: string | null;
  /** Pins the default account's test publishable key instead of generating one. */
  testPublishableKey: string | null;
  /** Requests per second per API key on /v1 before 429; null or absent: no limit. */
  rateLimitPerSecond?: number | null;
  /**
   * Timeout of one request to Alipay+ (ZHIFU_ALIPAYPLUS_TIMEOUT_MS); absent: the protocol client's
   * default (NETWORK_TIMEOUT_MS_DEFAULT). Bounded
   * by the worker's delays (domain/schedule.ts `timeoutInconsistency`).
   */
  alipayPlusTimeoutMs?: number;
  /** `ZHIFU_METRICS_TOKEN`: when set, `GET /metrics` requires it as a Bearer token; absent: open. */
  metricsToken?: string | null;
  /** Days request logs are kept (ZHIFU_REQUEST_LOG_RETENTION_DAYS); 0 turns request logging off. Absent: 30. */
  requestLogRetentionDays?: number;
  /** ZHIFU_ADMIN_EMAIL / ZHIFU_ADMIN_PASSWORD: an admin of the default account created or pinned at start. */
  admin?: { email: string; password: string } | null;
}

/** Default of ZHIFU_REQUEST_LOG_RETENTION_DAYS. */
export const DEFAULT_REQUEST_LOG_RETENTION_DAYS = 30;

/** Default of ZHIFU_RATE_LIMIT: far above an honest integration, far below what harms the database. */
export const DEFAULT_RATE_LIMIT_PER_SECOND = 1000;

export const DEFAULT_PORT = 4242;
export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_DATA_DIR = './data';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

/** Reads the configuration; throws ConfigError naming the variable when a value is malformed. */
export function loadConfig(env: Env = process.env): GatewayConfig {
  const port = parsePort(env.ZHIFU_PORT);
  const host = nonEmpty(env.ZHIFU_HOST) ?? DEFAULT_HOST;
  const dataDir = nonEmpty(env.ZHIFU_DATA_DIR) ?? DEFAULT_DATA_DIR;
  const publicUrl = (nonEmpty(env.ZHIFU_PUBLIC_URL) ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(publicUrl)) {
    throw new ConfigError(`ZHIFU_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
  }
  const databaseUrl = nonEmpty(env.ZHIFU_DATABASE_URL) ?? `sqlite:${path.join(dataDir, 'zhifu.db')}`;
  databaseKind(databaseUrl);
  const testSecretKey = nonEmpty(env.ZHIFU_TEST_SECRET_KEY);
  const testPublishableKey = nonEmpty(env.ZHIFU_TEST_PUBLISHABLE_KEY);
  if (testSecretKey !== null && !testSecretKey.startsWith('sk_test_')) {
    throw new ConfigError('ZHIFU_TEST_SECRET_KEY must start with sk_test_');
  }
  if (testPublishableKey !== null && !testPublishableKey.startsWith('pk_test_')) {
    throw new ConfigError('ZHIFU_TEST_PUBLISHABLE_KEY must start with pk_test_');
  }
  const rateLimitPerSecond = parseRateLimit(env.ZHIFU_RATE_LIMIT);
  checkFeeSchedule(env.ZHIFU_FEE_SCHEDULE);
  const alipayPlusTimeoutMs = parseTimeout(env.ZHIFU_ALIPAYPLUS_TIMEOUT_MS);
  const metricsToken = nonEmpty(env.ZHIFU_METRICS_TOKEN);
  const requestLogRetentionDays = parseRetentionDays(env.ZHIFU_REQUEST_LOG_RETENTION_DAYS);
  const admin = parseAdmin(env.ZHIFU_ADMIN_EMAIL, env.ZHIFU_ADMIN_PASSWORD);
  return {
    port, host, publicUrl, dataDir, databaseUrl, testSecretKey, testPublishableKey, rateLimitPerSecond,
    ...(metricsToken === null ? {} : { metricsToken }),
    ...(alipayPlusTimeoutMs === null ? {} : { alipayPlusTimeoutMs }),
    ...(requestLogRetentionDays === null ? {} : { requestLogRetentionDays }),
    ...(admin === null ? {} : { admin }),
  };
}

/** Which store a database URL selects; throws ConfigError for anything else. */
export function databaseKind(url: string): 'sqlite' | 'postgres' {
  if (url.startsWith('sqlite:')) return 'sqlite';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  throw new ConfigError(`ZHIFU_DATABASE_URL must be sqlite:<path> or postgres://…, got "${url}"`);
}

function parsePort(raw: string | undefined): number {
  const value = nonEmpty(raw);
  if (value === null) return DEFAULT_PORT;
  const port = Number(value);
  // Port 0 asks the OS for a free port (tests, side-by-side instances).
  if (!/^\d+$/.test(value) || port > 65535) throw new ConfigError(`ZHIFU_PORT must be 0–65535, got "${value}"`);
  return port;
}

/**
 * The fee schedule is applied when a payment's outcome is recorded; a malformed one must stop the
 * start, not fail the recording of a paid notification later.
 */
function checkFeeSchedule(raw: string | undefined): void {
  const value = nonEmpty(raw);
  if (value === null) return;
  try {
    parseFeeSchedule(value);
  } catch (error) {
    throw new ConfigError(`ZHIFU_FEE_SCHEDULE is not a fee schedule such as {"percent_bps":300,"fixed_minor":{"GBP":20}}: ${(error as Error).message}`);
  }
}

/** `ZHIFU_RATE_LIMIT`: requests per second per key; `0` turns the limit off. */
function parseRateLimit(raw: string | undefined): number | null {
  const value = nonEmpty(raw);
  if (value === null) return DEFAULT_RATE_LIMIT_PER_SECOND;
  if (!/^\d{1,7}$/.test(value)) throw new ConfigError(`ZHIFU_RATE_LIMIT must be a whole number of requests per second (0 = no limit), got "${value}"`);
  return Number(value) === 0 ? null : Number(value);
}

/**
 * `ZHIFU_ALIPAYPLUS_TIMEOUT_MS`: one request's timeout. The worker's delays assume the request
 * path's sends are over when it looks at a payment or refund still being sent, so a timeout that
 * breaks that assumption is refused here, not discovered as a race in production.
 */
function parseTimeout(raw: string | undefined): number | null {
  const value = nonEmpty(raw);
  // The default (NETWORK_TIMEOUT_MS_DEFAULT) is consistent by construction (test/gateway/timing.test.ts).
  if (value === null) return null;
  if (!/^\d{1,7}$/.test(value) || Number(value) < 100) throw new ConfigError(`ZHIFU_ALIPAYPLUS_TIMEOUT_MS must be a whole number of milliseconds, at least 100, got "${value}"`);
  const problem = timeoutInconsistency(Number(value));
  if (problem !== null) throw new ConfigError(`ZHIFU_ALIPAYPLUS_TIMEOUT_MS=${value} is inconsistent with the worker's timing: ${problem}`);
  return Number(value);
}

/** `ZHIFU_REQUEST_LOG_RETENTION_DAYS`: whole days, 0 = no request logging; null (unset): the default applies. */
function parseRetentionDays(raw: string | undefined): number | null {
  const value = nonEmpty(raw);
  if (value === null) return null;
  if (!/^\d{1,5}$/.test(value)) throw new ConfigError(`ZHIFU_REQUEST_LOG_RETENTION_DAYS must be a whole number of days (0 = no request logging), got "${value}"`);
  return Number(value);
}

/** Both or neither: an e-mail without a password (or the reverse) is a mistake to report, not to ignore. */
function parseAdmin(rawEmail: string | undefined, rawPassword: string | undefined): { email: string; password: string } | null {
  const email = nonEmpty(rawEmail);
  // The password is taken as given: blanks may be part of it.
  const password = rawPassword === undefined || rawPassword === '' ? null : rawPassword;
  if (email === null && password === null) return null;
  if (email === null || password === null) throw new ConfigError('ZHIFU_ADMIN_EMAIL and ZHIFU_ADMIN_PASSWORD must be set together');
  if (password.length < 10) throw new ConfigError('ZHIFU_ADMIN_PASSWORD must be at least 10 characters');
  return { email, password };
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value.trim() === '' ? null : value.trim();
}
