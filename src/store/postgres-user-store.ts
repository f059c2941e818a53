import pg from 'pg';

import { PulseError } from '../errors.js';
import { newUserId } from '../ids.js';
import { createTablesLocked, openPool, type PoolOptions } from './postgres-pool.js';
import { normalizeEmail, type NewUser, type User, type UserStore } from './user-store.js';

/** How a PostgreSQL user store connects, beyond its URL. */
export type PostgresUserStoreOptions = PoolOptions;

// The constraint is named so a clash on it can be told apart from one on the primary key.
const EMAIL_CONSTRAINT = 'users_email_unique';

const CREATE_USERS_TABLE = `
  CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL CONSTRAINT ${EMAIL_CONSTRAINT} UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
  )`;

const USER_COLUMNS = 'id, email, name, password_hash, created_at';

// SQLSTATE unique_violation.
const UNIQUE_VIOLATION = '23505';

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: Date;
}

/** A user store in PostgreSQL, shared by every Pulse instance that uses the same database. */
export class PostgresUserStore implements UserStore {
  readonly #pool: pg.Pool;
  #closing: Promise<void> | undefined;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  /** Connects a pool to a postgres:// URL and creates the users table if it is missing. */
  static async open(
    url: string,
    options: PostgresUserStoreOptions = {},
  ): Promise<PostgresUserStore> {
    const pool = openPool(url, options);

    try {
      await createTablesLocked(pool, CREATE_USERS_TABLE);
    } catch (error) {
      await pool.end();
      throw error;
    }

    return new PostgresUserStore(pool);
  }

  /** Creates a user with a new id; throws PulseError('EMAIL_TAKEN') when the email is in use. */
  async createUser(input: NewUser): Promise<User> {
    const createdAt = new Date();
    const row: UserRow = {
      id: newUserId(createdAt.getTime()),
      email: normalizeEmail(input.email),
      name: input.name,
      password_hash: input.passwordHash,
      created_at: createdAt,
    };

    try {
      await this.#pool.query(`INSERT INTO users (${USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5)`, [
        row.id,
        row.email,
        row.name,
        row.password_hash,
        row.created_at,
      ]);
    } catch (error) {
      if (isEmailClash(error)) throw new PulseError('EMAIL_TAKEN');
      throw error;
    }

    return toUser(row);
  }

  /** Finds a user by id; undefined when there is none. */
  async findById(id: string): Promise<User | undefined> {
    const result = await this.#pool.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE id = $1`,
      [id],
    );
    const row = result.rows[0];

    return row === undefined ? undefined : toUser(row);
  }

  /** Finds a user by email, ignoring case and surrounding spaces; undefined when there is none. */
  async findByEmail(email: string): Promise<User | undefined> {
    const result = await this.#pool.query<UserRow>(
      `SELECT ${USER_COLUMNS} FROM users WHERE email = $1`,
      [normalizeEmail(email)],
    );
    const row = result.rows[0];

    return row === undefined ? undefined : toUser(row);
  }

  /** Deletes a user; tells whether one was deleted. */
  async deleteUser(id: string): Promise<boolean> {
    const result = await this.#pool.query('DELETE FROM users WHERE id = $1', [id]);

    return (result.rowCount ?? 0) > 0;
  }

  /** Resolves when the database answers; rejects otherwise, and once the store is closed. */
  async ping(): Promise<void> {
    await this.#pool.query('SELECT 1');
  }

  /** Ends the pool after its running queries; closing twice is harmless. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end();

    return this.#closing;
  }
}

// Emails are stored in this form, so the UNIQUE constraint compares them case-insensitively.
function isEmailClash(error: unknown): boolean {
  return (
    error instanceof pg.DatabaseError &&
    error.code === UNIQUE_VIOLATION &&
    error.constraint === EMAIL_CONSTRAINT
  );
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    createdAt: row.created_at,
  };
}
