import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { hashPassword } from '../../auth/passwords.js';
import { PulseError } from '../../errors.js';
import { toPublicUser } from '../../store/user-store.js';
import { requireService } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { SERVICE_AUTH } from '../route-docs.js';

const ensureUserSchema = {
  summary: 'Find or create a user by email (for importers)',
  security: SERVICE_AUTH,
  body: {
    type: 'object',
    required: ['email'],
    properties: {
      email: { type: 'string', minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' },
      name: { type: 'string', maxLength: 100 },
    },
  },
};

const fieldMessages = {
  'body.email': 'email must be an email address',
  'body.name': 'name must be text of at most 100 characters',
};

/**
 * Routes for backend services. `POST /api/service/users` finds or creates a user by email, so
 * an importer (such as `pulse replay`) maps its own people to Pulse users idempotently. Users
 * made this way get a random password nobody knows; they sign in with tokens from `pulse token`.
 */
export async function serviceRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { store } = context;

  app.post<{ Body: { email: string; name?: string } }>(
    '/api/service/users',
    { onRequest: requireService(context), schema: ensureUserSchema, config: { fieldMessages } },
    async (request) => {
      const { email, name = '' } = request.body;

      const existing = await store.findByEmail(email);
      if (existing) return { success: true, created: false, user: toPublicUser(existing) };

      const passwordHash = await hashPassword(randomBytes(32).toString('base64url'));
      try {
        const user = await store.createUser({ email, name: name.trim(), passwordHash });
        return { success: true, created: true, user: toPublicUser(user) };
      } catch (error) {
        // Lost a race with a concurrent call for the same email: answer with the winner.
        const winner = error instanceof PulseError ? await store.findByEmail(email) : undefined;
        if (!winner) throw error;
        return { success: true, created: false, user: toPublicUser(winner) };
      }
    },
  );
}
