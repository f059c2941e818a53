import { parseDatabaseUrl } from './database-url.js';
import { PostgresUserStore, type PostgresUserStoreOptions } from './postgres-user-store.js';
import { SqliteUserStore } from './sqlite-user-store.js';
import type { UserStore } from './user-store.js';

/** Options for openUserStore, grouped by the database they apply to. */
export interface OpenUserStoreOptions {
  /** Used only when the URL names a PostgreSQL database. */
  postgres?: PostgresUserStoreOptions;
}

/** Opens the user store a database URL names (see parseDatabaseUrl for the forms). */
export async function openUserStore(
  databaseUrl: string,
  options: OpenUserStoreOptions = {},
): Promise<UserStore> {
  const location = parseDatabaseUrl(databaseUrl);

  return location.kind === 'postgres'
    ? PostgresUserStore.open(location.url, options.postgres)
    : new SqliteUserStore(location.path);
}
