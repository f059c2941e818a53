import Database from 'better-sqlite3';

import { PulseError } from '../errors.js';
import { newUserId } from '../ids.js';
import { openSqliteFile } from './sqlite-file.js';
import { normalizeEmail, type NewUser, type User, type UserStore } from './user-store.js';

// created_at holds milliseconds since the epoch: it turns back into the same Date exactly.
const CREATE_USERS_TABLE = `
  CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  )`;

const USER_COLUMNS = 'id, email, name, password_hash, created_at';

interface UserRow {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  created_at: number;
}

/**
 * A user store in one SQLite file (or `:memory:`), for a single Pulse instance. better-sqlite3
 * is synchronous, so each method does its work before its promise settles.
 */
export class SqliteUserStore implements UserStore {
  readonly #database: Database.Database;
  readonly #insertUser: Database.Statement<[UserRow]>;
  readonly #selectById: Database.Statement<[string], UserRow>;
  readonly #selectByEmail: Database.Statement<[string], UserRow>;
  readonly #deleteById: Database.Statement<[string]>;
  readonly #selectOne: Database.Statement<[]>;

  /** Opens (creating if missing) the database file and its parent folder, and the table. */
  constructor(filename: string) {
    const { database, prepared } = openSqliteFile(filename, (opened) => {
      opened.exec(CREATE_USERS_TABLE);

      return {
        insertUser: opened.prepare<[UserRow]>(
          `INSERT INTO users (${USER_COLUMNS})
           VALUES (@id, @email, @name, @password_hash, @created_at)`,
        ),
        selectById: opened.prepare<[string], UserRow>(
          `SELECT ${USER_COLUMNS} FROM users WHERE id = ?`,
        ),
        selectByEmail: opened.prepare<[string], UserRow>(
          `SELECT ${USER_COLUMNS} FROM users WHERE email = ?`,
        ),
        deleteById: opened.prepare<[string]>('DELETE FROM users WHERE id = ?'),
        selectOne: opened.prepare<[]>('SELECT 1'),
      };
    });

    this.#database = database;
    this.#insertUser = prepared.insertUser;
    this.#selectById = prepared.selectById;
    this.#selectByEmail = prepared.selectByEmail;
    this.#deleteById = prepared.deleteById;
    this.#selectOne = prepared.selectOne;
  }

  /** Creates a user with a new id; throws PulseError('EMAIL_TAKEN') when the email is in use. */
  async createUser(input: NewUser): Promise<User> {
    const now = Date.now();
    const row: UserRow = {
      id: newUserId(now),
      email: normalizeEmail(input.email),
      name: input.name,
      password_hash: input.passwordHash,
      created_at: now,
    };

    try {
      this.#insertUser.run(row);
    } catch (error) {
      if (isEmailClash(error)) throw new PulseError('EMAIL_TAKEN');
      throw error;
    }

    return toUser(row);
  }

  /** Finds a user by id; undefined when there is none. */
  async findById(id: string): Promise<User | undefined> {
    const row = this.#selectById.get(id);

    return row === undefined ? undefined : toUser(row);
  }

  /** Finds a user by email, ignoring case and surrounding spaces; undefined when there is none. */
  async findByEmail(email: string): Promise<User | undefined> {
    const row = this.#selectByEmail.get(normalizeEmail(email));

    return row === undefined ? undefined : toUser(row);
  }

  /** Deletes a user; tells whether one was deleted. */
  async deleteUser(id: string): Promise<boolean> {
    return this.#deleteById.run(id).changes > 0;
  }

  /** Resolves when the database answers; rejects once the store is closed. */
  async ping(): Promise<void> {
    this.#selectOne.get();
  }

  /** Closes the database; closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#database.open) this.#database.close();
  }
}

// Emails are stored in this form, so the UNIQUE constraint compares them case-insensitively.
// The primary key reports SQLITE_CONSTRAINT_PRIMARYKEY, so a plain UNIQUE failure is the email.
function isEmailClash(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    createdAt: new Date(row.created_at),
  };
}
