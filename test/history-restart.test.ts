import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import pg from 'pg';
import { ResumingClient } from './support/resuming-client.js';
import { emit, registerUser, startTestServer } from './support/server.js';

const PG_URL = process.env.PULSE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

// Emits while the client is away, restarts Pulse on the same database, then resumes.
async function resumeAcrossRestart(env: Record<string, string>, dataDir: string) {
  const first = await startTestServer(env, { dataDir });
  const user = await registerUser(first.url);
  const client = new ResumingClient(first.url, user.token);
  await client.connect();
  const seen = await emit(first.url, { userId: user.id, eventType: 'metrics:updated', data: {} });
  await client.waitForEvents(1);
  client.drop();
  const missed = [];
  for (let index = 0; index < 3; index += 1) {
    const { body } = await emit(first.url, { userId: user.id, eventType: 'x', data: { index } });
    missed.push(body.eventId);
  }
  await first.stop();

  const second = await startTestServer(env, { dataDir });
  try {
    const resumed = new ResumingClient(second.url, user.token);
    resumed.lastEventId = seen.body.eventId;
    await resumed.connect();
    const live = await emit(second.url, { userId: user.id, eventType: 'x', data: {} });
    const events = await resumed.waitForEvents(4);
    resumed.drop();

    return { missed, live: live.body.eventId as string, events, greeting: resumed.connects[0]! };
  } finally {
    await second.stop();
  }
}

describe('history across restarts', () => {
  test('resumes across a restart with the history in SQLite', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pulse-restart-'));
    try {
      const outcome = await resumeAcrossRestart({ HISTORY_STORE: 'database' }, dataDir);

      assert.equal(outcome.greeting.json.resumed, true);
      assert.deepEqual(
        outcome.events.map((frame) => frame.id),
        [...outcome.missed, outcome.live],
      );
      assert.ok(Number(outcome.live) > Number(outcome.missed.at(-1)), 'ids keep growing');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('resumes across a restart with the history in PostgreSQL', async () => {
    const database = `pulse_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${database}`);
    const dataDir = await mkdtemp(join(tmpdir(), 'pulse-restart-'));
    try {
      const url = new URL(PG_URL);
      url.pathname = `/${database}`;
      const env = { HISTORY_STORE: 'database', DATABASE_URL: url.toString() };
      const outcome = await resumeAcrossRestart(env, dataDir);

      assert.equal(outcome.greeting.json.resumed, true);
      assert.deepEqual(
        outcome.events.map((frame) => frame.id),
        [...outcome.missed, outcome.live],
      );
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('asks for a sync after a restart when history was only in memory', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pulse-restart-'));
    try {
      const first = await startTestServer({}, { dataDir });
      const user = await registerUser(first.url);
      const { body } = await emit(first.url, { userId: user.id, eventType: 'x', data: {} });
      await first.stop();

      const second = await startTestServer({}, { dataDir });
      const client = new ResumingClient(second.url, user.token);
      client.lastEventId = body.eventId;
      await client.connect();
      client.drop();
      await second.stop();

      assert.equal(client.connects[0]!.json.syncRequired, true);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
