import pg from 'pg';
import { createTablesLocked, openPool, type PoolOptions } from './postgres-pool.js';

import type {
  HistoryEvent,
  HistoryLimits,
  HistoryRead,
  HistoryStore,
  HistoryUsage,
} from '../core/history.js';

/** How a PostgreSQL history store connects, beyond its URL. */
export interface PostgresHistoryStoreOptions extends PoolOptions {
  /** The id before which a new database holds nothing; recorded when the tables are made. */
  coverageStart?: number;
}

// created_at holds milliseconds since the epoch, compared as numbers with the caller's `now`.
// The created_at index makes the age trim a range delete instead of a scan.
const CREATE_TABLES = `
  CREATE TABLE IF NOT EXISTS pulse_events (
    id BIGINT PRIMARY KEY,
    user_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    idempotency_key TEXT
  );
  CREATE INDEX IF NOT EXISTS pulse_events_user_id_id ON pulse_events (user_id, id);
  CREATE INDEX IF NOT EXISTS pulse_events_created_at ON pulse_events (created_at);
  CREATE UNIQUE INDEX IF NOT EXISTS pulse_events_idempotency_key
    ON pulse_events (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE TABLE IF NOT EXISTS pulse_history_floors (
    scope TEXT PRIMARY KEY,
    dropped_through BIGINT NOT NULL
  )`;

const EVENT_COLUMNS = 'id, user_id, type, payload, created_at, idempotency_key';

// Floors only rise: a trim that races another instance's never lowers what that one recorded.
const RAISE_FLOOR = `
  ON CONFLICT (scope) DO UPDATE
  SET dropped_through = GREATEST(pulse_history_floors.dropped_through, EXCLUDED.dropped_through)`;

// The trim cannot see the row this statement inserts, so it keeps `size - 1` older events ($7)
// and records the newest one it deletes as the user's floor.
const APPEND_AND_TRIM = `
  WITH newest_trimmed AS (
    SELECT id FROM pulse_events WHERE user_id = $2 ORDER BY id DESC OFFSET $7 LIMIT 1
  ), trimmed AS (
    DELETE FROM pulse_events
    WHERE user_id = $2 AND id <= (SELECT id FROM newest_trimmed)
    RETURNING id
  ), user_floor AS (
    INSERT INTO pulse_history_floors (scope, dropped_through)
    SELECT $2, max(id) FROM trimmed HAVING count(*) > 0
    ${RAISE_FLOOR}
  )
  INSERT INTO pulse_events (${EVENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)`;

// A later event may reuse the key of one that expired but is not deleted yet: the key moves to
// the new event, as it does in memory.
const RELEASE_KEY = `
  UPDATE pulse_events SET idempotency_key = NULL WHERE user_id = $1 AND idempotency_key = $2`;

const EXPIRE = `
  WITH expired AS (DELETE FROM pulse_events WHERE created_at < $1 RETURNING id)
  INSERT INTO pulse_history_floors (scope, dropped_through)
  SELECT $2::text, max(id) FROM expired HAVING count(*) > 0
  ${RAISE_FLOOR}`;

const NEWEST_ID = `
  SELECT max(id) AS id FROM (
    SELECT max(id) AS id FROM pulse_events
    UNION ALL SELECT max(dropped_through) FROM pulse_history_floors
  ) AS newest`;

const USAGE = `
  SELECT count(*) AS events, count(DISTINCT user_id) AS users,
         coalesce(sum(octet_length(payload)), 0) AS bytes
  FROM pulse_events`;

/** The floors row that holds the age trim's floor, shared by every user. */
const GLOBAL_SCOPE = '*';

// History begins when its tables are made: an id from before then (a wiped database, or an
// earlier in-memory history) must get sync:required rather than an empty replay.
function markCoverageStart(id: number): string {
  return `INSERT INTO pulse_history_floors (scope, dropped_through)
    VALUES ('${GLOBAL_SCOPE}', ${id}) ON CONFLICT (scope) DO NOTHING`;
}

// Expired events are deleted at most this often; until then they may be read a little late.
const EXPIRY_INTERVAL_MS = 1000;

// pg returns BIGINT (and counts) as strings, since they may exceed 2^53; ours do not.
interface EventRow {
  id: string;
  user_id: string;
  type: string;
  payload: string;
  created_at: string;
  idempotency_key: string | null;
}

/**
 * History in PostgreSQL, shared by every Pulse instance on the same database. It survives
 * restarts, floors included, so its coverage starts at id 0.
 */
export class PostgresHistoryStore implements HistoryStore {
  readonly #pool: pg.Pool;
  readonly #limits: HistoryLimits;
  // The `now` of the last age trim by this instance, so that trims run at most once per interval.
  #expiredAt = Number.NEGATIVE_INFINITY;
  #closing: Promise<void> | undefined;

