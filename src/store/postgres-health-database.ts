import pg from 'pg';
import { openPool, type PoolOptions } from './postgres-pool.js';

/** How the PostgreSQL health stores connect, beyond their URL. */
/** How the health database connects, beyond its URL. */
export type PostgresHealthOptions = PoolOptions;

// The users table must exist first (the user store creates it): rows follow their user out
// through the foreign keys. The outbox's identity column never reuses a seq, so an idempotency
// key derived from one never names two events.
const CREATE_TABLES = `
  CREATE TABLE IF NOT EXISTS metric_days (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    date TEXT NOT NULL,
    steps INTEGER,
    distance DOUBLE PRECISION,
    calories INTEGER,
    active_minutes INTEGER,
    sleep_minutes INTEGER,
    weight DOUBLE PRECISION,
    heart_rate_resting DOUBLE PRECISION,
    heart_rate_average DOUBLE PRECISION,
    goals_reached TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, date)
  );
  CREATE TABLE IF NOT EXISTS goals (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    daily_steps INTEGER,
    sleep_minutes INTEGER,
    calories INTEGER,
    weight DOUBLE PRECISION,
    updated_at BIGINT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS event_outbox (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    queued_at BIGINT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS event_outbox_user_seq ON event_outbox (user_id, seq);
  CREATE TABLE IF NOT EXISTS analytics_sent (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    digest TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, metric)
  )`;

// The user and history stores take the same lock while creating their tables, so every Pulse
// table is created by one instance at a time.
const CREATE_TABLE_LOCK_KEY = 0x70756c7365; // "pulse" in ASCII

// Writes of one user take this lock (with the user's hash as the second key) for their
// transaction, so two writes of the same day cannot both read it before either writes.
const USER_WRITE_LOCK_CLASS = 0x6865616c; // "heal" in ASCII

/** A pool to the database, with the per-user write transaction the health stores share. */
export class PostgresHealthDatabase {
  readonly pool: pg.Pool;
  #closing: Promise<void> | undefined;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** Connects to a postgres:// URL and creates the health tables if they are missing. */
  static async open(
    url: string,
    options: PostgresHealthOptions = {},
  ): Promise<PostgresHealthDatabase> {
    const pool = openPool(url, options);

    const database = new PostgresHealthDatabase(pool);
    try {
      await database.#inTransaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock($1)', [CREATE_TABLE_LOCK_KEY]);
        await client.query(CREATE_TABLES);
      });
    } catch (error) {
      await pool.end();
      throw error;
    }

    return database;
  }

  /** Runs `work` in a transaction that holds the user's write lock; commits if it resolves. */
  forUser<T>(userId: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#inTransaction(async (client) => {
      await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        USER_WRITE_LOCK_CLASS,
        userId,
      ]);
      return work(client);
    });
  }

  /** Ends the pool after its running queries; closing twice is harmless. */
  close(): Promise<void> {
    this.#closing ??= this.pool.end();

    return this.#closing;
  }

  async #inTransaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();

    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (error) {
      // The connection may be mid-transaction or broken; destroy it rather than pool it.
      client.release(true);
      throw error;
    }
  }
}
