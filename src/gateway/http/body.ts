import type { FastifyInstance, FastifyRequest } from 'fastify';
import qs from 'qs';
import { ApiError, invalidRequest } from '../errors.js';

/** api.md §1: larger bodies are refused with 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;
/**
 * How deeply parameters may nest inside a request (`a[b][c]` is 2). Every body and query is
 * checked against it here, at the edge, before any recursive code (schemas, fingerprints, logs)
 * sees it; the deepest documented parameter is 4 levels down.
 */
export const NESTING_DEPTH_MAX = 20;
/** Bounds for bracket notation, so a hostile body cannot build huge or deep objects. */
const QS_OPTIONS: qs.IParseOptions = {
  depth: NESTING_DEPTH_MAX,
  strictDepth: true,
  arrayLimit: 100,
  parameterLimit: 1000,
  allowPrototypes: false,
  plainObjects: false,
  throwOnLimitExceeded: true,
};

function tooDeep(): ApiError {
  return invalidRequest('parameter_invalid', `Parameters may be nested at most ${NESTING_DEPTH_MAX} levels deep.`);
}

/** U+0000 is no text a client means to send, and PostgreSQL cannot store it in a text column. */
const NUL = '\u0000';

function containsNul(param: string): ApiError {
  return invalidRequest('parameter_invalid', 'Parameters cannot contain the NUL character (U+0000).', param === '' ? undefined : param);
}

/**
 * Throws the 400 for parameters nested more than NESTING_DEPTH_MAX levels below the request
 * (JSON arrays and objects alike), or holding U+0000 in a name or a string value (naming the
 * parameter). Iterative, so the check itself cannot overflow the stack.
 */
export function checkParameters(value: unknown): void {
  // Nearly every request is fine: find that without building a parameter name per member, and
  // only for a request that is refused walk again, naming the parameter.
  if (hasRefusedParameter(value)) nameRefusedParameter(value);
}

/** Whether anything in `value` is nested too deeply or holds U+0000 (in a name or a string). */
function hasRefusedParameter(value: unknown): boolean {
  const values: unknown[] = [value];
  const depths: number[] = [0];
  while (values.length > 0) {
    const current = values.pop();
    const depth = depths.pop()!;
    if (typeof current === 'string') {
      if (current.includes(NUL)) return true;
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth > NESTING_DEPTH_MAX) return true;
    const record = current as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (key.includes(NUL)) return true;
      values.push(record[key]);
      depths.push(depth + 1);
    }
  }
  return false;
}

/** Throws checkParameters' 400 for the first refused parameter, by name. */
function nameRefusedParameter(value: unknown): void {
  const stack: Array<[unknown, number, string]> = [[value, 0, '']];
  while (stack.length > 0) {
    const [current, depth, param] = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes(NUL)) throw containsNul(param);
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth > NESTING_DEPTH_MAX) throw tooDeep();
    for (const [key, child] of Object.entries(current)) {
      const name = param === '' ? key : `${param}[${key}]`;
      if (key.includes(NUL)) throw containsNul(name.replaceAll(NUL, '\\u0000'));
      stack.push([child, depth + 1, name]);
    }
  }
}

/** Throws the 400 for a path parameter holding U+0000 (`/pay/cs_1%00`). */
export function checkPathParameters(params: unknown): void {
  if (typeof params !== 'object' || params === null) return;
  for (const [name, value] of Object.entries(params)) {
    if (typeof value === 'string' && value.includes(NUL)) throw containsNul(name);
  }
}

/** Parses a query string or form body with bracket notation (`metadata[k]=v`, `a[0]=x`). */
export function parseBrackets(text: string): Record<string, unknown> {
  let parsed: Record<string, unknown>;
  try {
    parsed = qs.parse(text, QS_OPTIONS) as Record<string, unknown>;
  } catch (error) {
    // qs refuses more than the bounds above rather than silently dropping parameters.
    if (error instanceof RangeError && /depth/i.test(error.message)) throw tooDeep();
    throw invalidRequest('parameter_invalid', `Too many parameters: ${(error as Error).message}`);
  }
  checkParameters(parsed);
  return parsed;
}

/** A JSON body: `{}` when empty; invalid or too deeply nested JSON is a 400. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw invalidRequest('parameter_invalid', `Invalid JSON in the request body: ${(error as Error).message}`);
  }
  checkParameters(value);
  return value;
}

/** Marks a query string qs refused; the router's parser must not throw (it would crash the server). */
export const QUERY_ERROR = Symbol('query string error');

/** The router's query parser: bracket notation, with a refused query reported by `checkQuery`. */
export function parseQuery(text: string): Record<string | symbol, unknown> {
  try {
    return parseBrackets(text);
  } catch (error) {
    return { [QUERY_ERROR]: error };
  }
}

/** Throws the 400 for a query string that parseQuery refused (with its parameter when known). */
export function checkQuery(query: unknown): void {
  const error = (query as Record<symbol, unknown> | null)?.[QUERY_ERROR];
  if (error instanceof ApiError) throw error;
  if (error !== undefined) throw invalidRequest('parameter_invalid', String((error as Error | null)?.message ?? error));
}

/** JSON and form bodies; an empty body is `{}` (stripe-node posts empty forms to /cancel). */
export function installBodyParsers(app: FastifyInstance): void {
  // Only the two documented encodings; anything else (text/plain included) is a 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(typeof body === 'string' ? body : body.toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES }, (_req, body, done) => {
    try {
      done(null, parseBrackets(typeof body === 'string' ? body : body.toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}

/**
 * Fastify does not parse bodies of GET requests, but WooshPay documents JSON bodies on some list
 * GETs: read them here, under the same size limit and the same parsers.
 */
export function installGetBodies(app: FastifyInstance): void {
  // Callback style: nearly every GET has no body, and an async hook would cost each a promise.
  app.addHook('preHandler', (req: FastifyRequest, _reply, done) => {
    if (req.method !== 'GET') return done();
    if (Number(req.headers['content-length'] ?? 0) === 0 && req.headers['transfer-encoding'] === undefined) return done();
    readGetBody(req).then(() => done(), done);
  });
}

/** Reads and parses a GET request's body into `req.body` (an empty one leaves it unset). */
async function readGetBody(req: FastifyRequest): Promise<void> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (length > BODY_LIMIT_BYTES) throw bodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req.raw) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT_BYTES) throw bodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (text.trim() === '') return;
  if (type.startsWith('application/x-www-form-urlencoded')) req.body = parseBrackets(text);
  else if (type.startsWith('application/json')) req.body = parseJsonBody(text);
  else throw new ApiError({ status: 415, type: 'invalid_request_error', message: 'Unsupported Content-Type; send application/json or application/x-www-form-urlencoded.' });
}

function bodyTooLarge(): ApiError {
  return new ApiError({ status: 413, type: 'invalid_request_error', message: 'The request body is larger than the 1 MiB limit.', shouldRetry: false });
}
