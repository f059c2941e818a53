import { randomBytes } from 'node:crypto';
import { createTokenService } from '../auth/jwt.js';
import { hashPassword } from '../auth/passwords.js';
import { isUserId } from '../ids.js';
import { openUserStore } from '../store/open-user-store.js';
import { toPublicUser, type UserStore } from '../store/user-store.js';
import { loadCommandConfig, print } from './environment.js';

/** Options of `pulse user add`. */
export interface AddUserOptions {
  email: string;
  name?: string;
  password?: string;
}

async function withStore<T>(databaseUrl: string, work: (store: UserStore) => Promise<T>) {
  const store = await openUserStore(databaseUrl);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** `pulse user add`: creates a user and prints it as JSON (with the password if generated). */
export async function addUser(options: AddUserOptions): Promise<void> {
  if (!/^[^\s@]+@[^\s@]+$/.test(options.email) || options.email.length > 254) {
    throw new Error('--email must be an email address');
  }
  const generatedPassword =
    options.password === undefined ? randomBytes(12).toString('base64url') : undefined;
  const password = options.password ?? generatedPassword ?? '';
  if (password.length < 8) throw new Error('--password must be at least 8 characters long');
  const { config } = loadCommandConfig();

  const user = await withStore(config.databaseUrl, async (store) =>
    store.createUser({
      email: options.email,
      name: options.name ?? '',
      passwordHash: await hashPassword(password),
    }),
  );

  const output = { ...toPublicUser(user), ...(generatedPassword ? { generatedPassword } : {}) };
  print(JSON.stringify(output, null, 2));
}

/** `pulse token`: prints a JWT for a user named by id or email. */
export async function printToken(who: string, expiresIn: string): Promise<void> {
  const { config } = loadCommandConfig();

  const user = await withStore(config.databaseUrl, (store) =>
    isUserId(who.toLowerCase()) ? store.findById(who.toLowerCase()) : store.findByEmail(who),
  );
  if (!user) throw new Error(`no user with id or email "${who}"`);

  print(await createTokenService(config.jwtSecret).sign(user.id, expiresIn));
}
