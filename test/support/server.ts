import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { startPulse, type Pulse } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { resolveSecrets } from '../../src/secrets.js';
import { sharedRedis } from './redis.js';

/** Secrets used by every test server. */
export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough-0123456789';
export const TEST_SERVICE_TOKEN = 'test-service-token-0123456789';

/** A Pulse started for one test file, with its log lines captured. */
export interface TestServer {
  pulse: Pulse;
  url: string;
  logLines: string[];
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * Starts Pulse on 127.0.0.1, port 0, with a fresh SQLite file, unless `env` says otherwise.
 * Given a `dataDir`, it reuses that folder and leaves it in place on stop (for restarts).
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { dataDir?: string } = {},
): Promise<TestServer> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'pulse-test-')));
  // PULSE_TEST_REDIS=1 runs the same suites with every server on a private Redis.
  const redis =
    process.env.PULSE_TEST_REDIS === '1' ? { REDIS_URL: (await sharedRedis()).url } : {};
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: `sqlite:${join(dataDir, 'pulse.db')}`,
    DATA_DIR: dataDir,
    JWT_SECRET: TEST_JWT_SECRET,
    SERVICE_TOKEN: TEST_SERVICE_TOKEN,
    LOG_LEVEL: 'debug',
    CLUSTER_HEARTBEAT_MS: '500',
    ...redis,
    ...env,
  });

  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = createLogger(config.logLevel, sink);
  const pulse = await startPulse({ config: resolveSecrets(config).config, logger });

  return {
    pulse,
    url: pulse.url,
    logLines,
    dataDir,
    async stop() {
      await pulse.close();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Calls a JSON route and returns status, headers and parsed body. */
export async function call(
  url: string,
  options: {
    method?: string;
    token?: string;
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<{ status: number; headers: Headers; body: any }> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';

  const response = await fetch(url, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : serialize(options.body),
  });
  const text = await response.text();

  return {
    status: response.status,
    headers: response.headers,
    body: text ? JSON.parse(text) : undefined,
  };
}

function serialize(body: unknown): string {
  return typeof body === 'string' ? body : JSON.stringify(body);
}

let userCounter = 0;

/** Registers a fresh user and returns its id and token. */
export async function registerUser(
  url: string,
): Promise<{ id: string; token: string; email: string }> {
  userCounter += 1;
  const email = `user${userCounter}-${Date.now()}@example.com`;
  const { status, body } = await call(`${url}/api/auth/register`, {
    body: { email, password: 'correct horse battery', name: `User ${userCounter}` },
  });
  if (status !== 201) throw new Error(`register failed: ${status} ${JSON.stringify(body)}`);

  return { id: body.user.id, token: body.token, email };
}

/** Emits an event as a backend service. */
export function emit(url: string, body: unknown, serviceToken = TEST_SERVICE_TOKEN) {
  return call(`${url}/api/events/emit`, { token: serviceToken, body });
}

/** Polls until `check` passes or the time is up; returns the last value. */
export async function waitFor<T>(
  read: () => Promise<T> | T,
  check: (value: T) => boolean,
  timeoutMs = 2000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!check(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    value = await read();
  }

  return value;
}
