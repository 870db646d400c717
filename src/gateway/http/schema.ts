import { invalidRequest } from '../errors.js';
import { AMOUNT_MAX_MINOR, AMOUNT_MIN_MINOR, PROCESSING_CURRENCIES } from '../domain/money.js';
import { METADATA_KEYS_MAX, METADATA_KEY_LENGTH_MAX, METADATA_VALUE_LENGTH_MAX } from '../domain/metadata.js';

/**
 * Request schemas: one per endpoint, built from these fields. A field parses a value from a JSON
 * body, a form body (everything a string) or a query string, coerces it, and throws the API's
 * 400 naming the parameter in bracket notation (`payment_method_options[alipay][os_type]`).
 * An empty string or JSON null means "unset" (null); fields that cannot be unset refuse it.
 */
export interface Field<T> {
  readonly required: boolean;
  /** Whether "" / null may unset it (optional fields only). */
  readonly unsettable: boolean;
  /** The field as JSON Schema, for the OpenAPI document. */
  readonly jsonSchema: JsonSchema;
  parse(raw: unknown, param: string): T;
}

export type JsonSchema = Record<string, unknown>;

type Out<F> = F extends Field<infer T> ? T : never;
export type Shape = Record<string, Field<unknown>>;
type RequiredKeys<S extends Shape> = { [K in keyof S]: S[K] extends { required: true } ? K : never }[keyof S];
type OptionalOut<F> = F extends { unsettable: false } ? Out<F> : Out<F> | null;
export type Parsed<S extends Shape> = { [K in RequiredKeys<S>]: Out<S[K]> } & { [K in Exclude<keyof S, RequiredKeys<S>>]?: OptionalOut<S[K]> };

const field = <T>(jsonSchema: JsonSchema, parse: (raw: unknown, param: string) => T): Field<T> => ({ required: false, unsettable: true, jsonSchema, parse });

/** The parameter must be present and non-empty. */
export function required<T>(inner: Field<T>): Field<T> & { required: true; unsettable: false } {
  return { ...inner, required: true as const, unsettable: false as const };
}

/** The parameter may be omitted but not unset with "" (e.g. amount on update). */
export function notUnsettable<T>(inner: Field<T>): Field<T> & { unsettable: false } {
  return { ...inner, unsettable: false as const };
}

const isEmpty = (raw: unknown): boolean => raw === '' || raw === null;
const describe = (raw: unknown): string => (typeof raw === 'string' ? `"${raw}"` : JSON.stringify(raw) ?? String(raw));

export function string(options: { max: number; pattern?: RegExp; patternHint?: string } = { max: 5000 }): Field<string> {
  const jsonSchema = { type: 'string', maxLength: options.max, ...(options.pattern === undefined ? {} : { pattern: options.pattern.source }) };
  return field(jsonSchema, (raw, param) => {
    if (typeof raw !== 'string') throw invalidRequest('parameter_invalid', `Invalid string for ${param}: ${describe(raw)}.`, param);
    if (raw.length > options.max) throw invalidRequest('parameter_invalid', `${param} must be at most ${options.max} characters long; got ${raw.length}.`, param);
    if (options.pattern !== undefined && !options.pattern.test(raw)) {
      throw invalidRequest('parameter_invalid', `Invalid ${param}: ${describe(raw)}${options.patternHint ? ` (${options.patternHint})` : ''}.`, param);
    }
    return raw;
  });
}

/**
 * A URL the shopper's browser is sent to (return_url, success_url, cancel_url): http or https
 * only, so `javascript:` or `data:` can never become a redirect or a link, and one that the
 * WHATWG parser accepts, so the redirect built from it later cannot fail. `bareHost` also
 * accepts `www.example.com/path` (the seed's cancel_url), which links get as https://.
 */
export function httpUrl(options: { max: number; bareHost?: boolean }): Field<string> {
  const hint = 'an absolute URL with http or https, such as https://example.com/return';
  return field({ type: 'string', format: 'uri', maxLength: options.max, pattern: '^https?://' }, (raw, param) => {
    if (typeof raw !== 'string') throw invalidRequest('parameter_invalid', `Invalid string for ${param}: ${describe(raw)}.`, param);
    if (raw.length > options.max) throw invalidRequest('parameter_invalid', `${param} must be at most ${options.max} characters long; got ${raw.length}.`, param);
    const absolute = /^https?:\/\//i.test(raw) ? raw : options.bareHost && /^[a-z0-9-]+(\.[a-z0-9-]+)+(:\d+)?([/?#]|$)/i.test(raw) ? `https://${raw}` : null;
    const parsed = absolute !== null && !/\s/.test(absolute) && URL.canParse(absolute) ? new URL(absolute) : null;
    if (parsed === null || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '') {
      throw invalidRequest('parameter_invalid', `Invalid ${param}: ${describe(raw)} (${hint}).`, param);
    }
    return raw;
  });
}

