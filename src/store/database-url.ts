/** A database named by DATABASE_URL. */
export type DatabaseLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

const SQLITE_PREFIX = 'sqlite:';
const POSTGRES_URL_PATTERN = /^postgres(ql)?:\/\//i;
const SCHEME_PATTERN = /^[a-z][a-z0-9+.-]*:/i;

/**
 * Reads `sqlite:<path>` (a file path, or `:memory:`) or `postgres://…` / `postgresql://…`.
 * Rejects any other URL without echoing it, since a URL may carry a password.
 */
export function parseDatabaseUrl(databaseUrl: string): DatabaseLocation {
  if (POSTGRES_URL_PATTERN.test(databaseUrl)) return { kind: 'postgres', url: databaseUrl };

  if (databaseUrl.toLowerCase().startsWith(SQLITE_PREFIX)) {
    return { kind: 'sqlite', path: sqlitePath(databaseUrl.slice(SQLITE_PREFIX.length)) };
  }

  const scheme = SCHEME_PATTERN.exec(databaseUrl)?.[0];
  const found = scheme === undefined ? 'no scheme' : `scheme "${scheme}"`;
  throw new Error(
    `Unsupported database URL (${found}): use sqlite:<path>, postgres://… or postgresql://…`,
  );
}

// `sqlite://x/y.db` would quietly mean the absolute path /x/y.db, so URL-style forms are refused.
function sqlitePath(path: string): string {
  if (path === '') {
    throw new Error('The sqlite: database URL needs a path, as in sqlite:./pulse.db');
  }
  if (path.startsWith('//')) {
    throw new Error('Write a SQLite database URL as sqlite:<path>, as in sqlite:/var/lib/pulse.db');
  }

  return path;
}
