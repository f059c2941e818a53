import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { metricsUpdated } from '../src/health/health-events.js';
import { outboxKey } from '../src/health/outbox-relay.js';
import { openRawStream, type RawStream } from './support/raw-stream.js';
import { call, registerUser, startTestServer, type TestServer } from './support/server.js';

describe('the metrics and goals API', () => {
  let server: TestServer;
  const streams: RawStream[] = [];

  before(async () => {
    server = await startTestServer({ SHUTDOWN_TIMEOUT_MS: '1000' });
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await server.stop();
  });

  async function signedUp() {
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, { token: user.token });
    streams.push(stream);
    await stream.waitFor((frame) => frame.event === 'connected');

    return { ...user, stream };
  }

  function put(token: string, path: string, body: unknown) {
    return call(`${server.url}${path}`, { method: 'PUT', token, body });
  }

  const CONTROL = ['connected', 'heartbeat'];

  function emitted(stream: RawStream) {
    return stream.frames.filter((frame) => !CONTROL.includes(frame.event));
  }

  test('creates a day, emits metrics:updated with the whole day, and answers its id', async () => {
    const user = await signedUp();

    const answer = await put(user.token, '/api/metrics/2016-04-12', {
      steps: 13162,
      distance: 8.5,
    });
    const [frame] = await user.stream.waitFor((candidate) => candidate.event === 'metrics:updated');

    assert.equal(answer.status, 201);
    assert.equal(answer.body.created, true);
    assert.deepEqual(answer.body.changed, ['steps', 'distance']);
    assert.equal(answer.body.day.steps, 13162);
    assert.equal(answer.body.day.sleepMinutes, null);
    assert.equal(frame!.id, answer.body.eventId);
    assert.deepEqual(frame!.json.data, {
      source: 'api',
      date: '2016-04-12',
      steps: 13162,
      distance: 8.5,
      calories: null,
      activeMinutes: null,
      sleepMinutes: null,
      weight: null,
      heartRateResting: null,
      heartRateAverage: null,
      created: true,
      changed: ['steps', 'distance'],
      goalsReached: [],
    });
  });

  test('updates a day in place and sends nothing for a write that changes nothing', async () => {
    const user = await signedUp();
    await put(user.token, '/api/metrics/2016-04-12', { steps: 100, weight: 70 });

    const updated = await put(user.token, '/api/metrics/2016-04-12', { steps: 200, weight: null });
    const same = await put(user.token, '/api/metrics/2016-04-12', { steps: 200 });
    await user.stream.waitFor((frame) => frame.event === 'metrics:updated', 2);
    await call(`${server.url}/api/events/debug/test`, { token: user.token, body: {} });
    await user.stream.waitFor((frame) => frame.event === 'test:event');

    assert.equal(updated.status, 200);
    assert.deepEqual(updated.body.changed, ['steps', 'weight']);
    assert.equal(updated.body.day.weight, null);
    assert.equal(same.status, 200);
    assert.deepEqual(same.body.changed, []);
    assert.equal(same.body.eventId, null);
    assert.deepEqual(
      emitted(user.stream).map((frame) => frame.event),
      ['metrics:updated', 'metrics:updated', 'test:event'],
    );
  });

  test("answers each write's event id when concurrent writes share one flush", async () => {
    const user = await signedUp();
    const dates = ['2016-04-01', '2016-04-02', '2016-04-03', '2016-04-04', '2016-04-05'];

    const answers = await Promise.all(
      dates.map((date, index) => put(user.token, `/api/metrics/${date}`, { steps: index })),
    );
    const frames = await user.stream.waitFor((frame) => frame.event === 'metrics:updated', 5);

    const byDate = new Map(frames.map((frame) => [frame.json.data.date, frame.id]));
    for (const [index, answer] of answers.entries()) {
      assert.equal(answer.body.eventId, byDate.get(dates[index]), dates[index]);
    }
  });

  test('refuses unknown fields, values out of range and bad dates, naming the field', async () => {
    const { token } = await registerUser(server.url);

    const cases: [string, unknown, RegExp][] = [
      ['/api/metrics/2016-04-12', { steps: 1, mood: 'good' }, /mood is not a known field/],
      ['/api/metrics/2016-04-12', {}, /at least one of steps/],
      ['/api/metrics/2016-04-12', { steps: 1.5 }, /steps must be a whole number from 0/],
      ['/api/metrics/2016-04-12', { steps: '12' }, /steps must be a whole number/],
      ['/api/metrics/2016-04-12', { heartRateResting: 400 }, /heartRateResting must be a number/],
      ['/api/metrics/2016-02-30', { steps: 1 }, /date must be a calendar date/],
      ['/api/metrics/12-04-2016', { steps: 1 }, /date must be a calendar date/],
      ['/api/metrics/2999-01-01', { steps: 1 }, /date must not be in the future/],
      ['/api/goals', { dailySteps: 0 }, /dailySteps must be a whole number from 1/],
      ['/api/goals', { stepsGoal: 1000 }, /stepsGoal is not a known field/],
    ];
    for (const [path, body, message] of cases) {
      const answer = await put(token, path, body);
      assert.equal(answer.status, 400, `${path} ${JSON.stringify(body)}`);
      assert.equal(answer.body.code, 'VALIDATION_FAILED');
      assert.match(answer.body.message, message);
    }
  });

  test('answers 401 without a token and keeps each user to their own days', async () => {
    const owner = await registerUser(server.url);
    const other = await registerUser(server.url);
    await put(owner.token, '/api/metrics/2016-04-12', { steps: 5 });

    const anonymous = await call(`${server.url}/api/metrics`);
    const theirs = await call(`${server.url}/api/metrics`, { token: other.token });

    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.code, 'TOKEN_MISSING');
    assert.deepEqual(theirs.body.days, []);
  });

  test('reads a date range, or the latest days however old they are', async () => {
    const { token } = await registerUser(server.url);
    for (const [date, steps] of [
      ['2016-04-10', 1],
      ['2016-04-12', 2],
      ['2016-04-13', 3],
      ['2016-05-01', 4],
    ] as const) {
      await put(token, `/api/metrics/${date}`, { steps });
    }
    const read = (query: string) => call(`${server.url}/api/metrics${query}`, { token });

    const range = await read('?from=2016-04-11&to=2016-04-30');
    const latest = await read('?limit=2');
    const fromOnly = await read('?from=2016-04-13');
    const backwards = await read('?from=2016-04-13&to=2016-04-01');
    const tooLong = await read('?from=2015-01-01&to=2016-04-01');

    assert.deepEqual(
      range.body.days.map((day: any) => day.steps),
      [2, 3],
    );
    assert.deepEqual(
      latest.body.days.map((day: any) => day.date),
      ['2016-04-13', '2016-05-01'],
    );
    assert.deepEqual(
      fromOnly.body.days.map((day: any) => day.steps),
      [3, 4],
    );
    assert.equal(backwards.status, 400);
    assert.match(backwards.body.message, /to must not be before from/);
    assert.equal(tooLong.status, 400);
    assert.match(tooLong.body.message, /at most 366 days/);
  });

  test('deletes a day with metrics:deleted, and deleting it again sends nothing', async () => {
    const user = await signedUp();
    await put(user.token, '/api/metrics/2016-04-20', { steps: 1 });

    const deleted = await call(`${server.url}/api/metrics/2016-04-20`, {
      method: 'DELETE',
      token: user.token,
    });
    const again = await call(`${server.url}/api/metrics/2016-04-20`, {
      method: 'DELETE',
      token: user.token,
    });
    const [frame] = await user.stream.waitFor((candidate) => candidate.event === 'metrics:deleted');

    assert.deepEqual([deleted.body.deleted, again.body.deleted], [true, false]);
    assert.equal(frame!.id, deleted.body.eventId);
    assert.deepEqual(frame!.json.data, { date: '2016-04-20' });
    assert.equal(again.body.eventId, null);
  });

  test('sets goals with goals:updated, and a day reaching one says so once', async () => {
    const user = await signedUp();
    const empty = await call(`${server.url}/api/goals`, { token: user.token });

    const goals = await put(user.token, '/api/goals', { dailySteps: 10000, calories: 2500 });
    const below = await put(user.token, '/api/metrics/2016-04-12', { steps: 9000, calories: 2600 });
    const reached = await put(user.token, '/api/metrics/2016-04-12', { steps: 10500 });
    const beyond = await put(user.token, '/api/metrics/2016-04-12', { steps: 12000 });
    const frames = await user.stream.waitFor((frame) => !CONTROL.includes(frame.event), 4);

    assert.deepEqual(empty.body.goals, {
      dailySteps: null,
      sleepMinutes: null,
      calories: null,
      weight: null,
    });
    assert.deepEqual(goals.body.changed, ['dailySteps', 'calories']);
    assert.deepEqual(
      frames.map((frame) => [frame.event, frame.json.data.goalsReached ?? frame.json.data.changed]),
      [
        ['goals:updated', ['dailySteps', 'calories']],
        ['metrics:updated', ['calories']],
        ['metrics:updated', ['dailySteps']],
        ['metrics:updated', []],
      ],
    );
    assert.deepEqual(
      [below.body.goalsReached, reached.body.goalsReached, beyond.body.goalsReached],
      [['calories'], ['dailySteps'], []],
    );
    assert.equal(frames[0]!.json.data.goals.calories, 2500);
  });

  test('delivers an event left in the outbox by a write whose emit never ran', async () => {
    const user = await signedUp();
    const { health } = server.pulse.context;

    // A write that committed, as if the process died before emitting: only the sweep is left.
    await health.metrics.writeDays(user.id, {
      patches: [{ date: '2016-04-25', values: { steps: 42 } }],
      events: (changes) => changes.map((change) => metricsUpdated(change, 'api')),
    });
    const [frame] = await user.stream.waitFor(
      (candidate) => candidate.event === 'metrics:updated',
      1,
      5000,
    );

    assert.equal(frame!.json.data.steps, 42);
    assert.deepEqual(await health.outbox.pending({ userId: user.id, limit: 10 }), []);
  });

  test('does not send twice an event emitted before the process could forget it', async () => {
    const user = await signedUp();
    const { health, events, outboxRelay } = server.pulse.context;
    const written = await health.metrics.writeDays(user.id, {
      patches: [{ date: '2016-04-26', values: { steps: 7 } }],
      events: (changes) => changes.map((change) => metricsUpdated(change, 'api')),
    });
    const [entry] = await health.outbox.pending({ userId: user.id, limit: 1 });

    // Emitted with the outbox key, then "crashed" before the outbox row was removed.
    const first = await events.emit({
      userId: user.id,
      type: entry!.type,
      data: entry!.data,
      idempotencyKey: outboxKey(written.queued[0]!),
    });
    const [retried] = await outboxRelay.deliver(user.id, written.queued);
    await call(`${server.url}/api/events/debug/test`, { token: user.token, body: {} });
    await user.stream.waitFor((frame) => frame.event === 'test:event');

    assert.equal(retried, first.eventId);
    assert.equal(user.stream.ofType('metrics:updated').length, 1);
    assert.deepEqual(await health.outbox.pending({ userId: user.id, limit: 10 }), []);
  });
});
