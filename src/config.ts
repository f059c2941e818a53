/**
 * Configuration: read once from the environment, validated, frozen. An invalid value stops
 * the start with one line that names the variable, before anything listens or opens a file.
 */
export interface Config {
  readonly nodeEnv: string;
  readonly production: boolean;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly dataDir: string;
  /** Undefined until secrets are resolved: outside production they may be generated. */
  readonly jwtSecret: string | undefined;
  readonly serviceToken: string | undefined;
  readonly heartbeatMs: number;
  readonly eventsDebug: boolean;
  readonly maxEventBytes: number;
  readonly largePayloadBytes: number;
  readonly maxBufferedBytes: number;
  readonly historySize: number;
  readonly historyTtlMs: number;
  readonly historyMaxBytes: number;
  readonly historyStore: 'memory' | 'database';
  readonly maxStreamsPerUser: number;
  readonly maxConnections: number;
  readonly emitRateLimit: number;
  readonly emitRateLimitPerUser: number;
  readonly tokenExpiryNoticeMs: number;
  readonly shutdownTimeoutMs: number;
  readonly metricsEnabled: boolean;
  readonly metricsPort: number;
  /** Redis for many instances; undefined runs everything in process. */
  readonly redisUrl: string | undefined;
  readonly clusterHeartbeatMs: number;
  readonly corsOrigins: readonly string[];
  readonly logLevel: string;
  /** Largest body of a Fitbit upload (`POST /api/import/fitbit`). */
  readonly importMaxBytes: number;
  /** Run the analytics job inside the service this often; 0 leaves it to `pulse analytics`. */
  readonly analyticsIntervalMs: number;
}

/** A configuration value that cannot be used; the message names the variable. */
export class ConfigError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

// RFC 7518 section 3.2: an HS256 key must be at least as long as the hash output (256 bits).
/** Shortest JWT_SECRET accepted. */
export const MIN_JWT_SECRET_LENGTH = 32;
/** Shortest SERVICE_TOKEN accepted. */
export const MIN_SERVICE_TOKEN_LENGTH = 16;

/** Reads and checks every setting; throws ConfigError on the first bad one. */
export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = text(env, 'NODE_ENV', 'development').toLowerCase();
  const production = nodeEnv === 'production';

  const config: Config = {
    nodeEnv,
    production,
    host: text(env, 'HOST', '127.0.0.1'),
    port: integer(env, 'PORT', 5000, 0, 65535),
    databaseUrl: databaseUrl(env),
    dataDir: text(env, 'DATA_DIR', './data'),
    jwtSecret: secret(env, 'JWT_SECRET', MIN_JWT_SECRET_LENGTH, production),
    serviceToken: secret(env, 'SERVICE_TOKEN', MIN_SERVICE_TOKEN_LENGTH, production),
    heartbeatMs: integer(env, 'HEARTBEAT_MS', 15_000, 10, 3_600_000),
    eventsDebug: boolean(env, 'EVENTS_DEBUG', !production),
    maxEventBytes: integer(env, 'MAX_EVENT_BYTES', 256 * 1024, 1024, 16 * 1024 * 1024),
    largePayloadBytes: integer(env, 'LARGE_PAYLOAD_BYTES', 10 * 1024, 1, 16 * 1024 * 1024),
    maxBufferedBytes: integer(env, 'MAX_BUFFERED_BYTES', 1024 * 1024, 1024, 1024 * 1024 * 1024),
    historySize: integer(env, 'HISTORY_SIZE', 500, 1, 100_000),
    historyTtlMs: integer(env, 'HISTORY_TTL_MS', 10 * 60_000, 1000, 7 * 24 * 3_600_000),
    historyMaxBytes: integer(env, 'HISTORY_MAX_BYTES', 64 * 1024 * 1024, 1024, 2 ** 40),
    historyStore: oneOf(env, 'HISTORY_STORE', ['memory', 'database'] as const, 'memory'),
    maxStreamsPerUser: integer(env, 'MAX_STREAMS_PER_USER', 10, 0, 1_000_000),
    maxConnections: integer(env, 'MAX_CONNECTIONS', 50_000, 0, 10_000_000),
    emitRateLimit: integer(env, 'EMIT_RATE_LIMIT', 5000, 0, 10_000_000),
    emitRateLimitPerUser: integer(env, 'EMIT_RATE_LIMIT_PER_USER', 100, 0, 10_000_000),
    tokenExpiryNoticeMs: integer(env, 'TOKEN_EXPIRY_NOTICE_MS', 60_000, 0, 24 * 3_600_000),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    metricsEnabled: boolean(env, 'METRICS_ENABLED', false),
    metricsPort: integer(env, 'METRICS_PORT', 0, 0, 65535),
    redisUrl: redisUrl(env),
    clusterHeartbeatMs: integer(env, 'CLUSTER_HEARTBEAT_MS', 5000, 100, 60_000),
    corsOrigins: origins(env),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    importMaxBytes: integer(env, 'IMPORT_MAX_BYTES', 16 * 1024 * 1024, 1024, 256 * 1024 * 1024),
    analyticsIntervalMs: integer(env, 'ANALYTICS_INTERVAL_MS', 0, 0, 7 * 24 * 3_600_000),
  };

  checkConsistency(config);

  return Object.freeze(config);
}

// Settings that are fine alone but not together.
function checkConsistency(config: Config): void {
  // An event must fit in a stream's buffer with room to spare, or every stream of its user
  // would be cut off as a slow consumer, again on every resume.
  if (config.maxBufferedBytes < 2 * config.maxEventBytes) {
    throw new ConfigError(
      'MAX_BUFFERED_BYTES',
      `must be at least twice MAX_EVENT_BYTES (${2 * config.maxEventBytes})`,
    );
  }
}

function text(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();

  return value === undefined || value === '' ? fallback : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;

  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }

  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;

  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = text(env, name, fallback);
  if (!allowed.includes(value as T)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${value}"`);
  }

  return value as T;
}

function secret(env: Env, name: string, minLength: number, required: boolean): string | undefined {
  const value = env[name]?.trim();
  if (value === undefined || value === '') {
    if (required) throw new ConfigError(name, 'is required when NODE_ENV=production');
    return undefined;
  }

  if (value.length < minLength) {
    throw new ConfigError(name, `must be at least ${minLength} characters long`);
  }

  return value;
}

function databaseUrl(env: Env): string {
  const value = text(env, 'DATABASE_URL', 'sqlite:./data/pulse.db');
  const known = /^sqlite:.+/.test(value) || /^postgres(ql)?:\/\/.+/.test(value);
  if (!known) {
    throw new ConfigError('DATABASE_URL', 'expected sqlite:<path> or postgres://…');
  }

  return value;
}

function redisUrl(env: Env): string | undefined {
  const value = env.REDIS_URL?.trim();
  if (value === undefined || value === '') return undefined;

  if (!/^rediss?:\/\/.+/.test(value)) {
    throw new ConfigError('REDIS_URL', 'expected redis://host:port');
  }

  return value;
}

function origins(env: Env): string[] {
  const raw = text(env, 'CORS_ORIGINS', '');
  if (raw === '') return [];

  const list = raw
    .split(',')
    .map((origin) => origin.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (origin === '*') continue;
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError('CORS_ORIGINS', `"${origin}" is not an origin like http://host:port`);
    }
  }

  return list;
}