  private constructor(pool: pg.Pool, limits: HistoryLimits) {
    this.#pool = pool;
    this.#limits = limits;
  }

  /** Connects a pool to a postgres:// URL and creates the tables if they are missing. */
  static async open(
    url: string,
    limits: HistoryLimits,
    options: PostgresHistoryStoreOptions = {},
  ): Promise<PostgresHistoryStore> {
    const pool = openPool(url, options);

    try {
      const coverageStart = Math.floor(options.coverageStart ?? Date.now() * 1000);
      await createTablesLocked(pool, CREATE_TABLES, markCoverageStart(coverageStart));
    } catch (error) {
      await pool.end();
      throw error;
    }

    return new PostgresHistoryStore(pool, limits);
  }

  /** Records an event and trims its user's oldest past `limits.size`, in one transaction. */
  async append(event: HistoryEvent): Promise<void> {
    await this.#expire(event.createdAt);

    // An empty key is no key, as in memory.
    const key = event.idempotencyKey || null;
    const { id, userId, type, json, createdAt } = event;
    const values = [id, userId, type, json, createdAt, key, this.#limits.size - 1];
    if (key === null) {
      await this.#pool.query(APPEND_AND_TRIM, values);
      return;
    }

    await this.#inTransaction(async (client) => {
      await client.query(RELEASE_KEY, [userId, key]);
      await client.query(APPEND_AND_TRIM, values);
    });
  }

  /** The user's events after `afterId`, and the floor below which history may have a gap. */
  async read(
    userId: string,
    afterId: number,
    now = Date.now(),
    limit?: number,
  ): Promise<HistoryRead> {
    await this.#expire(now);

    // Events are read before the floor: a trim in between can only raise the floor, which
    // errs towards a needless sync rather than a replay with a silent gap.
    const events = await this.#pool.query<EventRow>(
      `SELECT ${EVENT_COLUMNS} FROM pulse_events WHERE user_id = $1 AND id > $2 ORDER BY id
       LIMIT $3`,
      [userId, afterId, limit ?? null],
    );
    const floor = await this.#pool.query<{ floor: string | null }>(
      'SELECT max(dropped_through) AS floor FROM pulse_history_floors WHERE scope IN ($1, $2)',
      [GLOBAL_SCOPE, userId],
    );

    return { floor: Number(floor.rows[0]?.floor ?? 0), events: events.rows.map(toEvent) };
  }

  /** The id of the user's retained, unexpired event with this key; undefined when none. */
  async findByIdempotencyKey(userId: string, key: string, now = Date.now()) {
    await this.#expire(now);

    // The created_at bound hides an event that expired since the last (throttled) trim.
    const result = await this.#pool.query<{ id: string }>(
      `SELECT id FROM pulse_events
       WHERE user_id = $1 AND idempotency_key = $2 AND created_at >= $3`,
      [userId, key, now - this.#limits.ttlMs],
    );

    return result.rows[0]?.id;
  }

  /** The largest id held, or trimmed when nothing is held; undefined when none ever was. */
  async newestId(): Promise<number | undefined> {
    const result = await this.#pool.query<{ id: string | null }>(NEWEST_ID);
    const newest = result.rows[0]?.id;

    return newest === null || newest === undefined ? undefined : Number(newest);
  }

  /** Events and users held, and the payloads' size in bytes. */
  async usage(): Promise<HistoryUsage> {
    await this.#expire(Date.now());

    const result = await this.#pool.query<Record<keyof HistoryUsage, string>>(USAGE);
    const row = result.rows[0];

    return { events: Number(row?.events), users: Number(row?.users), bytes: Number(row?.bytes) };
  }

  /** Ends the pool after its running queries; closing twice is harmless. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end();

    return this.#closing;
  }

  async #expire(now: number): Promise<void> {
    if (now - this.#expiredAt < EXPIRY_INTERVAL_MS) return;

    this.#expiredAt = now;
    await this.#pool.query(EXPIRE, [now - this.#limits.ttlMs, GLOBAL_SCOPE]);
  }

  async #inTransaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.#pool.connect();

    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      // The connection may be mid-transaction or broken; destroy it rather than pool it.
      client.release(true);
      throw error;
    }
  }
}

function toEvent(row: EventRow): HistoryEvent {
  const event = {
    id: row.id,
    userId: row.user_id,
    type: row.type,
    json: row.payload,
    createdAt: Number(row.created_at),
  };

  return row.idempotency_key === null ? event : { ...event, idempotencyKey: row.idempotency_key };
}
