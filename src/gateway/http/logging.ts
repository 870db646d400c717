import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

/**
 * Paths pino blanks in every log line: credentials (Authorization), client secrets and key
 * material that a handler might attach to a log object.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.client_secret',
  '*.secretKey',
  '*.publishableKey',
  '*.secret',
  'client_secret',
  'secretKey',
  'publishableKey',
];

/** Query parameters whose values never reach a log line. */
const SECRET_QUERY_PARAMS = /([?&](?:client_secret|payment_intent_client_secret|key)=)[^&#]*/gi;

export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[REDACTED]');
}

interface RawRequest {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remoteAddress?: string };
}

/** What a request contributes to a log line: method, URL with secrets blanked, peer address. */
export function serializeRequest(req: RawRequest): Record<string, unknown> {
  return { method: req.method, url: redactUrl(req.url ?? ''), remoteAddress: req.ip ?? req.socket?.remoteAddress };
}

export function createGatewayLogger(options: LoggerOptions = {}, destination?: DestinationStream): Logger {
  const config: LoggerOptions = {
    level: process.env.ZHIFU_LOG_LEVEL ?? 'info',
    ...options,
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: { req: serializeRequest },
  };
  return destination === undefined ? pino(config) : pino(config, destination);
}
