import { EXPAND_JSON_SCHEMA, expandRootOf } from '../expand.js';
import type { JsonSchema } from '../schema.js';
import { CODE_SAMPLES, samplesMarkdown } from './examples.js';
import { sharedSchemas } from './objects.js';
import type { DocumentedRoute } from './operation.js';

export type OpenApiDocument = Record<string, unknown>;

const DESCRIPTION = `Zhifu's merchant API: WooshPay's API (itself modelled on Stripe's) for Alipay payments through
Alipay+. Unmodified Stripe and WooshPay clients work against it — point them at this gateway.

Authenticate with a secret key, as \`Authorization: Bearer sk_test_…\` (the stripe SDKs) or HTTP Basic
with the key as the user name (WooshPay, \`curl -u sk_test_…:\`). POST parameters come as
\`application/x-www-form-urlencoded\` with bracket notation or as JSON; GET parameters in the query
string. Every error is the envelope \`{"error": {"type", "code", "message", "param"}}\`.

Deliberate differences from Stripe: timestamps (\`created\`, …) are milliseconds since the epoch and
currencies are returned upper-case (\`"CNY"\`), as WooshPay does; ids are a prefix and 19 digits.`;

const TAGS: Record<string, string> = {
  payment_intents: 'PaymentIntents',
  payment_methods: 'PaymentMethods',
  charges: 'Charges',
  refunds: 'Refunds',
  disputes: 'Disputes',
  balance: 'Balance',
  balance_transactions: 'Balance',
  events: 'Events',
  webhook_endpoints: 'Webhook endpoints',
  products: 'Products',
  prices: 'Prices',
  checkout: 'Checkout Sessions',
};

const componentRef = (ref: string) => `#/components/schemas/${ref.replace(/#$/, '')}`;

/** Fastify's shared-schema references (`charge#`) as OpenAPI component references. */
function toComponentRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toComponentRefs);
  if (typeof schema !== 'object' || schema === null) return schema;
  return Object.fromEntries(
    Object.entries(schema).filter(([key]) => key !== '$id').map(([key, value]) => [key, key === '$ref' && typeof value === 'string' ? componentRef(value) : toComponentRefs(value)]),
  );
}

function tagOf(url: string): string {
  const resource = url.split('/')[2] ?? '';
  return TAGS[resource] ?? resource;
}

/** A query shape as OpenAPI parameters: nested objects (metadata, created[gte]) in deepObject style. */
function queryParameters(query: JsonSchema | undefined): JsonSchema[] {
  if (query === undefined) return [];
  const properties = (query.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((query.required ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => {
    const nested = schema.type === 'object' || schema.anyOf !== undefined || schema.type === 'array';
    return { name, in: 'query', required: required.has(name), schema, ...(nested ? { style: 'deepObject', explode: true } : {}) };
  });
}

function pathParameters(url: string): JsonSchema[] {
  return [...url.matchAll(/:([a-z_]+)/g)].map((match) => ({ name: match[1], in: 'path', required: true, schema: { type: 'string', maxLength: 64 } }));
}

function responsesOf(route: DocumentedRoute): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, schema] of Object.entries(route.schema.response)) {
    const code = status.toUpperCase();
    const description = code === '200' ? 'OK' : code === '4XX' ? 'The request was refused (invalid parameters, authentication, a missing object, a declined payment, …).' : 'Server error.';
    out[code] = { description, content: { 'application/json': { schema: toComponentRefs(schema) } } };
  }
  return out;
}

function operationOf(route: DocumentedRoute): Record<string, unknown> {
  const { schema } = route;
  const samples = CODE_SAMPLES[schema.operationId];
  const auth = route.auth === 'publishable' ? 'Also callable with a publishable key together with the PaymentIntent\'s `client_secret`.' : undefined;
  const description = [schema.description, auth, samples === undefined ? undefined : samplesMarkdown(samples)].filter((part) => part !== undefined).join('\n\n');
  // `expand` is taken by every route whose answer has expandable fields (http/expand.ts), outside the routes' own shapes.
  const expands = expandRootOf(route.method, route.url) !== null;
  const withExpand = (shape: JsonSchema | undefined): JsonSchema | undefined =>
    expands ? { type: 'object', ...shape, properties: { ...(shape?.properties as object | undefined), expand: EXPAND_JSON_SCHEMA } } : shape;
  const body = route.method === 'POST' ? withExpand(schema['x-zhifu-body']) : schema['x-zhifu-body'];
  const parameters = [...pathParameters(route.url), ...queryParameters(route.method === 'POST' ? schema['x-zhifu-query'] : withExpand(schema['x-zhifu-query']))];
  return {
    operationId: schema.operationId,
    summary: schema.summary,
    ...(description === '' ? {} : { description }),
    tags: [tagOf(route.url)],
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(body === undefined
      ? {}
      : { requestBody: { required: ((body.required ?? []) as string[]).length > 0, content: { 'application/x-www-form-urlencoded': { schema: body }, 'application/json': { schema: body } } } }),
    responses: responsesOf(route),
    ...(samples === undefined ? {} : { 'x-codeSamples': samples }),
  };
}

/**
 * The OpenAPI 3.1 document of the /v1 routes, from their own schemas (operation.ts): request
 * parameters from the `schema.ts` shapes, responses from the object schemas Fastify serializes
 * with. Deterministic (paths in registration order), so `docs/openapi.json` can be compared.
 */
export function buildOpenApiDocument(routes: readonly DocumentedRoute[], version: string): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.url.replace(/:([a-z_]+)/g, '{$1}');
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operationOf(route) };
  }
  const schemas = Object.fromEntries(sharedSchemas().map((schema) => [schema.$id as string, toComponentRefs(schema)]));
  const tags = [...new Set(routes.map((route) => tagOf(route.url)))].map((name) => ({ name }));
  return {
    openapi: '3.1.0',
    info: { title: 'Zhifu API', version, description: DESCRIPTION, license: { name: 'MIT', identifier: 'MIT' } },
    servers: [{ url: '/', description: 'This gateway' }],
    security: [{ bearerAuth: [] }, { basicAuth: [] }],
    tags,
    paths,
    components: {
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'A secret key (`sk_test_…`, `sk_live_…`) as the bearer token, as the stripe SDKs send it.' },
        basicAuth: { type: 'http', scheme: 'basic', description: 'A secret key as the user name and an empty password (WooshPay, `curl -u sk_test_…:`).' },
      },
      schemas,
    },
  };
}
