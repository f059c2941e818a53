import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../src/config.js';
import { resolveSecrets } from '../src/secrets.js';

const LONG_SECRET = 'x'.repeat(40);

describe('configuration', () => {
  test('has working defaults outside production', () => {
    const config = loadConfig({});

    assert.equal(config.port, 5000);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.databaseUrl, 'sqlite:./data/pulse.db');
    assert.equal(config.heartbeatMs, 15_000);
    assert.equal(config.eventsDebug, true);
    assert.equal(config.maxEventBytes, 256 * 1024);
    assert.equal(config.largePayloadBytes, 10 * 1024);
    assert.ok(Object.isFrozen(config));
  });

  test('turns debug routes off by default in production', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      JWT_SECRET: LONG_SECRET,
      SERVICE_TOKEN: LONG_SECRET,
    });

    assert.equal(config.eventsDebug, false);
  });

  test('stops on an invalid value with a message naming the variable', () => {
    const cases: Record<string, string>[] = [
      { PORT: 'eighty' },
      { PORT: '70000' },
      { HEARTBEAT_MS: '-5' },
      { EVENTS_DEBUG: 'perhaps' },
      { MAX_EVENT_BYTES: '1.5' },
      { LOG_LEVEL: 'loud' },
      { DATABASE_URL: 'mysql://localhost/db' },
      { CORS_ORIGINS: 'localhost:5173' },
      { JWT_SECRET: 'short' },
      { MAX_BUFFERED_BYTES: '100000', MAX_EVENT_BYTES: '65536' },
    ];

    for (const env of cases) {
      const name =
        Object.keys(env)[0] === 'MAX_BUFFERED_BYTES' ? 'MAX_BUFFERED_BYTES' : Object.keys(env)[0];
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => error instanceof ConfigError && error.message.startsWith(`${name}:`),
        name,
      );
    }
  });

  test('requires both secrets in production', () => {
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', SERVICE_TOKEN: LONG_SECRET }),
      /JWT_SECRET/,
    );
    assert.throws(
      () => loadConfig({ NODE_ENV: 'production', JWT_SECRET: LONG_SECRET }),
      /SERVICE_TOKEN/,
    );
  });

  test('generates missing development secrets once and keeps them in the data folder', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pulse-config-'));
    try {
      const first = resolveSecrets(loadConfig({ DATA_DIR: dataDir }));
      const second = resolveSecrets(loadConfig({ DATA_DIR: dataDir }));
      const file = join(dataDir, 'secrets.json');

      assert.equal(first.generated, true);
      assert.equal(second.generated, false);
      assert.equal(first.file, file);
      assert.equal(second.config.jwtSecret, first.config.jwtSecret);
      assert.equal(second.config.serviceToken, first.config.serviceToken);
      assert.ok(first.config.jwtSecret.length >= 32);
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal(JSON.parse(await readFile(file, 'utf8')).jwtSecret, first.config.jwtSecret);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('refuses a secrets file that is not JSON or has a short secret (DATA_DIR)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pulse-config-'));
    try {
      for (const content of ['not json', JSON.stringify({ jwtSecret: 'short' })]) {
        await writeFile(join(dataDir, 'secrets.json'), content);
        assert.throws(
          () => resolveSecrets(loadConfig({ DATA_DIR: dataDir })),
          (error: unknown) => error instanceof ConfigError && /^DATA_DIR:/.test(error.message),
        );
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('uses configured secrets without touching the data folder', () => {
    const outcome = resolveSecrets(
      loadConfig({ JWT_SECRET: LONG_SECRET, SERVICE_TOKEN: LONG_SECRET, DATA_DIR: '/nonexistent' }),
    );

    assert.equal(outcome.file, undefined);
    assert.equal(outcome.config.jwtSecret, LONG_SECRET);
  });
});
