import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT_MS = 5000;

/**
 * Opens (creating if missing) a SQLite file and its folder in WAL mode, then runs `setUp`
 * (tables, prepared statements); the database is closed again if that fails.
 */
export function openSqliteFile<T>(
  filename: string,
  setUp: (database: Database.Database) => T,
): { database: Database.Database; prepared: T } {
  if (filename !== ':memory:' && filename !== '') {
    mkdirSync(dirname(filename), { recursive: true });
  }
  const database = new Database(filename);

  try {
    // The busy timeout goes first: switching to WAL needs a lock another process may hold.
    database.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    database.pragma('journal_mode = WAL');
    return { database, prepared: setUp(database) };
  } catch (error) {
    database.close();
    throw error;
  }
}
