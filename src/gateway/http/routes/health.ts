import type { FastifyInstance } from 'fastify';
import { isReachable } from '../../store/database.js';

/** `/healthz`: the process answers. `/readyz`: and its database does too (api.md §8). */
export function registerHealthRoutes(app: FastifyInstance): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    if (await isReachable(app.core.database)) return { status: 'ready' };
    return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
  });
}
