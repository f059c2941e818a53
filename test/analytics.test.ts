import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { runAnalytics } from '../src/analytics/analytics-job.js';
import { leastSquaresSlope, mean, standardDeviation } from '../src/analytics/statistics.js';
import { createPulseEmitter } from '../src/emitter/index.js';
import { openRawStream, type Frame, type RawStream } from './support/raw-stream.js';
import {
  call,
  registerUser,
  startTestServer,
  TEST_JWT_SECRET,
  TEST_SERVICE_TOKEN,
  type TestServer,
} from './support/server.js';

const DATASET = new URL('../datasets/fitbit/', import.meta.url);
const CLI = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

// Computed from the CSV files by a separate script (Python's csv and statistics modules), not
// by Pulse: per participant, every metric as of the participant's last day (2016-05-12 for
// all three). Averages over the last 7 and 30 calendar days; trend = least-squares slope over
// the last 14 days; anomalies = |z| >= 3 against the 30 days before the day (sample sd).
// 2016-05-12 is a partial day in the data set (the export stopped that morning), so steps,
// calories and active minutes of 1503960366 are zero there: real anomalies.
const EXPECTED: Record<string, Record<string, ExpectedItem>> = {
  '1503960366': {
    steps: item(10172.86, 7, 12081.9, 30, 'down', -429.068, [['2016-05-12', 0, -5.96]]),
    distance: item(6.56, 7, 7.79, 30, 'down', -0.275, [
      ['2016-04-27', 12.21000004, 3.42],
      ['2016-05-12', 0, -5.86],
    ]),
    calories: item(1559.71, 7, 1810.8, 30, 'down', -61.398, [['2016-05-12', 0, -17.87]]),
    activeMinutes: item(242.29, 7, 274.87, 30, 'down', -9.927, [['2016-05-12', 0, -7.3]]),
    sleepMinutes: item(377.5, 6, 361.67, 24, 'up', 2.697, []),
  },
  '2026352035': {
    steps: item(6618.43, 7, 5605.3, 30, 'up', 90.47, [['2016-04-23', 12357, 5.34]]),
    distance: item(4.11, 7, 3.48, 30, 'up', 0.056, [['2016-04-23', 7.710000038, 5.38]]),
    calories: item(1550.57, 7, 1543.37, 30, 'down', -10.086, [['2016-04-23', 1916, 4.41]]),
    activeMinutes: item(280.14, 7, 259.17, 30, 'down', -2.119, [['2016-04-23', 432, 3.81]]),
    sleepMinutes: item(491.86, 7, 506.3, 27, 'down', -5.031, [['2016-05-10', 357, -5.19]]),
  },
  '8877689391': {
    steps: item(15026.86, 7, 15801.83, 30, 'flat', 9.749, []),
    distance: item(12.52, 7, 12.97, 30, 'flat', -0.024, []),
    calories: item(3318.14, 7, 3403.57, 30, 'flat', -6.8, []),
    activeMinutes: item(293, 7, 307.6, 30, 'up', 2.042, [['2016-05-02', 105, -3.0]]),
    // Three days of heart-rate samples: too few for a trend.
    heartRateResting: item(55.63, 3, 55.63, 3, 'unknown', null, []),
    heartRateAverage: item(77.23, 3, 77.23, 3, 'unknown', null, []),
  },
};

interface ExpectedItem {
  average7: number;
  days7: number;
  average30: number;
  days30: number;
  direction: string;
  slopePerDay: number | null;
  anomalies: [string, number, number][];
}

function item(
  average7: number,
  days7: number,
  average30: number,
  days30: number,
  direction: string,
  slopePerDay: number | null,
  anomalies: [string, number, number][],
): ExpectedItem {
  return { average7, days7, average30, days30, direction, slopePerDay, anomalies };
}

// Both sides round to a few decimals, possibly by different rules at an exact half.
function near(actual: number | null, expected: number | null, label: string): void {
  if (expected === null) return assert.equal(actual, null, label);
  assert.ok(
    actual !== null && Math.abs(actual - expected) <= 0.011,
    `${label}: ${actual} ≠ ${expected}`,
  );
}

