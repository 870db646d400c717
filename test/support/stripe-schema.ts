import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/*
 * Stripe's own OpenAPI description (test/fixtures/stripe-spec3.json, trimmed from spec3.json by
 * scripts/trim-stripe-spec.mjs) turned into JSON Schema for ajv, so a test can check that every
 * object Zhifu returns has the shape Stripe's clients expect.
 *
 * The spec is OpenAPI 3.0: `nullable: true` beside the type, `$ref` into components.schemas,
 * vendor keywords (`x-expandableFields`, …) and two formats of its own (`unix-time`, `decimal`).
 * The conversion is exact: nullable becomes "or null", refs point into one schema document,
 * vendor keywords go (they describe, they do not constrain), and both formats are checked.
 */

type Json = unknown;
type Node = Record<string, Json>;

interface Operation {
  operationId: string;
  responses: Record<string, { content?: { 'application/json'?: { schema: Node } } }>;
}
interface TrimmedSpec {
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Node> };
}

const SCHEMA_ID = 'https://zhifu.test/stripe-spec3.json';

/**
 * Where Zhifu deliberately returns a value Stripe's enum (API version 2023-08-16) does not list,
 * and why. The validator accepts exactly these values at exactly these places, nothing else.
 */
export const DELIBERATE_ENUM_EXTENSIONS: readonly { schema: string; property: string; values: string[]; why: string }[] = [
  {
    schema: 'balance_transaction',
    property: 'type',
    values: ['dispute'],
    why: 'api.md §7a: a dispute\'s withdrawal and reinstatement are balance transactions of type `dispute` (Stripe files them as `adjustment` with reporting_category `dispute`), so the list filter `type=dispute` and the settlement report can name them; reporting_category is `dispute` as on Stripe.',
  },
  {
    schema: 'dispute_payment_method_details',
    property: 'type',
    values: ['alipay'],
    why: 'Zhifu\'s disputes are Alipay+ retrievals and escalations, not card disputes; `payment_method_details` says so with `type: "alipay"` and the Alipay+ side in `alipay` (Stripe\'s later API versions add their own non-card types here the same way).',
  },
];
const REF_PREFIX = '#/components/schemas/';

/** An OpenAPI 3.0 schema as JSON Schema (draft-07), refs pointing at `SCHEMA_ID#/definitions/<name>`. */
export function toJsonSchema(node: Json): Json {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const source = node as Node;
  const out: Node = {};
  for (const [key, value] of Object.entries(source)) {
    if (key.startsWith('x-') || key === 'nullable' || key === 'title' || key === 'description') continue;
    if (key === '$ref' && typeof value === 'string' && value.startsWith(REF_PREFIX)) {
      out.$ref = `${SCHEMA_ID}#/definitions/${encodeURIComponent(value.slice(REF_PREFIX.length))}`;
    } else if (key === 'properties' && value !== null && typeof value === 'object') {
      // A map of property names: the names are data, only their schemas convert.
      out.properties = Object.fromEntries(Object.entries(value as Node).map(([name, schema]) => [name, toJsonSchema(schema)]));
    } else {
      out[key] = toJsonSchema(value);
    }
  }
  // OpenAPI 3.0's nullable widens whatever the schema allows (type, enum, anyOf) by null.
  if (source.nullable === true) return { anyOf: [{ type: 'null' }, out] };
  return out;
}

export interface SchemaProblem {
  /** Where in the object (JSON pointer), e.g. `/billing_details`. */
  at: string;
  message: string;
}

/** What ajv said, as one line per problem with the path in the object. */
function problemsOf(errors: ErrorObject[] | null | undefined): SchemaProblem[] {
  return (errors ?? []).map((error) => ({ at: error.instancePath || '/', message: `${error.message ?? error.keyword} ${JSON.stringify(error.params)}` }));
}

