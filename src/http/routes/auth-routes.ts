import type { FastifyInstance } from 'fastify';
import { hashPassword, verifyAgainstDecoy, verifyPassword } from '../../auth/passwords.js';
import { BusUnavailableError } from '../../bus/remote-bus.js';
import { PulseError } from '../../errors.js';
import { toPublicUser } from '../../store/user-store.js';
import { currentUser, requireUser } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { describedAs, USER_AUTH } from '../route-docs.js';

const email = { type: 'string', minLength: 3, maxLength: 254, pattern: '^[^\\s@]+@[^\\s@]+$' };
const password = { type: 'string', minLength: 8, maxLength: 1024 };

const meDoc = describedAs('The signed-in user', USER_AUTH);
const deleteDoc = describedAs('Delete the account and end its open streams', USER_AUTH);

const registerSchema = {
  summary: 'Create an account; answers with a token',
  body: {
    type: 'object',
    required: ['email', 'password'],
    properties: { email, password, name: { type: 'string', maxLength: 100 } },
  },
};

const loginSchema = {
  summary: 'Sign in; answers with a token',
  body: {
    type: 'object',
    required: ['email', 'password'],
    properties: { email: { type: 'string', maxLength: 254 }, password: { type: 'string' } },
  },
};

const fieldMessages = {
  'body.email': 'email must be an email address',
  'body.password': 'password must be 8 to 1024 characters long',
  'body.name': 'name must be text of at most 100 characters',
};

interface Credentials {
  email: string;
  password: string;
  name?: string;
}

/** Sign-up, sign-in and the signed-in user's own account. */
export async function authRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { store, tokens } = context;
  const signedIn = requireUser(context);

  app.post<{ Body: Credentials }>(
    '/api/auth/register',
    { schema: registerSchema, config: { fieldMessages } },
    async (request, reply) => {
      const { email: address, password: secret, name } = request.body;
      const passwordHash = await hashPassword(secret);

      const user = await store.createUser({
        email: address,
        name: name?.trim() ?? '',
        passwordHash,
      });
      const token = await tokens.sign(user.id);

      return reply.status(201).send({ success: true, token, user: toPublicUser(user) });
    },
  );

  app.post<{ Body: Credentials }>(
    '/api/auth/login',
    { schema: loginSchema, config: { fieldMessages } },
    async (request) => {
      const { email: address, password: secret } = request.body;
      const user = await store.findByEmail(address);

      // Unknown email and wrong password take the same time and give the same answer.
      const valid = user
        ? await verifyPassword(secret, user.passwordHash)
        : await verifyAgainstDecoy(secret);
      if (!user || !valid) throw new PulseError('BAD_CREDENTIALS');

      return { success: true, token: await tokens.sign(user.id), user: toPublicUser(user) };
    },
  );

  app.get('/api/auth/me', { onRequest: signedIn, schema: meDoc }, async (request) => {
    const { id, email: address, name } = currentUser(request);

    return { success: true, user: { id, email: address, name } };
  });

  app.delete('/api/auth/me', { onRequest: signedIn, schema: deleteDoc }, async (request) => {
    const { id } = currentUser(request);
    const { bus } = context;
    // Other instances hear of the deletion through the bus: with the bus down, their streams
    // of this user would outlive the account. Refused before anything changes.
    if (bus && !bus.ready()) throw new BusUnavailableError();

    await store.deleteUser(id);
    const streamsClosed = context.hub.closeUser(id, 'user_deleted');
    request.log.info({ userId: id, streamsClosed }, 'user deleted');
    // Only once the deletion is committed: a notice must never end the streams of an account
    // that still exists. It is sent again until Redis takes it.
    bus?.announceUserDeleted(id);

    return { success: true, message: 'Account deleted', streamsClosed };
  });
}