describe('the analytics job on real participants', () => {
  let server: TestServer;
  const users = new Map<string, { id: string; token: string; stream: RawStream }>();

  before(async () => {
    server = await startTestServer({ SHUTDOWN_TIMEOUT_MS: '1000' });
    const files = {
      dailyActivity: await readFile(new URL('dailyActivity_merged.csv', DATASET), 'utf8'),
      sleepDay: await readFile(new URL('sleepDay_merged.csv', DATASET), 'utf8'),
      heartRate: await readFile(new URL('heartrate_seconds_sample.csv', DATASET), 'utf8'),
    };
    for (const participantId of Object.keys(EXPECTED)) {
      const user = await registerUser(server.url);
      const imported = await call(`${server.url}/api/import/fitbit`, {
        token: user.token,
        body: { participantId, files },
      });
      assert.equal(imported.status, 200, JSON.stringify(imported.body));
      const stream = await openRawStream(`${server.url}/api/events/stream`, { token: user.token });
      await stream.waitFor((frame) => frame.event === 'connected');
      users.set(participantId, { ...user, stream });
    }
  });

  after(async () => {
    for (const { stream } of users.values()) stream.close();
    await server.stop();
  });

  const emitter = () =>
    createPulseEmitter({ baseUrl: server.url, serviceToken: TEST_SERVICE_TOKEN });
  const userIds = () => [...users.values()].map((user) => user.id);
  const analyticsFrames = (stream: RawStream): Frame[] =>
    stream.frames.filter((frame) => frame.event.startsWith('analytics:'));

  test('sends averages, trends and anomalies equal to independently computed ones', async () => {
    const { health } = server.pulse.context;

    const summary = await runAnalytics({
      metrics: health.metrics,
      ledger: health.ledger,
      emitter: emitter(),
      userIds: userIds(),
    });

    assert.equal(summary.usersFailed, 0, summary.firstErrors.join('; '));
    assert.equal(summary.itemsSent, 16);
    for (const [participantId, expectedItems] of Object.entries(EXPECTED)) {
      const { stream } = users.get(participantId)!;
      const [frame] = await stream.waitFor(
        (candidate) => candidate.event === 'analytics:batch_update',
      );
      const { analytics, count, batchIndex, totalBatches } = frame!.json.data;
      assert.deepEqual([count, batchIndex, totalBatches], [analytics.length, 1, 1]);
      assert.deepEqual(
        analytics.map((sent: any) => sent.metric),
        Object.keys(expectedItems),
        `metrics of ${participantId}`,
      );
      for (const sent of analytics) {
        const expected = expectedItems[sent.metric]!;
        const label = `${participantId} ${sent.metric}`;
        assert.equal(sent.asOf, '2016-05-12', label);
        near(sent.average7, expected.average7, `${label} average7`);
        near(sent.average30, expected.average30, `${label} average30`);
        assert.deepEqual([sent.days7, sent.days30], [expected.days7, expected.days30], label);
        assert.equal(sent.trend.direction, expected.direction, `${label} trend`);
        near(sent.trend.slopePerDay, expected.slopePerDay, `${label} slope`);
        assert.deepEqual(
          sent.anomalies.map((anomaly: any) => anomaly.date),
          expected.anomalies.map(([date]) => date),
          `${label} anomalies`,
        );
        sent.anomalies.forEach((anomaly: any, index: number) => {
          const [, value, zScore] = expected.anomalies[index]!;
          near(anomaly.value, value, `${label} anomaly value`);
          near(anomaly.zScore, zScore, `${label} anomaly z`);
        });
      }
    }
  });

  test('sends nothing on a re-run with no new data', async () => {
    const { health } = server.pulse.context;
    const before = [...users.values()].map(({ stream }) => analyticsFrames(stream).length);

    const summary = await runAnalytics({
      metrics: health.metrics,
      ledger: health.ledger,
      emitter: emitter(),
      userIds: userIds(),
    });
    const { token, stream } = users.get('1503960366')!;
    await call(`${server.url}/api/events/debug/test`, { token, body: {} });
    await stream.waitFor((frame) => frame.event === 'test:event');

    assert.equal(summary.itemsComputed, 16);
    assert.deepEqual([summary.itemsSent, summary.eventsSent], [0, 0]);
    assert.deepEqual(
      [...users.values()].map(({ stream: each }) => analyticsFrames(each).length),
      before,
    );
  });

  test('sends one analytics:update when one metric of one day changes', async () => {
    const { health } = server.pulse.context;
    const { id, token, stream } = users.get('1503960366')!;
    // 2016-05-12 had no sleep row: the last 7 days now hold 7 values, the last 30 hold 25.
    await call(`${server.url}/api/metrics/2016-05-12`, {
      method: 'PUT',
      token,
      body: { sleepMinutes: 400 },
    });

    const summary = await runAnalytics({
      metrics: health.metrics,
      ledger: health.ledger,
      emitter: emitter(),
      userIds: [id],
    });
    const [frame] = await stream.waitFor((candidate) => candidate.event === 'analytics:update');

    assert.deepEqual([summary.itemsSent, summary.eventsSent], [1, 1]);
    assert.equal(frame!.json.data.metric, 'sleepMinutes');
    near(frame!.json.data.average7, (2265 + 400) / 7, 'average7');
    near(frame!.json.data.average30, 363.2, 'average30');
    assert.deepEqual([frame!.json.data.days7, frame!.json.data.days30], [7, 25]);
  });

  test('runs as `pulse analytics` against a running Pulse on the same database', async () => {
    const { id, token, stream } = users.get('2026352035')!;
    await call(`${server.url}/api/metrics/2016-05-11`, {
      method: 'PUT',
      token,
      body: { weight: 80.5 },
    });
    const env = {
      ...process.env,
      DATA_DIR: server.dataDir,
      DATABASE_URL: `sqlite:${server.dataDir}/pulse.db`,
      JWT_SECRET: TEST_JWT_SECRET,
      SERVICE_TOKEN: TEST_SERVICE_TOKEN,
    };

    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', CLI, 'analytics', '--url', server.url, '--users', id],
      { env, timeout: 30_000 },
    );
    const [frame] = await stream.waitFor((candidate) => candidate.event === 'analytics:update');

    assert.deepEqual(JSON.parse(stdout).analytics.itemsSent, 1);
    assert.equal(frame!.json.data.metric, 'weight');
    assert.equal(frame!.json.data.average30, 80.5);
  });
});

