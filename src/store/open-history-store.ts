import type { HistoryLimits, HistoryStore } from '../core/history.js';
import { parseDatabaseUrl } from './database-url.js';
import {
  PostgresHistoryStore,
  type PostgresHistoryStoreOptions,
} from './postgres-history-store.js';
import { SqliteHistoryStore } from './sqlite-history-store.js';

/** Options for openHistoryStore. */
export interface OpenHistoryStoreOptions {
  /** Used only when the URL names a PostgreSQL database. */
  postgres?: PostgresHistoryStoreOptions;
  /**
   * The id before which a new database holds nothing (default: now). Recorded once, when the
   * tables are made; tests that write events dated in the past set it to 0.
   */
  coverageStart?: number;
}

/**
 * Opens the history store in the database a URL names, with the same URL forms as the user
 * store. `sqlite::memory:` gives a private database that lasts as long as the store.
 */
export async function openHistoryStore(
  databaseUrl: string,
  limits: HistoryLimits,
  options: OpenHistoryStoreOptions = {},
): Promise<HistoryStore> {
  const location = parseDatabaseUrl(databaseUrl);
  const coverageStart = options.coverageStart ?? Date.now() * 1000;

  return location.kind === 'postgres'
    ? PostgresHistoryStore.open(location.url, limits, { ...options.postgres, coverageStart })
    : new SqliteHistoryStore(location.path, limits, coverageStart);
}
