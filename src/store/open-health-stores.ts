import { parseDatabaseUrl } from './database-url.js';
import type { HealthStores } from './health-store.js';
import type { PostgresHealthOptions } from './postgres-health-database.js';
import { openPostgresHealthStores } from './postgres-health-stores.js';
import { openSqliteHealthStores } from './sqlite-health-stores.js';

/** Options for openHealthStores, grouped by the database they apply to. */
export interface OpenHealthStoresOptions {
  /** Used only when the URL names a PostgreSQL database. */
  postgres?: PostgresHealthOptions;
}

/**
 * Opens the health stores in the database a URL names, with the same URL forms as the user
 * store. Open the user store on the same URL first: the health tables follow its users.
 */
export async function openHealthStores(
  databaseUrl: string,
  options: OpenHealthStoresOptions = {},
): Promise<HealthStores> {
  const location = parseDatabaseUrl(databaseUrl);

  return location.kind === 'postgres'
    ? openPostgresHealthStores(location.url, options.postgres)
    : openSqliteHealthStores(location.path);
}