describe('the statistics behind the analytics', () => {
  test('match small cases worked by hand', () => {
    assert.equal(mean([2, 4, 9]), 5);
    // Deviations -3, -1, 4: squares sum to 26, over n - 1 = 2 gives 13.
    assert.equal(standardDeviation([2, 4, 9]), Math.sqrt(13));
    // x̄ = 1, ȳ = 13/3: Σ(x - x̄)(y - ȳ) = (-1)(1 - 13/3) + 0 + (1)(7 - 13/3) = 6; Σ(x - x̄)² = 2.
    assert.equal(
      leastSquaresSlope([
        { x: 0, y: 1 },
        { x: 1, y: 5 },
        { x: 2, y: 7 },
      ]),
      3,
    );
    assert.equal(mean([]), undefined);
    assert.equal(standardDeviation([1]), undefined);
    assert.equal(
      leastSquaresSlope([
        { x: 1, y: 1 },
        { x: 1, y: 2 },
      ]),
      undefined,
    );
  });
});

describe('the analytics job inside the service', () => {
  test('runs every ANALYTICS_INTERVAL_MS and sends only what changed', async () => {
    const server = await startTestServer({
      ANALYTICS_INTERVAL_MS: '200',
      SHUTDOWN_TIMEOUT_MS: '1000',
    });
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, { token: user.token });
    try {
      await call(`${server.url}/api/metrics/2016-05-01`, {
        method: 'PUT',
        token: user.token,
        body: { steps: 5000, calories: 2100 },
      });

      const [batch] = await stream.waitFor((frame) => frame.event === 'analytics:batch_update');
      await new Promise((resolve) => setTimeout(resolve, 600));

      assert.deepEqual(
        batch!.json.data.analytics.map((item: any) => [item.metric, item.average7]),
        [
          ['steps', 5000],
          ['calories', 2100],
        ],
      );
      assert.equal(stream.frames.filter((frame) => frame.event.startsWith('analytics:')).length, 1);
    } finally {
      stream.close();
      await server.stop();
    }
  });
});
