import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { openRawStream, type RawStream } from './support/raw-stream.js';
import {
  call,
  registerUser,
  startTestServer,
  TEST_JWT_SECRET,
  TEST_SERVICE_TOKEN,
  type TestServer,
} from './support/server.js';

const DATASET = fileURLToPath(new URL('../datasets/fitbit/', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

const ACTIVITY_HEADER =
  'Id,ActivityDate,TotalSteps,TotalDistance,TrackerDistance,LoggedActivitiesDistance,' +
  'VeryActiveDistance,ModeratelyActiveDistance,LightActiveDistance,SedentaryActiveDistance,' +
  'VeryActiveMinutes,FairlyActiveMinutes,LightlyActiveMinutes,SedentaryMinutes,Calories';

async function datasetFiles() {
  return {
    dailyActivity: await readFile(`${DATASET}dailyActivity_merged.csv`, 'utf8'),
    sleepDay: await readFile(`${DATASET}sleepDay_merged.csv`, 'utf8'),
    heartRate: await readFile(`${DATASET}heartrate_seconds_sample.csv`, 'utf8'),
  };
}

describe('importing a Fitbit export', () => {
  let server: TestServer;
  const streams: RawStream[] = [];

  before(async () => {
    server = await startTestServer({ SHUTDOWN_TIMEOUT_MS: '1000' });
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await server.stop();
  });

  async function listen(token: string): Promise<RawStream> {
    const stream = await openRawStream(`${server.url}/api/events/stream`, { token });
    streams.push(stream);
    await stream.waitFor((frame) => frame.event === 'connected');

    return stream;
  }

  function upload(token: string, body: unknown) {
    return call(`${server.url}/api/import/fitbit`, { token, body });
  }

  test("imports a participant's rows, reports them, and ends with googlefit:synced", async () => {
    const user = await registerUser(server.url);
    const stream = await listen(user.token);

    const answer = await upload(user.token, {
      participantId: '1503960366',
      files: await datasetFiles(),
    });
    const [frame] = await stream.waitFor((candidate) => candidate.event === 'googlefit:synced');
    const days = await call(`${server.url}/api/metrics?from=2016-04-12&to=2016-05-12`, {
      token: user.token,
    });

    assert.equal(answer.status, 200);
    // 31 activity rows and 25 sleep rows; the data set's refused rows belong to others.
    assert.deepEqual(answer.body.summary.rows, { taken: 56, refused: 0 });
    assert.deepEqual(answer.body.summary.days, { created: 31, updated: 0, unchanged: 0 });
    assert.deepEqual(
      [answer.body.summary.from, answer.body.summary.to],
      ['2016-04-12', '2016-05-12'],
    );
    assert.equal(answer.body.otherParticipants, 32);
    assert.equal(frame!.id, answer.body.eventId);
    assert.deepEqual(frame!.json.data, answer.body.summary);
    assert.equal(stream.ofType('metrics:updated').length, 0);
    assert.equal(days.body.days.length, 31);
    assert.deepEqual(
      [days.body.days[0].steps, days.body.days[0].distance, days.body.days[0].sleepMinutes],
      [13162, 8.5, 327],
    );
    assert.equal(days.body.days[0].activeMinutes, 25 + 13 + 328);
  });

  test('changes nothing and sends nothing when the same export comes again', async () => {
    const user = await registerUser(server.url);
    const stream = await listen(user.token);
    const files = await datasetFiles();
    await upload(user.token, { participantId: '8877689391', files });
    await stream.waitFor((frame) => frame.event === 'googlefit:synced');

    const again = await upload(user.token, { participantId: '8877689391', files });
    await call(`${server.url}/api/events/debug/test`, { token: user.token, body: {} });
    await stream.waitFor((frame) => frame.event === 'test:event');
    const days = await call(`${server.url}/api/metrics?from=2016-05-10&to=2016-05-12`, {
      token: user.token,
    });

    assert.deepEqual(again.body.summary.days, { created: 0, updated: 0, unchanged: 31 });
    assert.equal(again.body.eventId, null);
    assert.equal(stream.ofType('googlefit:synced').length, 1);
    // Heart rate from the samples: mean of the day, and the calmest 5-minute mean.
    assert.deepEqual(
      days.body.days.map((day: any) => [day.heartRateAverage, day.heartRateResting]),
      [
        [71.5, 56.7],
        [89.1, 53.5],
        [71.1, 56.7],
      ],
    );
  });

  test('reports each refused row with its file, line and reason, and takes the rest', async () => {
    const user = await registerUser(server.url);
    const dailyActivity = [
      ACTIVITY_HEADER,
      '42,4/12/2016,1000,0.7,0.7,0,0,0,0.7,0,0,0,60,1380,1800',
      '42,4/13/2016,lots,0.7,0.7,0,0,0,0.7,0,0,0,60,1380,1800',
      '42,4/14/2016,999999,0.7,0.7,0,0,0,0.7,0,0,0,60,1380,1800',
      '42,4/31/2016,1000,0.7,0.7,0,0,0,0.7,0,0,0,60,1380,1800',
    ].join('\r\n');

    const answer = await upload(user.token, { participantId: '42', files: { dailyActivity } });

    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body.summary.rows, { taken: 1, refused: 3 });
    assert.deepEqual(answer.body.summary.refused, [
      {
        file: 'dailyActivity_merged.csv',
        line: 3,
        reason: 'TotalSteps is not a whole number: "lots"',
      },
      {
        file: 'dailyActivity_merged.csv',
        line: 5,
        reason: 'ActivityDate is not a US date: "4/31/2016"',
      },
      {
        file: 'dailyActivity_merged.csv',
        reason: '2016-04-14: steps must be between 0 and 200000 steps',
      },
    ]);
  });

  test('refuses unknown files and fields, and bodies over IMPORT_MAX_BYTES', async () => {
    const user = await registerUser(server.url);
    const small = await startTestServer({ IMPORT_MAX_BYTES: '2048', SHUTDOWN_TIMEOUT_MS: '1000' });
    try {
      const smallUser = await registerUser(small.url);
      const cases: [unknown, RegExp][] = [
        [
          { participantId: '1', files: { weightLogInfo: 'x' } },
          /files.weightLogInfo is not a known file/,
        ],
        [{ participantId: '1', files: {} }, /files must hold at least one of/],
        [{ participantId: '1', files: { sleepDay: 'x' }, user: 'me' }, /user is not a known field/],
        [
          { participantId: 'abc', files: { sleepDay: 'x' } },
          /participantId must be the participant number/,
        ],
        [{ files: { sleepDay: 'x' } }, /participantId is required/],
      ];
      for (const [body, message] of cases) {
        const answer = await upload(user.token, body);
        assert.equal(answer.body.code, 'VALIDATION_FAILED', JSON.stringify(body));
        assert.match(answer.body.message, message);
      }
      const large = await call(`${small.url}/api/import/fitbit`, {
        token: smallUser.token,
        body: { participantId: '1', files: { sleepDay: 'x'.repeat(4096) } },
      });
      assert.equal(large.status, 413);
      assert.equal(large.body.code, 'PAYLOAD_TOO_LARGE');
    } finally {
      await small.stop();
    }
  });
});

describe('pulse import', () => {
  let server: TestServer;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    server = await startTestServer({ SHUTDOWN_TIMEOUT_MS: '1000' });
    env = {
      ...process.env,
      DATA_DIR: server.dataDir,
      DATABASE_URL: `sqlite:${server.dataDir}/pulse.db`,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_TOKEN: TEST_SERVICE_TOKEN,
    };
  });

  after(async () => {
    await server.stop();
  });

  function pulseImport(...args: string[]) {
    return promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', CLI, 'import', DATASET, ...args],
      {
        env,
        timeout: 60_000,
      },
    );
  }

  test('loads participants into their users; a running Pulse sends googlefit:synced', async () => {
    // The participant's user exists first (as the replay would make it), so its stream is open.
    const email = 'fitbit-1503960366@participants.pulse.local';
    const made = await call(`${server.url}/api/service/users`, {
      token: TEST_SERVICE_TOKEN,
      body: { email },
    });
    const token = await server.pulse.context.tokens.sign(made.body.user.id);
    const stream = await openRawStream(`${server.url}/api/events/stream`, { token });

    try {
      await stream.waitFor((frame) => frame.event === 'connected');
      const first = await pulseImport('--participants', '1503960366,2026352035');
      const [frame] = await stream.waitFor(
        (candidate) => candidate.event === 'googlefit:synced',
        1,
        10_000,
      );
      const again = await pulseImport('--participants', '1503960366,2026352035');
      await new Promise((resolve) => setTimeout(resolve, 2500));

      const report = JSON.parse(first.stdout.slice(first.stdout.indexOf('{'))).import;
      const repeat = JSON.parse(again.stdout.slice(again.stdout.indexOf('{'))).import;
      assert.equal(report.participants, 2);
      assert.deepEqual(report.days, { created: 62, updated: 0, unchanged: 0 });
      assert.equal(report.eventsQueued, 2);
      assert.equal(report.users[0].userId, made.body.user.id);
      assert.deepEqual(frame!.json.data.days, { created: 31, updated: 0, unchanged: 0 });
      assert.deepEqual(repeat.days, { created: 0, updated: 0, unchanged: 62 });
      assert.equal(repeat.eventsQueued, 0);
      assert.equal(stream.ofType('googlefit:synced').length, 1);
    } finally {
      stream.close();
    }
  });
});
