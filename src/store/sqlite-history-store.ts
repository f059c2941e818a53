import Database from 'better-sqlite3';
import { openSqliteFile } from './sqlite-file.js';

import type {
  HistoryEvent,
  HistoryLimits,
  HistoryRead,
  HistoryStore,
  HistoryUsage,
} from '../core/history.js';

// Ids and created_at are integers below 2^53 (microseconds and milliseconds since the epoch),
// so they come back as exact JavaScript numbers. The created_at index makes the age trim a
// range delete instead of a scan of every user's history.
const CREATE_TABLES = `
  CREATE TABLE IF NOT EXISTS pulse_events (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    idempotency_key TEXT
  );
  CREATE INDEX IF NOT EXISTS pulse_events_user_id_id ON pulse_events (user_id, id);
  CREATE INDEX IF NOT EXISTS pulse_events_created_at ON pulse_events (created_at);
  CREATE UNIQUE INDEX IF NOT EXISTS pulse_events_idempotency_key
    ON pulse_events (user_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
  CREATE TABLE IF NOT EXISTS pulse_history_floors (
    scope TEXT PRIMARY KEY,
    dropped_through INTEGER NOT NULL
  )`;

const EVENT_COLUMNS = 'id, user_id, type, payload, created_at, idempotency_key';

/** The floors row that holds the age trim's floor, shared by every user. */
const GLOBAL_SCOPE = '*';

// Expired events are deleted at most this often; until then they may be read a little late.
const EXPIRY_INTERVAL_MS = 1000;

interface EventRow {
  id: number;
  user_id: string;
  type: string;
  payload: string;
  created_at: number;
  idempotency_key: string | null;
}

interface UsageRow {
  events: number;
  users: number;
  bytes: number;
}

/** The statements that only read. */
interface Queries {
  events: Database.Statement<[string, number, number], EventRow>;
  floor: Database.Statement<[string, string], number | null>;
  keyed: Database.Statement<[string, string, number], number>;
  newest: Database.Statement<[], number | null>;
  usage: Database.Statement<[], UsageRow>;
}

/**
 * History in a SQLite file, on its own connection (the user store may hold another to the same
 * file). It survives restarts, floors included, so its coverage starts at id 0.
 */
export class SqliteHistoryStore implements HistoryStore {
  readonly #database: Database.Database;
  readonly #limits: HistoryLimits;
  readonly #queries: Queries;
  readonly #appendEvent: (row: EventRow) => void;
  readonly #expireBefore: (cutoff: number) => void;
  // The `now` of the last age trim, so that trims run at most once per interval.
  #expiredAt = Number.NEGATIVE_INFINITY;

  /**
   * Opens (creating if missing) the database file, its parent folder and the tables.
   * `coverageStart` is the id before which a new database holds nothing (recorded once).
   */
  constructor(filename: string, limits: HistoryLimits, coverageStart = Date.now() * 1000) {
    const { database, prepared } = openSqliteFile(filename, (opened) => {
      opened.exec(CREATE_TABLES);
      // History begins when its tables are made: an id from before then (a wiped database, or
      // an earlier in-memory history) must get sync:required rather than an empty replay.
      opened
        .prepare(
          'INSERT OR IGNORE INTO pulse_history_floors (scope, dropped_through) VALUES (?, ?)',
        )
        .run(GLOBAL_SCOPE, coverageStart);

      return {
        queries: prepareQueries(opened),
        appendEvent: opened.transaction(appendTransaction(opened, limits.size)),
        expireBefore: opened.transaction(expireTransaction(opened)),
      };
    });

    this.#queries = prepared.queries;
    this.#appendEvent = prepared.appendEvent;
    this.#expireBefore = prepared.expireBefore;
    this.#database = database;
    this.#limits = limits;
  }

  /** Records an event and trims its user's oldest past `limits.size`, in one transaction. */
  async append(event: HistoryEvent): Promise<void> {
    this.#appendEvent({
      id: Number(event.id),
      user_id: event.userId,
      type: event.type,
      payload: event.json,
      created_at: event.createdAt,
      // An empty key is no key, as in memory.
      idempotency_key: event.idempotencyKey || null,
    });
    this.#expire(event.createdAt);
  }

  /** The user's events after `afterId`, and the floor below which history may have a gap. */
  async read(userId: string, afterId: number, now = Date.now(), limit = -1): Promise<HistoryRead> {
    this.#expire(now);

    // Events are read before the floor: a trim in between can only raise the floor, which
    // errs towards a needless sync rather than a replay with a silent gap.
    const rows = this.#queries.events.all(userId, afterId, limit);
    const floor = this.#queries.floor.get(GLOBAL_SCOPE, userId);

    return { floor: Math.max(0, floor ?? 0), events: rows.map(toEvent) };
  }

  /** The id of the user's retained, unexpired event with this key; undefined when none. */
  async findByIdempotencyKey(userId: string, key: string, now = Date.now()) {
    this.#expire(now);

    // The created_at bound hides an event that expired since the last (throttled) trim.
    const id = this.#queries.keyed.get(userId, key, now - this.#limits.ttlMs);

    return id === undefined ? undefined : String(id);
  }

  /** The largest id held, or trimmed when nothing is held; undefined when none ever was. */
  async newestId(): Promise<number | undefined> {
    const newest = this.#queries.newest.get();

    return newest ?? undefined;
  }

  /** Events and users held, and the payloads' size in bytes. */
  async usage(): Promise<HistoryUsage> {
    this.#expire(Date.now());

    const row = this.#queries.usage.get();

    return { events: row?.events ?? 0, users: row?.users ?? 0, bytes: row?.bytes ?? 0 };
  }

  /** Closes the connection; closing twice is harmless. */
  async close(): Promise<void> {
    if (this.#database.open) this.#database.close();
  }

  #expire(now: number): void {
    if (now - this.#expiredAt < EXPIRY_INTERVAL_MS) return;

    this.#expiredAt = now;
    this.#expireBefore(now - this.#limits.ttlMs);
  }
}

