import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { loadFitbitFolder } from '../src/replay/fitbit-data.js';
import { createHttpReplayClient } from '../src/replay/http-replay-client.js';
import { participantEmail, participantName, runReplay } from '../src/replay/replay.js';
import { openRawStream, type RawStream } from './support/raw-stream.js';
import {
  startTestServer,
  TEST_JWT_SECRET,
  TEST_SERVICE_TOKEN,
  type TestServer,
} from './support/server.js';

const DATASET = fileURLToPath(new URL('../datasets/fitbit/', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const PARTICIPANTS = ['1503960366', '1624580081', '8877689391'];
const run = promisify(execFile);

describe('pulse replay against a running Pulse', () => {
  let server: TestServer;
  const streams: RawStream[] = [];

  before(async () => {
    server = await startTestServer({ MAX_STREAMS_PER_USER: '0', EMIT_RATE_LIMIT: '0' });
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await server.stop();
  });

  test('streams the real data to connected clients, exactly as sent', async () => {
    const client = createHttpReplayClient({
      baseUrl: server.url,
      serviceToken: TEST_SERVICE_TOKEN,
    });
    const userIds = new Map<string, string>();
    for (const participant of PARTICIPANTS) {
      const user = await client.ensureUser(
        participantEmail(participant),
        participantName(participant),
      );
      userIds.set(participant, user.id);
      const token = await server.pulse.context.tokens.sign(user.id);
      const stream = await openRawStream(`${server.url}/api/events/stream`, { token });
      await stream.waitFor((frame) => frame.event === 'connected');
      streams.push(stream);
    }

    const summary = await runReplay({
      folder: DATASET,
      client,
      mode: 'daily',
      speed: 0,
      participants: PARTICIPANTS,
    });

    const data = await loadFitbitFolder(DATASET);
    assert.equal(summary.failures, 0);
    assert.equal(summary.users, PARTICIPANTS.length);
    for (const [index, participant] of PARTICIPANTS.entries()) {
      const expected = data.daily.filter((day) => day.participantId === participant);
      const stream = streams[index]!;
      const frames = await stream.waitFor((f) => f.event === 'metrics:updated', expected.length);

      assert.ok(expected.length >= 30, `participant ${participant} has ${expected.length} days`);
      assert.equal(frames.length, expected.length, 'no event lost or doubled');
      assert.deepEqual(
        frames.map((frame) => frame.json.data.date),
        expected.map((day) => day.date),
        'days arrive in time order',
      );
      for (const [position, frame] of frames.entries()) {
        const day = expected[position]!;
        assert.equal(frame.json.data.participantId, participant);
        assert.equal(frame.json.data.steps, day.steps);
        assert.equal(frame.json.data.calories, day.calories);
        assert.equal(frame.json.data.sleepMinutes, day.sleepMinutes);
      }
    }
    assert.equal(
      summary.eventsSent,
      PARTICIPANTS.reduce(
        (total, participant) =>
          total + data.daily.filter((day) => day.participantId === participant).length,
        0,
      ),
    );

    const again = await client.ensureUser(participantEmail(PARTICIPANTS[0]!), 'anything');
    assert.equal(again.id, userIds.get(PARTICIPANTS[0]!), 'a second run reuses the user');
  });

  test('runs from the command line with the service token from the environment', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        CLI,
        'replay',
        DATASET,
        '--url',
        server.url,
        '--mode',
        'heartrate',
        '--speed',
        '0',
        '--limit',
        '40',
      ],
      {
        env: {
          ...process.env,
          SERVICE_TOKEN: TEST_SERVICE_TOKEN,
          JWT_SECRET: TEST_JWT_SECRET,
          DATA_DIR: server.dataDir,
        },
        timeout: 30_000,
      },
    );

    const summary = JSON.parse(stdout.slice(stdout.indexOf('{'))).summary;
    assert.equal(summary.eventsSent, 40);
    assert.equal(summary.failures, 0);
    assert.deepEqual(summary.byType, { 'heartrate:recorded': 40 });
  });
});
