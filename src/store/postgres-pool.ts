import pg from 'pg';

/** How a store connects to PostgreSQL. */
export interface PoolOptions {
  /**
   * An existing schema to keep the tables in, as a lowercase identifier; default: the server's
   * search_path. An `options` parameter in the URL takes precedence over it.
   */
  schema?: string;
  /** Hears errors of idle pooled connections (a server restart); ignored when not given. */
  onPoolError?: (error: Error) => void;
}

// Without a limit, a connection attempt to a silent host would hang ping and startup forever.
const CONNECT_TIMEOUT_MS = 5000;

// Unquoted PostgreSQL identifiers fold to lowercase and hold at most 63 bytes.
const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

// CREATE TABLE IF NOT EXISTS can still fail when two instances start at once (both try to add
// the table's row type), so every Pulse table is created under this transaction-level lock.
const CREATE_TABLE_LOCK_KEY = 0x70756c7365; // "pulse" in ASCII

/** Opens a pool whose connections use `schema`, and that survives idle connection errors. */
export function openPool(url: string, options: PoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    options: options.schema === undefined ? undefined : searchPathOption(options.schema),
  });
  // An idle client's error is emitted on the pool; unheard, it would crash the process.
  pool.on('error', options.onPoolError ?? (() => {}));

  return pool;
}

/** Runs `statements` in one transaction, under the lock that serialises table creation. */
export async function createTablesLocked(pool: pg.Pool, ...statements: string[]): Promise<void> {
  const client = await pool.connect();

  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [CREATE_TABLE_LOCK_KEY]);
    for (const statement of statements) await client.query(statement);
    await client.query('COMMIT');
    client.release();
  } catch (error) {
    client.release(true);
    throw error;
  }
}

// Set at connection startup, so no query can run on a connection before its search_path is.
function searchPathOption(schema: string): string {
  if (!SCHEMA_NAME_PATTERN.test(schema)) {
    throw new Error(`Invalid PostgreSQL schema name "${schema}": use a lowercase identifier`);
  }

  return `-c search_path=${schema}`;
}
