import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { idsOf, inProcess } from './support/cluster.js';
import { openRawStream, type RawStream } from './support/raw-stream.js';
import { startRedis, type TestRedis } from './support/redis.js';
import { startRedisProxy, type RedisProxy } from './support/redis-proxy.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  waitFor,
  type TestServer,
} from './support/server.js';

describe('Pulse started while Redis is unreachable', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let server: TestServer | undefined;
  const streams: RawStream[] = [];

  before(async () => {
    redis = await startRedis();
    // Its port is known and nothing listens on it until the test starts it again.
    await redis.stop();
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await server?.stop();
    await redis.stop();
  });

  test('starts, says so in one line, and is ready once Redis comes up', async () => {
    server = await startTestServer({ REDIS_URL: redis.url });
    const instance = inProcess('lone', server);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const readyBefore = await call(`${server.url}/readyz`);
    const user = await registerUser(server.url);
    const refused = await emit(server.url, { userId: user.id, eventType: 'a', data: {} });
    const unreachableLines = instance.logged('redis unreachable');

    await redis.start();
    const readyAfter = await waitFor(
      () => call(`${server!.url}/readyz`),
      ({ status }) => status === 200,
      15_000,
    );
    const stream = await openRawStream(`${server.url}/api/events/stream`, user);
    streams.push(stream);
    await stream.waitFor((frame) => frame.event === 'connected');
    const accepted = await waitFor(
      () => emit(server!.url, { userId: user.id, eventType: 'metrics:updated', data: {} }),
      ({ status }) => status === 200,
      5000,
    );
    await stream.waitFor((frame) => frame.id === accepted.body.eventId);

    assert.equal(unreachableLines, 1);
    assert.equal(readyBefore.status, 503);
    assert.equal(readyBefore.body.code, 'NOT_READY');
    assert.equal(refused.status, 503);
    assert.equal(refused.body.code, 'BUS_UNAVAILABLE');
    assert.ok(refused.headers.get('retry-after'));
    assert.equal(readyAfter.status, 200);
    assert.equal(instance.logged('redis unreachable'), 1);
    assert.equal(instance.logged('redis reachable again'), 1);
  });
});

describe('Pulse on a connection to Redis that breaks', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let proxy: RedisProxy;
  let server: TestServer | undefined;
  const streams: RawStream[] = [];

  before(async () => {
    redis = await startRedis();
    proxy = await startRedisProxy(redis.port);
    server = await startTestServer({ REDIS_URL: proxy.url, EMIT_RATE_LIMIT_PER_USER: '0' });
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await server?.stop();
    await proxy?.close();
    await redis?.stop();
  });

  test('delivers an emit once when the answer from Redis is lost with its connection', async () => {
    const url = server!.url;
    const user = await registerUser(url);
    const stream = await openRawStream(`${url}/api/events/stream`, user);
    streams.push(stream);
    await stream.waitFor((frame) => frame.event === 'connected');

    proxy.loseNextEmitAnswer();
    const answer = await emit(url, { userId: user.id, eventType: 'metrics:updated', data: {} });
    const marker = await waitFor(
      () => emit(url, { userId: user.id, eventType: 'test:marker', data: {} }),
      ({ status }) => status === 200,
      5000,
    );
    await stream.waitFor((frame) => frame.id === marker.body.eventId, 1, 5000);

    const delivered = stream.frames.filter((frame) => frame.event === 'metrics:updated');
    // Either answer is honest: 503 (the emitter retries, with its key) or 200 and one event.
    if (answer.status === 200) {
      assert.deepEqual(idsOf(delivered), [answer.body.eventId], 'an emit answered 200 runs once');
    } else {
      assert.equal(answer.body.code, 'BUS_UNAVAILABLE');
      assert.ok(delivered.length <= 1);
    }
  });

  test('says once that Redis went and once that it came back, however its links fail', async () => {
    const url = server!.url;
    const instance = inProcess('lone', server!);
    const before = {
      down: instance.logged('redis unreachable'),
      up: instance.logged('redis reachable again'),
    };

    // The two connections lose Redis 400 ms apart, so they come back at different moments.
    await proxy.refuse();
    proxy.cut('others');
    await new Promise((resolve) => setTimeout(resolve, 400));
    proxy.cut('reader');
    await new Promise((resolve) => setTimeout(resolve, 2900));
    await proxy.accept();
    // Streams and emits are refused (503) until both links are back: wait for readiness.
    await waitFor(
      () => call(`${url}/readyz`),
      ({ status }) => status === 200,
      10_000,
    );
    const user = await registerUser(url);
    const stream = await openRawStream(`${url}/api/events/stream`, user);
    streams.push(stream);
    await stream.waitFor((frame) => frame.event === 'connected');
    const accepted = await waitFor(
      () => emit(url, { userId: user.id, eventType: 'metrics:updated', data: {} }),
      ({ status }) => status === 200,
      10_000,
    );
    await stream.waitFor((frame) => frame.id === accepted.body.eventId, 1, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));

    const said = `logged ${JSON.stringify(instance.redisLines())}`;
    assert.equal(instance.logged('redis unreachable') - before.down, 1, said);
    assert.equal(instance.logged('redis reachable again') - before.up, 1, said);
  });
});
