import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createPulseEmitter, PulseEmitError } from '../src/emitter/index.js';
import { startFaultyProxy } from './support/faulty-proxy.js';
import { openRawStream } from './support/raw-stream.js';
import { call, registerUser, startTestServer, TEST_SERVICE_TOKEN } from './support/server.js';

const TIMEOUT = { timeout: 30_000 };

function countingFetch() {
  const calls: string[] = [];
  const counted: typeof fetch = (input, init) => {
    calls.push(String(input));
    return fetch(input, init);
  };

  return { calls, fetch: counted };
}

describe('emitter SDK', () => {
  test('sends 120 analytics items as batches of 50, 50 and 20, in order', TIMEOUT, async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, { token: user.token });
    t.after(() => stream.close());
    await stream.waitFor((frame) => frame.event === 'connected');
    const emitter = createPulseEmitter({ baseUrl: server.url, serviceToken: TEST_SERVICE_TOKEN });
    const items = Array.from({ length: 120 }, (_, index) => ({ index, bpm: 60 + (index % 40) }));

    const results = await emitter.emitAnalytics(user.id, items);
    const frames = await stream.waitFor((frame) => frame.event === 'analytics:batch_update', 3);

    const batches = frames.map((frame) => frame.json.data);
    assert.deepEqual(
      batches.map(({ count, batchIndex, totalBatches }) => [count, batchIndex, totalBatches]),
      [
        [50, 1, 3],
        [50, 2, 3],
        [20, 3, 3],
      ],
    );
    assert.deepEqual(
      batches.flatMap((batch) => batch.analytics),
      items,
    );
    assert.deepEqual(
      frames.map((frame) => frame.id),
      results.map((result) => result.eventId),
    );
  });

  test('delivers once when the first answer arrives too late', TIMEOUT, async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const proxy = await startFaultyProxy(server.url, (n) => (n === 0 ? 'late-answer' : 'pass'));
    t.after(() => proxy.close());
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, { token: user.token });
    t.after(() => stream.close());
    await stream.waitFor((frame) => frame.event === 'connected');
    const emitter = createPulseEmitter({
      baseUrl: proxy.url,
      serviceToken: TEST_SERVICE_TOKEN,
      timeoutMs: 500,
    });

    const result = await emitter.emit(user.id, 'metrics:updated', { steps: 1 });
    await stream.waitFor((frame) => frame.event === 'metrics:updated');
    await new Promise((resolve) => setTimeout(resolve, 300));

    assert.equal(stream.ofType('metrics:updated').length, 1, 'delivered once');
    assert.equal(result.attempts, 2);
    assert.equal(result.duplicate, true, 'the retry found the first attempt had landed');
    const keys = proxy.requests.map((request) => JSON.parse(request.body).eventId);
    assert.equal(keys[0], keys[1], 'the same idempotency key both times');
    assert.equal(result.idempotencyKey, keys[0]);
  });

  test('retries when the connection drops before the answer', TIMEOUT, async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const proxy = await startFaultyProxy(server.url, (n) => (n === 0 ? 'no-answer' : 'pass'));
    t.after(() => proxy.close());
    const user = await registerUser(server.url);
    const emitter = createPulseEmitter({ baseUrl: proxy.url, serviceToken: TEST_SERVICE_TOKEN });

    const result = await emitter.emit(user.id, 'x', {});

    assert.equal(result.attempts, 2);
    assert.equal(result.duplicate, true);
    const history = await call(`${server.url}/api/events/debug/history`, { token: user.token });
    assert.equal(history.body.history.events, 1, 'one event recorded');
  });

  test('waits as long as Retry-After says after a 429', TIMEOUT, async (t) => {
    const server = await startTestServer({ EMIT_RATE_LIMIT_PER_USER: '1' });
    t.after(() => server.stop());
    const user = await registerUser(server.url);
    const emitter = createPulseEmitter({ baseUrl: server.url, serviceToken: TEST_SERVICE_TOKEN });

    await emitter.emit(user.id, 'x', {});
    const started = Date.now();
    const limited = await emitter.emit(user.id, 'x', {});

    assert.equal(limited.attempts, 2);
    assert.equal(limited.duplicate, false);
    assert.ok(Date.now() - started >= 900, `waited ${Date.now() - started} ms`);
  });

  test('does not retry a 400, and says why', TIMEOUT, async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const counted = countingFetch();
    const emitter = createPulseEmitter({
      baseUrl: server.url,
      serviceToken: TEST_SERVICE_TOKEN,
      fetch: counted.fetch,
    });

    const error = await emitter.emit('not-a-user-id', 'x', {}).catch((caught) => caught);

    assert.ok(error instanceof PulseEmitError);
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.equal(error.status, 400);
    assert.equal(error.retryable, false);
    assert.equal(counted.calls.length, 1);
  });

  test('reports a wrong service token without retrying', TIMEOUT, async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const counted = countingFetch();
    const emitter = createPulseEmitter({
      baseUrl: server.url,
      serviceToken: 'wrong-token-0123456789',
      fetch: counted.fetch,
    });

    const error = await emitter.emit('0'.repeat(24), 'x', {}).catch((caught) => caught);

    assert.equal(error.code, 'SERVICE_TOKEN_INVALID');
    assert.equal(error.status, 403);
    assert.equal(counted.calls.length, 1);
  });

  test('delivers the good events of a batch and reports the bad one', TIMEOUT, async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, { token: user.token });
    t.after(() => stream.close());
    await stream.waitFor((frame) => frame.event === 'connected');
    const emitter = createPulseEmitter({ baseUrl: server.url, serviceToken: TEST_SERVICE_TOKEN });

    const results = await emitter.emitMany([
      { userId: user.id, eventType: 'goals:updated', data: { goal: 1 } },
      { userId: user.id, eventType: 'connected', data: {} },
      { userId: user.id, eventType: 'goals:updated', data: { goal: 3 }, eventId: 'goal-3' },
    ]);
    await stream.waitFor((frame) => frame.event === 'goals:updated', 2);

    assert.deepEqual(
      results.map((result) => [result.index, result.status]),
      [
        [0, 'delivered'],
        [1, 'rejected'],
        [2, 'delivered'],
      ],
    );
    assert.equal(results[1]!.status === 'rejected' && results[1]!.code, 'VALIDATION_FAILED');
    assert.equal(results[2]!.idempotencyKey, 'goal-3');
    assert.deepEqual(
      stream.ofType('goals:updated').map((frame) => frame.json.data.goal),
      [1, 3],
    );
  });

  test('splits a long list into requests of at most 500 events', TIMEOUT, async (t) => {
    const server = await startTestServer({ EMIT_RATE_LIMIT: '0' });
    t.after(() => server.stop());
    const counted = countingFetch();
    const emitter = createPulseEmitter({
      baseUrl: server.url,
      serviceToken: TEST_SERVICE_TOKEN,
      fetch: counted.fetch,
    });
    const events = Array.from({ length: 1001 }, (_, index) => ({
      userId: index.toString(16).padStart(24, '0'),
      eventType: 'x',
      data: { index },
    }));

    const results = await emitter.emitMany(events);

    assert.equal(counted.calls.length, 3);
    assert.equal(results.length, 1001);
    assert.ok(results.every((result, index) => result.index === index));
    assert.ok(results.every((result) => result.status === 'delivered'));
  });
});
