import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { EVENT_API_VERSION } from '../../core/event_views.js';
import { withRouteAuth } from '../auth.js';
import { buildOpenApiDocument } from './document.js';
import type { DocumentedRoute } from './operation.js';

/**
 * swagger-ui's page loads only its own scripts (served from /docs/static), its own styles (it
 * also sets inline styles) and the document from this gateway; nothing may come from elsewhere.
 */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The top bar's mark (instead of swagger-ui's default Fastify logo). */
const ZHIFU_LOGO = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="180" height="40" viewBox="0 0 180 40"><text x="0" y="29" font-family="sans-serif" font-size="26" font-weight="700" fill="#ffffff">Zhifu API</text></svg>',
);

/**
 * `GET /openapi.json` (the OpenAPI 3.1 document of the /v1 routes) and `GET /docs` (the
 * reference page, swagger-ui rendering that document, its assets served by this gateway). Both
 * take no API key. Registered after every /v1 route, so the document sees them all.
 */
export function registerOpenApiRoutes(app: FastifyInstance, routes: readonly DocumentedRoute[]): void {
  withRouteAuth(app, 'none', (scope) => {
    void scope.register(async (docs) => {
      const document = buildOpenApiDocument(routes, EVENT_API_VERSION);
      await docs.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
      docs.get('/openapi.json', async (_req, reply) => reply.header('cache-control', 'no-cache').send(docs.swagger()));
      await docs.register(fastifySwaggerUi, {
        routePrefix: '/docs',
        staticCSP: DOCS_CSP,
        uiConfig: { deepLinking: true, docExpansion: 'list', defaultModelsExpandDepth: 0, tryItOutEnabled: false },
        theme: { title: 'Zhifu API reference' },
        logo: { type: 'image/svg+xml', content: ZHIFU_LOGO, href: '/docs', target: '_self' },
      });
    });
  });
}
