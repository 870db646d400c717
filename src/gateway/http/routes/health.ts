import type { FastifyInstance } from 'fastify';
import { isReachable } from '../../store/database.js';
import { routeAuth } from '../context.js';

/** `/healthz`: the process answers. `/readyz`: and its database does too (api.md §8). */
export function registerHealthRoutes(app: FastifyInstance): void {
  app.get('/healthz', routeAuth('none'), async () => ({ status: 'ok' }));
  app.get('/readyz', routeAuth('none'), async (_req, reply) => {
    if (await isReachable(app.core.database)) return { status: 'ready' };
    return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
  });
}