export class StripeSpec {
  readonly apiVersion: string;
  private readonly spec: TrimmedSpec;
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Path templates, literal ones first (`/v1/payment_intents/search` before `{intent}`). */
  private readonly templates: { template: string; pattern: RegExp }[];

  constructor(file = fileURLToPath(new URL('../../../test/fixtures/stripe-spec3.json', import.meta.url))) {
    this.spec = JSON.parse(readFileSync(file, 'utf8')) as TrimmedSpec;
    this.apiVersion = this.spec.info.version;
    // strict off: Stripe's schemas combine keywords (e.g. `type` with `anyOf`) in ways strict mode rejects though they are valid.
    this.ajv = new Ajv({ allErrors: true, strict: false });
    // Stripe's `unix-time` is an integer timestamp (Stripe counts seconds; Zhifu, as WooshPay, milliseconds: still an integer).
    this.ajv.addFormat('unix-time', { type: 'number', validate: (value: number) => Number.isInteger(value) });
    this.ajv.addFormat('decimal', /^-?\d+(\.\d+)?$/);
    for (const extension of DELIBERATE_ENUM_EXTENSIONS) {
      const property = this.spec.components.schemas[extension.schema]?.properties as Record<string, { enum?: string[] }> | undefined;
      const values = property?.[extension.property]?.enum;
      if (values === undefined) throw new Error(`${extension.schema}.${extension.property} has no enum to extend`);
      values.push(...extension.values);
    }
    const definitions = Object.fromEntries(Object.entries(this.spec.components.schemas).map(([name, schema]) => [name, toJsonSchema(schema)]));
    this.ajv.addSchema({ $id: SCHEMA_ID, definitions });
    this.templates = Object.keys(this.spec.paths)
      .map((template) => ({ template, pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`) }))
      .sort((a, b) => (a.template.match(/\{/g)?.length ?? 0) - (b.template.match(/\{/g)?.length ?? 0));
  }

  /** The schema names this fixture holds. */
  hasSchema(name: string): boolean {
    return Object.hasOwn(this.spec.components.schemas, name);
  }

  private validator(key: string, schema: () => Json): ValidateFunction {
    let validate = this.compiled.get(key);
    if (validate === undefined) {
      validate = this.ajv.compile(schema() as Node);
      this.compiled.set(key, validate);
    }
    return validate;
  }

  /** Problems of `value` against components.schemas[name] (empty when it conforms). */
  validateSchema(name: string, value: Json): SchemaProblem[] {
    if (!this.hasSchema(name)) throw new Error(`no schema ${name} in the Stripe spec fixture`);
    const validate = this.validator(`schema:${name}`, () => ({ $ref: `${SCHEMA_ID}#/definitions/${encodeURIComponent(name)}` }));
    return validate(value) ? [] : problemsOf(validate.errors);
  }

  /** The operation's template for a concrete path (`/v1/charges/ch_1` → `/v1/charges/{charge}`), or undefined. */
  templateOf(method: string, path: string): string | undefined {
    const bare = path.split('?')[0] as string;
    return this.templates.find(({ template, pattern }) => pattern.test(bare) && this.spec.paths[template]?.[method.toLowerCase()] !== undefined)?.template;
  }

  /**
   * Problems of a response body against the response schema Stripe documents for this operation
   * and status (200, else the error envelope of `default`).
   */
  validateResponse(method: string, template: string, status: number, body: Json): SchemaProblem[] {
    const operation = this.spec.paths[template]?.[method.toLowerCase()];
    if (operation === undefined) throw new Error(`${method} ${template} is not in the Stripe spec fixture`);
    const which = status === 200 ? '200' : 'default';
    const schema = operation.responses[which]?.content?.['application/json']?.schema;
    if (schema === undefined) throw new Error(`${method} ${template} documents no ${which} JSON response`);
    const validate = this.validator(`response:${method} ${template} ${which}`, () => toJsonSchema(schema));
    return validate(body) ? [] : problemsOf(validate.errors);
  }
}
