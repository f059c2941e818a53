import type { FastifyInstance } from 'fastify';
import { errorBody } from '../../errors.js';
import type { AppContext } from '../context.js';
import { describedAs } from '../route-docs.js';

/** Liveness and readiness, for load balancers and orchestrators. */
export async function healthRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  app.get('/healthz', { schema: describedAs('Liveness') }, async () => ({
    success: true,
    status: 'ok',
  }));

  app.get(
    '/readyz',
    { schema: describedAs('Readiness: the database (and Redis, when used) answers') },
    async (request, reply) => {
      if (context.lifecycle.shuttingDown) {
        return reply.status(503).send(errorBody('SHUTTING_DOWN'));
      }

      try {
        await context.store.ping();
      } catch (error) {
        request.log.error({ err: error }, 'database unreachable');
        return reply.status(503).send(errorBody('NOT_READY', 'The database is not reachable'));
      }
      // Redis being away is logged once by the bus itself; readiness just says so.
      const busUp = await (context.bus?.ping() ?? Promise.resolve()).then(
        () => true,
        () => false,
      );
      if (!busUp) return reply.status(503).send(errorBody('NOT_READY', 'Redis is not reachable'));

      return { success: true, status: 'ready' };
    },
  );
}
