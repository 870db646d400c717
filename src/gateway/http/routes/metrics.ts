import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from '../../metrics/registry.js';
import { routeAuth } from '../context.js';

/**
 * `GET /metrics` (api.md §8): the Prometheus text exposition of this gateway's registry. It carries
 * no API key (a scraper is not a merchant); with `ZHIFU_METRICS_TOKEN` set it requires
 * `Authorization: Bearer <token>`.
 */
export function registerMetricsRoute(app: FastifyInstance, metrics: GatewayMetrics, token: string | null): void {
  const expected = token === null ? null : digest(token);
  app.get('/metrics', routeAuth('none'), async (req, reply) => {
    if (expected !== null && !bearerMatches(req.headers.authorization, expected)) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="metrics"').type('text/plain; charset=utf-8').send('metrics require Authorization: Bearer <ZHIFU_METRICS_TOKEN>\n');
    }
    const body = await metrics.exposition();
    return reply.type(metrics.contentType).send(body);
  });
}

/** Compares digests, so the comparison takes the same time whatever the given token's length or content. */
function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = header === undefined ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  const given = digest(match?.[1] ?? '');
  return timingSafeEqual(given, expected) && match !== null;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
