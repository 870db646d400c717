import type { FastifyInstance, RouteOptions } from 'fastify';
import { toJsonSchema } from '../schema.js';
import type { JsonSchema, Shape } from '../schema.js';
import { responses } from './objects.js';
import type { ListedName, ObjectName } from './objects.js';

/**
 * What a /v1 route tells the OpenAPI document about itself, beside its response schemas (which
 * Fastify also serializes with). The request side is the route's own `schema.ts` shape, turned
 * into JSON Schema here; it sits under `x-zhifu-*` keys Fastify does not compile, because the
 * shapes themselves parse and refuse parameters with the API's error envelope.
 */
export interface OperationDoc {
  operationId: string;
  summary: string;
  description?: string;
  /** POST parameters (form or JSON body). */
  body?: Shape;
  /** GET parameters (query string). */
  query?: Shape;
}

export interface OperationSchema {
  response: Record<string, JsonSchema>;
  operationId: string;
  summary: string;
  description?: string;
  'x-zhifu-body'?: JsonSchema;
  'x-zhifu-query'?: JsonSchema;
}

/** Route options for a /v1 route: `app.post(url, { ...routeAuth('secret'), ...operation('refund', {…}) }, handler)`. */
export function operation(ok: ObjectName | `${ListedName}_list`, doc: OperationDoc): { schema: OperationSchema } {
  return {
    schema: {
      ...responses(ok),
      operationId: doc.operationId,
      summary: doc.summary,
      ...(doc.description === undefined ? {} : { description: doc.description }),
      ...(doc.body === undefined ? {} : { 'x-zhifu-body': toJsonSchema(doc.body) }),
      ...(doc.query === undefined ? {} : { 'x-zhifu-query': toJsonSchema(doc.query) }),
    },
  };
}

/** One documented route as registered. */
export interface DocumentedRoute {
  method: string;
  url: string;
  auth: string;
  schema: OperationSchema;
}

/**
 * Collects every /v1 route as it is registered; a /v1 route without `operation(…)` (no
 * response schema, no operationId) fails the app at startup, so none is left undocumented.
 */
export function collectOperations(app: FastifyInstance): readonly DocumentedRoute[] {
  const routes: DocumentedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    if (!route.url.startsWith('/v1/')) return;
    const methods = (Array.isArray(route.method) ? route.method : [route.method]).filter((method) => method !== 'HEAD');
    const schema = route.schema as Partial<OperationSchema> | undefined;
    if (schema?.operationId === undefined || schema.response === undefined) {
      throw new Error(`route ${methods.join(',')} ${route.url} has no response schema: declare it with operation(…) (http/openapi/operation.ts)`);
    }
    const auth = String((route.config as { auth?: unknown } | undefined)?.auth ?? 'none');
    for (const method of methods) routes.push({ method, url: route.url, auth, schema: schema as OperationSchema });
  });
  return routes;
}
