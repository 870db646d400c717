import { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';
import pino from 'pino';
import type { DestinationStream, Logger, LoggerOptions } from 'pino';

/** The field of every request's log lines naming its request id (`req_…`). */
export const REQUEST_ID_LOG_LABEL = 'request_id';

/**
 * Paths pino blanks in every log line: credentials (Authorization), client secrets, tokens and
 * key material that a handler might attach to a log object.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.client_secret',
  '*.payment_intent_client_secret',
  '*.token',
  '*.secretKey',
  '*.publishableKey',
  '*.secret',
  'client_secret',
  'token',
  'secretKey',
  'publishableKey',
];

/**
 * Query parameters whose values never reach a log line, matched on the DECODED name (so
 * `client%5Fsecret=` is caught) and on any part of a bracketed name (`a[token]`).
 */
const SECRET_PARAM_NAME = /secret|token|key|password|signature|authorization/i;

function decodedName(raw: string): string | null {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** The URL with the value of every secret-looking query parameter replaced by `[REDACTED]`. */
export function redactUrl(url: string): string {
  const question = url.indexOf('?');
  if (question === -1) return url;
  const hash = url.indexOf('#', question);
  const query = url.slice(question + 1, hash === -1 ? undefined : hash);
  const redacted = query.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    const name = equals === -1 ? pair : pair.slice(0, equals);
    const decoded = decodedName(name);
    // A name that cannot be decoded is not trusted to be harmless.
    if (equals !== -1 && (decoded === null || SECRET_PARAM_NAME.test(decoded))) return `${name}=[REDACTED]`;
    return pair;
  });
  return `${url.slice(0, question)}?${redacted.join('&')}`;
}

interface LoggedRequest {
  method?: string;
  url?: string;
  ip?: string;
  socket?: { remoteAddress?: string };
  is404?: boolean;
  routeOptions?: { url?: string };
}

/**
 * What a request contributes to a log line: method, the route pattern that served it
 * (`/v1/payment_intents/:id`, never the raw URL with its ids and query values), peer address.
 * A request no route matched has no pattern: its URL is logged with secret values blanked.
 */
export function serializeRequest(req: LoggedRequest): Record<string, unknown> {
  let route: string | undefined;
  try {
    route = req.is404 === true ? undefined : req.routeOptions?.url;
  } catch {
    // A request the router refused (a malformed URL) has no route context to ask.
    route = undefined;
  }
  return {
    method: req.method,
    ...(route === undefined ? { url: redactUrl(req.url ?? '') } : { route }),
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  };
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

/**
 * One log line per request instead of Fastify's two ("incoming request", "request completed"):
 * the completed line carries the request too (method, route, peer), its status and time. Halves
 * the logging cost of every request; a request that never completes is seen in its error line.
 *
 * The completed line of a request that did not fail is written through `writeCompletedLinesWith`'s
 * logger, which skips pino's redaction: its fields are only the serialized request (method, route
 * or blanked URL, peer), the status and the time, none of which is a redacted path, and the
 * redaction pass cost more than the rest of the line. The line is the same, byte for byte: the
 * request id (REQUEST_ID_LOG_LABEL) is written first, where the request's child logger writes its
 * binding. Error lines (which carry an error's fields) keep the redacting request logger.
 */
export class OneLinePerRequest extends LogController {
  #completedLines: FastifyBaseLogger | null = null;

  constructor() {
    super({ requestIdLogLabel: REQUEST_ID_LOG_LABEL });
  }

  /** `appLogger` is the app's own logger (`app.log`): the request loggers are its children. */
  writeCompletedLinesWith(appLogger: FastifyBaseLogger): void {
    this.#completedLines = appLogger.child({}, { redact: { paths: [], censor: '[REDACTED]' } });
  }

  override incomingRequest(): void {
    // Logged once, when completed (below).
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    if (this.isLogDisabled(request)) return;
    if (error) {
      reply.log.error({ req: request, res: reply, err: error, responseTime: reply.elapsedTime }, 'request errored');
      return;
    }
    const lines = this.#completedLines;
    if (lines === null) reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    else lines.info({ request_id: request.id, req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }
}

type LogMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/**
 * A request's logger (`req.log`, `reply.log`), made by `requestLoggerFactory`: the pino child
 * with the request's bindings is created when the request first logs through it, which most
 * requests never do (their one line is written by OneLinePerRequest). Creating it for every
 * request cost about as much as writing a line: pino runs its redaction over the bindings.
 * Every line it writes is the child's, exactly as if it had been made up front.
 */
class RequestLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | null = null;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  #logger(): FastifyBaseLogger {
    return (this.#child ??= this.#parent.child(this.#bindings, this.#options));
  }

  #write(method: LogMethod, args: unknown[]): void {
    const logger = this.#logger();
    Reflect.apply(logger[method], logger, args);
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#logger().level = level;
  }

  fatal(...args: unknown[]): void {
    this.#write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.#write('error', args);
  }

  warn(...args: unknown[]): void {
    this.#write('warn', args);
  }

  info(...args: unknown[]): void {
    this.#write('info', args);
  }

  debug(...args: unknown[]): void {
    this.#write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.#write('trace', args);
  }

  silent(...args: unknown[]): void {
    this.#write('silent', args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger().child(bindings, options);
  }
}

/** Fastify's `childLoggerFactory`: each request's logger, its pino child made on first use (RequestLogger). */
export function requestLoggerFactory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new RequestLogger(logger, bindings, options);
}