export function oneOf<const V extends string>(values: readonly V[], options: { upperCase?: boolean } = {}): Field<V> {
  return field({ type: 'string', enum: values }, (raw, param) => {
    const text = typeof raw === 'string' ? (options.upperCase ? raw.toUpperCase() : raw) : raw;
    if (typeof text !== 'string' || !(values as readonly string[]).includes(text)) {
      throw invalidRequest('parameter_invalid', `Invalid ${param}: must be one of ${values.join(', ')}; got ${describe(raw)}.`, param);
    }
    return text as V;
  });
}

/** Integers arrive as numbers (JSON) or digit strings (forms, queries); both must be exact. */
function toInteger(raw: unknown, param: string): number {
  const value = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(value)) throw invalidRequest('parameter_invalid_integer', `Invalid integer: ${describe(raw)} for ${param}.`, param);
  return value;
}

export function integer(options: { min: number; max: number }): Field<number> {
  return field({ type: 'integer', minimum: options.min, maximum: options.max }, (raw, param) => {
    const value = toInteger(raw, param);
    if (value < options.min || value > options.max || !Number.isSafeInteger(value)) {
      throw invalidRequest('parameter_invalid_integer', `${param} must be an integer from ${options.min} to ${options.max}; got ${describe(raw)}.`, param);
    }
    return value;
  });
}

/** Money in the smallest currency unit: 1 … 2^53−1, integers only (never floats). */
export function amount(): Field<number> {
  const jsonSchema = { type: 'integer', minimum: AMOUNT_MIN_MINOR, maximum: AMOUNT_MAX_MINOR, description: 'In the smallest currency unit.' };
  return field(jsonSchema, (raw, param) => {
    const value = toInteger(raw, param);
    if (value < AMOUNT_MIN_MINOR) {
      throw invalidRequest('amount_too_small', `Amount must be at least ${AMOUNT_MIN_MINOR} in the smallest currency unit (0.01 CNY); got ${describe(raw)}.`, param);
    }
    if (!Number.isSafeInteger(value) || value > AMOUNT_MAX_MINOR) {
      throw invalidRequest('amount_too_large', `Amount must be at most ${AMOUNT_MAX_MINOR} (2^53-1) in the smallest currency unit; got ${describe(raw)}.`, param);
    }
    return value;
  });
}

/** ISO 4217, accepted in any case, returned upper-case; only the processing currencies. */
export function currency(): Field<string> {
  return field({ type: 'string', description: `ISO 4217, any case: ${PROCESSING_CURRENCIES.join(', ')}.` }, (raw, param) => {
    const code = typeof raw === 'string' ? raw.trim().toUpperCase() : '';
    if (!PROCESSING_CURRENCIES.includes(code)) {
      throw invalidRequest('currency_not_supported', `The currency ${describe(raw)} is not supported for Alipay; use one of ${PROCESSING_CURRENCIES.join(', ')}.`, param);
    }
    return code;
  });
}

/**
 * Booleans as JSON, or as text in any case: stripe-node sends `true`, Debian's python3-stripe
 * (5.x) sends Python's `True`/`False`, hand-written forms sometimes `TRUE`.
 */
export function boolean(): Field<boolean> {
  return field({ type: 'boolean' }, (raw, param) => {
    const text = typeof raw === 'string' ? raw.toLowerCase() : raw;
    if (text === true || text === 'true') return true;
    if (text === false || text === 'false') return false;
    throw invalidRequest('parameter_invalid', `Invalid boolean for ${param}: ${describe(raw)}; use true or false.`, param);
  });
}

/** Arrays come as JSON arrays or as qs objects with index keys (`a[0]=x&a[1]=y`). */
export function array<T>(item: Field<T>, options: { min?: number; max: number }): Field<T[]> {
  const jsonSchema = { type: 'array', items: item.jsonSchema, maxItems: options.max, ...(options.min === undefined ? {} : { minItems: options.min }) };
  return field(jsonSchema, (raw, param) => {
    let list: unknown[];
    if (Array.isArray(raw)) list = raw;
    else if (isPlainObject(raw) && Object.keys(raw).every((k) => /^\d+$/.test(k))) {
      list = Object.keys(raw).sort((a, b) => Number(a) - Number(b)).map((k) => raw[k]);
    } else throw invalidRequest('parameter_invalid', `Invalid array for ${param}: ${describe(raw)}.`, param);
    if (list.length > options.max) throw invalidRequest('parameter_invalid', `${param} can have at most ${options.max} items; got ${list.length}.`, param);
    if (list.length < (options.min ?? 0)) throw invalidRequest('parameter_invalid', `${param} needs at least ${options.min} item(s); got ${list.length}.`, param);
    return list.map((value, i) => {
      if (isEmpty(value) || value === undefined) throw invalidRequest('parameter_invalid_empty', `${param}[${i}] cannot be empty.`, `${param}[${i}]`);
      return item.parse(value, `${param}[${i}]`);
    });
  });
}

