/** A user as the database holds it. The password hash never leaves the server. */
export interface User {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  readonly passwordHash: string;
  readonly createdAt: Date;
}

/** What a client may see of a user. */
export interface PublicUser {
  id: string;
  email: string;
  name: string;
}

/** The fields needed to create a user; the store generates the id and creation time. */
export interface NewUser {
  email: string;
  name: string;
  passwordHash: string;
}

/**
 * Where users live. Two implementations (SQLite, PostgreSQL) pass the same suite. Emails are
 * stored lowercased and are unique; `createUser` throws PulseError('EMAIL_TAKEN') on a clash,
 * including one lost to a concurrent insert.
 */
export interface UserStore {
  /** Creates a user with a new id. */
  createUser(input: NewUser): Promise<User>;
  /** Finds a user by id; undefined when there is none. */
  findById(id: string): Promise<User | undefined>;
  /** Finds a user by email, compared case-insensitively; undefined when there is none. */
  findByEmail(email: string): Promise<User | undefined>;
  /** Deletes a user; tells whether one was deleted. */
  deleteUser(id: string): Promise<boolean>;
  /** Resolves when the database answers; rejects otherwise. Used by readiness. */
  ping(): Promise<void>;
  /** Releases the connection or pool. */
  close(): Promise<void>;
}

/** Strips what a client must not see. */
export function toPublicUser(user: User): PublicUser {
  return { id: user.id, email: user.email, name: user.name };
}

/** Emails are compared and stored trimmed and lowercased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
