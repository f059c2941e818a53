import Database from 'better-sqlite3';
import { openSqliteFile } from './sqlite-file.js';

// Dates are `YYYY-MM-DD` text, so they sort and compare as dates. goals_reached lists the
// goals a day has announced, comma-separated. The outbox's AUTOINCREMENT never reuses a seq,
// so an idempotency key derived from one never names two events.
const CREATE_TABLES = `
  CREATE TABLE IF NOT EXISTS metric_days (
    user_id TEXT NOT NULL,
    date TEXT NOT NULL,
    steps INTEGER,
    distance REAL,
    calories INTEGER,
    active_minutes INTEGER,
    sleep_minutes INTEGER,
    weight REAL,
    heart_rate_resting REAL,
    heart_rate_average REAL,
    goals_reached TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, date)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS goals (
    user_id TEXT PRIMARY KEY,
    daily_steps INTEGER,
    sleep_minutes INTEGER,
    calories INTEGER,
    weight REAL,
    updated_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS event_outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    queued_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS event_outbox_user_seq ON event_outbox (user_id, seq);
  CREATE TABLE IF NOT EXISTS analytics_sent (
    user_id TEXT NOT NULL,
    metric TEXT NOT NULL,
    digest TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, metric)
  ) WITHOUT ROWID`;

// The user store's connection does not turn foreign keys on (a per-connection pragma), so a
// trigger, which fires on any connection, deletes a user's health data with the user.
const CREATE_DELETE_TRIGGER = `
  CREATE TRIGGER IF NOT EXISTS users_delete_health_data AFTER DELETE ON users
  BEGIN
    DELETE FROM metric_days WHERE user_id = OLD.id;
    DELETE FROM goals WHERE user_id = OLD.id;
    DELETE FROM event_outbox WHERE user_id = OLD.id;
    DELETE FROM analytics_sent WHERE user_id = OLD.id;
  END`;

/**
 * Opens the SQLite file (creating it, its folder and the health tables when missing). The
 * deletion trigger is added when the users table exists, as it does once the user store has
 * opened the same file; a private `:memory:` database has no users to follow.
 */
export function openSqliteHealthDatabase(filename: string): Database.Database {
  const { database } = openSqliteFile(filename, (opened) => {
    opened.exec(CREATE_TABLES);
    const users = opened
      .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'users'")
      .get();
    if (users !== undefined) opened.exec(CREATE_DELETE_TRIGGER);
  });

  return database;
}