function isPlainObject(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw);
}

/** A nested object; unknown keys are refused with `parameter_unknown` naming them. */
export function object<S extends Shape>(shape: S): Field<Parsed<S>> {
  return field(toJsonSchema(shape), (raw, param) => parseObject(shape, raw, param));
}

/** An endpoint's parameters as one JSON Schema object (feeds the OpenAPI document). */
export function toJsonSchema(shape: Shape): JsonSchema {
  const required = Object.entries(shape).filter(([, spec]) => spec.required).map(([key]) => key);
  return {
    type: 'object',
    properties: Object.fromEntries(Object.entries(shape).map(([key, spec]) => [key, spec.jsonSchema])),
    ...(required.length === 0 ? {} : { required }),
    additionalProperties: false,
  };
}

/** Parses a whole request (body or query) against an endpoint's schema. */
export function parseParams<S extends Shape>(shape: S, raw: unknown): Parsed<S> {
  return parseObject(shape, raw ?? {}, '');
}

function parseObject<S extends Shape>(shape: S, raw: unknown, param: string): Parsed<S> {
  const name = (key: string) => (param === '' ? key : `${param}[${key}]`);
  if (!isPlainObject(raw)) throw invalidRequest('parameter_invalid', `Invalid object for ${param || 'the request body'}: ${describe(raw)}.`, param || undefined);
  for (const key of Object.keys(raw)) {
    if (!Object.hasOwn(shape, key)) throw invalidRequest('parameter_unknown', `Received unknown parameter: ${name(key)}`, name(key));
  }
  const out: Record<string, unknown> = {};
  // for…in rather than Object.entries: no array of entries built per parse (schemas run on every request).
  for (const key in shape) {
    if (!Object.hasOwn(shape, key)) continue;
    const spec = shape[key]!;
    const value = Object.hasOwn(raw, key) ? raw[key] : undefined;
    if (value === undefined) {
      if (spec.required) throw invalidRequest('parameter_missing', `Missing required param: ${name(key)}.`, name(key));
      continue;
    }
    if (isEmpty(value)) {
      if (!spec.unsettable) {
        throw invalidRequest('parameter_invalid_empty', `You passed an empty value for '${name(key)}'. An empty value unsets a parameter, but '${name(key)}' cannot be unset.`, name(key));
      }
      out[key] = null;
      continue;
    }
    out[key] = spec.parse(value, name(key));
  }
  return out as Parsed<S>;
}

/** Metadata (api.md §1): ≤50 keys, key ≤40 chars, value ≤500 chars; "" as a value removes the key. */
export function metadata(): Field<Record<string, string | null>> {
  const jsonSchema = { type: 'object', maxProperties: METADATA_KEYS_MAX, propertyNames: { maxLength: METADATA_KEY_LENGTH_MAX }, additionalProperties: { type: 'string', maxLength: METADATA_VALUE_LENGTH_MAX } };
  return field(jsonSchema, (raw, param) => {
    if (!isPlainObject(raw)) throw invalidRequest('parameter_invalid', `Invalid object for ${param}: ${describe(raw)}.`, param);
    const entries = Object.entries(raw);
    if (entries.length > METADATA_KEYS_MAX) throw invalidRequest('parameter_invalid', `${param} can have at most ${METADATA_KEYS_MAX} keys; got ${entries.length}.`, param);
    const out = new Map<string, string | null>();
    for (const [key, value] of entries) {
      const at = `${param}[${key}]`;
      if (key.length === 0 || key.length > METADATA_KEY_LENGTH_MAX) {
        throw invalidRequest('parameter_invalid', `Metadata keys must be 1 to ${METADATA_KEY_LENGTH_MAX} characters long; "${key}" has ${key.length}.`, at);
      }
      if (isEmpty(value)) out.set(key, null);
      else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
        const text = String(value);
        if (text.length > METADATA_VALUE_LENGTH_MAX) {
          throw invalidRequest('parameter_invalid', `Metadata values can be at most ${METADATA_VALUE_LENGTH_MAX} characters long; ${at} has ${text.length}.`, at);
        }
        out.set(key, text);
      } else throw invalidRequest('parameter_invalid', `Metadata values must be strings; ${at} is ${describe(value)}.`, at);
    }
    return Object.fromEntries(out);
  });
}

/** `created` filter of lists: an exact integer or `created[gt|gte|lt|lte]`. */
export function createdFilter(): Field<number | { gt?: number; gte?: number; lt?: number; lte?: number }> {
  const bound = notUnsettable(integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
  const range = object({ gt: bound, gte: bound, lt: bound, lte: bound });
  return field({ anyOf: [bound.jsonSchema, range.jsonSchema] }, (raw, param) => {
    if (isPlainObject(raw)) {
      const parsed = range.parse(raw, param);
      return Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'number')) as { gt?: number };
    }
    return bound.parse(raw, param);
  });
}