function prepareQueries(database: Database.Database): Queries {
  return {
    events: database.prepare(
      `SELECT ${EVENT_COLUMNS} FROM pulse_events WHERE user_id = ? AND id > ? ORDER BY id LIMIT ?`,
    ),
    floor: database
      .prepare<[string, string], number | null>(
        'SELECT max(dropped_through) FROM pulse_history_floors WHERE scope IN (?, ?)',
      )
      .pluck(),
    keyed: database
      .prepare<[string, string, number], number>(
        `SELECT id FROM pulse_events
         WHERE user_id = ? AND idempotency_key = ? AND created_at >= ?`,
      )
      .pluck(),
    // Aggregate max skips the NULL of an empty table, where the two-argument max would not.
    newest: database
      .prepare<[], number | null>(
        `SELECT max(id) FROM (
           SELECT max(id) AS id FROM pulse_events
           UNION ALL SELECT max(dropped_through) FROM pulse_history_floors)`,
      )
      .pluck(),
    usage: database.prepare(
      `SELECT count(*) AS events, count(DISTINCT user_id) AS users,
              coalesce(sum(length(CAST(payload AS BLOB))), 0) AS bytes
       FROM pulse_events`,
    ),
  };
}

// A later event may reuse the key of one that expired but is not deleted yet: the key moves to
// the new event, as it does in memory. Past `size` events, the user's oldest go, and the
// newest of them becomes the user's floor.
function appendTransaction(database: Database.Database, size: number): (row: EventRow) => void {
  const releaseKey = database.prepare<[string, string]>(
    'UPDATE pulse_events SET idempotency_key = NULL WHERE user_id = ? AND idempotency_key = ?',
  );
  const insert = database.prepare<[EventRow]>(
    `INSERT INTO pulse_events (${EVENT_COLUMNS})
     VALUES (@id, @user_id, @type, @payload, @created_at, @idempotency_key)`,
  );
  const newestTrimmed = database
    .prepare<[string, number], number>(
      'SELECT id FROM pulse_events WHERE user_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?',
    )
    .pluck();
  const trimThrough = database.prepare<[string, number]>(
    'DELETE FROM pulse_events WHERE user_id = ? AND id <= ?',
  );
  const raiseFloor = raiseFloorStatement(database);

  return (row) => {
    if (row.idempotency_key !== null) releaseKey.run(row.user_id, row.idempotency_key);
    insert.run(row);

    const trimmedThrough = newestTrimmed.get(row.user_id, size);
    if (trimmedThrough === undefined) return;
    trimThrough.run(row.user_id, trimmedThrough);
    raiseFloor.run(row.user_id, trimmedThrough);
  };
}

// Events created before the cutoff go, and the newest of them becomes everybody's floor.
function expireTransaction(database: Database.Database): (cutoff: number) => void {
  const newestExpired = database
    .prepare<[number], number | null>('SELECT max(id) FROM pulse_events WHERE created_at < ?')
    .pluck();
  const deleteExpired = database.prepare<[number]>('DELETE FROM pulse_events WHERE created_at < ?');
  const raiseFloor = raiseFloorStatement(database);

  return (cutoff) => {
    const expiredThrough = newestExpired.get(cutoff);
    if (expiredThrough === null || expiredThrough === undefined) return;

    deleteExpired.run(cutoff);
    raiseFloor.run(GLOBAL_SCOPE, expiredThrough);
  };
}

// Floors only rise: a trim that races another never lowers what the other recorded.
function raiseFloorStatement(database: Database.Database): Database.Statement<[string, number]> {
  return database.prepare<[string, number]>(
    `INSERT INTO pulse_history_floors (scope, dropped_through) VALUES (?, ?)
     ON CONFLICT (scope) DO UPDATE
     SET dropped_through = max(dropped_through, excluded.dropped_through)`,
  );
}

function toEvent(row: EventRow): HistoryEvent {
  const event = {
    id: String(row.id),
    userId: row.user_id,
    type: row.type,
    json: row.payload,
    createdAt: row.created_at,
  };

  return row.idempotency_key === null ? event : { ...event, idempotencyKey: row.idempotency_key };
}
