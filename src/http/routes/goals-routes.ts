import type { FastifyInstance } from 'fastify';
import { goalsUpdated } from '../../health/health-events.js';
import { GOAL_NAMES, GOAL_RULES, type GoalsPatch } from '../../health/metric-fields.js';
import { currentUser, requireUser } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { refuseUnknownFields, valueMessages, valuesBodySchema } from '../health-rules.js';
import { describedAs, USER_AUTH } from '../route-docs.js';

const readDoc = describedAs("The caller's goals (null where none is set)", USER_AUTH);

const putSchema = {
  summary: "Set or clear some of the caller's goals",
  description:
    'Fields left out keep their value; null clears a goal. Steps, sleep and calories are ' +
    'reached at or above the target, weight within 0.5 kg of it.',
  security: USER_AUTH,
  body: valuesBodySchema(GOAL_RULES),
};

const fieldMessages = valueMessages(GOAL_RULES);

/** The signed-in user's goals; a change commits with its `goals:updated` event. */
export async function goalsRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { goals } = context.health;
  const { outboxRelay } = context;
  const signedIn = requireUser(context);

  app.get('/api/goals', { onRequest: signedIn, schema: readDoc }, async (request) => {
    return { success: true, goals: await goals.read(currentUser(request).id) };
  });

  app.put<{ Body: GoalsPatch }>(
    '/api/goals',
    {
      onRequest: signedIn,
      preValidation: refuseUnknownFields(GOAL_NAMES),
      schema: putSchema,
      config: { fieldMessages },
    },
    async (request) => {
      const userId = currentUser(request).id;

      const result = await goals.write(userId, request.body, goalsUpdated);
      const [eventId] = await outboxRelay.deliver(userId, result.queued);

      const { goals: current, changed } = result;
      return { success: true, goals: current, changed, eventId: eventId ?? null };
    },
  );
}
