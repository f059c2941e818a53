import type { FastifyInstance } from 'fastify';
import { analyseUser } from '../../analytics/analytics-job.js';
import { currentUser, requireUser } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { describedAs, USER_AUTH } from '../route-docs.js';

const readDoc = describedAs(
  "The caller's analytics computed now, as the analytics job would send them",
  USER_AUTH,
);

/**
 * The signed-in user's analytics on demand, so a page has them before the next
 * `analytics:*` event; reading sends nothing and records nothing.
 */
export async function analyticsRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { metrics } = context.health;

  app.get(
    '/api/analytics',
    { onRequest: requireUser(context), schema: readDoc },
    async (request) => {
      const items = await analyseUser(metrics, currentUser(request).id);

      return { success: true, asOf: items[0]?.asOf ?? null, analytics: items };
    },
  );
}
