import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { openRawStream, type RawStream } from './support/raw-stream.js';
import { ResumingClient } from './support/resuming-client.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  TEST_JWT_SECRET,
  waitFor,
  type TestServer,
} from './support/server.js';

const servers: TestServer[] = [];

async function serverWith(env: Record<string, string>): Promise<TestServer> {
  const server = await startTestServer(env);
  servers.push(server);

  return server;
}

after(async () => {
  await Promise.all(servers.map((server) => server.stop()));
});

describe('stream limits', () => {
  test('answers 429 TOO_MANY_STREAMS past MAX_STREAMS_PER_USER', async () => {
    const server = await serverWith({ MAX_STREAMS_PER_USER: '2' });
    const user = await registerUser(server.url);
    const open: RawStream[] = [];
    for (let index = 0; index < 2; index += 1) {
      open.push(await openRawStream(`${server.url}/api/events/stream`, user));
    }

    const third = await call(`${server.url}/api/events/stream`, user);
    const other = await openRawStream(
      `${server.url}/api/events/stream`,
      await registerUser(server.url),
    );
    for (const stream of [...open, other]) stream.close();

    assert.equal(third.status, 429);
    assert.equal(third.body.code, 'TOO_MANY_STREAMS');
    assert.equal(other.status, 200, 'other users are not affected');
  });

  test('answers 503 SERVER_FULL with Retry-After past MAX_CONNECTIONS', async () => {
    const server = await serverWith({ MAX_CONNECTIONS: '2' });
    const users = [await registerUser(server.url), await registerUser(server.url)];
    const open = await Promise.all(
      users.map((user) => openRawStream(`${server.url}/api/events/stream`, user)),
    );
    await Promise.all(open.map((stream) => stream.waitFor((f) => f.event === 'connected')));

    const full = await call(`${server.url}/api/events/stream`, await registerUser(server.url));
    for (const stream of open) stream.close();

    assert.equal(full.status, 503);
    assert.equal(full.body.code, 'SERVER_FULL');
    assert.match(full.headers.get('retry-after') ?? '', /^\d+$/);
  });
});

describe('emit rate limits', () => {
  test('answers 429 RATE_LIMITED with Retry-After past EMIT_RATE_LIMIT per second', async () => {
    const server = await serverWith({ EMIT_RATE_LIMIT: '5', EMIT_RATE_LIMIT_PER_USER: '0' });
    const user = await registerUser(server.url);

    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        emit(server.url, { userId: user.id, eventType: 'x', data: { index } }),
      ),
    );
    const limited = answers.filter((answer) => answer.status === 429);

    // Twenty requests fit in at most two one-second windows: at most ten get through.
    assert.ok(answers.length - limited.length <= 10, `${limited.length} limited`);
    assert.equal(limited[0]!.body.code, 'RATE_LIMITED');
    assert.match(limited[0]!.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  });

  test('limits each target user on its own with EMIT_RATE_LIMIT_PER_USER', async () => {
    const server = await serverWith({ EMIT_RATE_LIMIT: '0', EMIT_RATE_LIMIT_PER_USER: '3' });
    const busy = await registerUser(server.url);
    const quiet = await registerUser(server.url);

    const burst = await Promise.all(
      Array.from({ length: 12 }, () =>
        emit(server.url, { userId: busy.id, eventType: 'x', data: {} }),
      ),
    );
    const other = await emit(server.url, { userId: quiet.id, eventType: 'x', data: {} });

    const passed = burst.filter((answer) => answer.status === 200).length;
    assert.ok(passed <= 6, `${passed} passed`);
    assert.ok(burst.some((answer) => answer.body.code === 'RATE_LIMITED'));
    assert.equal(other.status, 200);
  });
});

describe('token lifetime on a stream', () => {
  test('warns with auth:expiring, then sends auth:expired and closes at exp', async () => {
    const server = await serverWith({ TOKEN_EXPIRY_NOTICE_MS: '1500' });
    const user = await registerUser(server.url);
    const exp = Math.floor(Date.now() / 1000) + 3;
    const token = await new SignJWT({ id: user.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));

    const stream = await openRawStream(`${server.url}/api/events/stream`, { token });
    const [expiring] = await stream.waitFor((frame) => frame.event === 'auth:expiring', 1, 5000);
    const [expired] = await stream.waitFor((frame) => frame.event === 'auth:expired', 1, 5000);
    await stream.waitForEnd();

    assert.equal(expiring!.json.data.expiresAt, exp * 1000);
    assert.ok(expiring!.json.timestamp >= exp * 1000 - 1600);
    assert.ok(expired!.json.timestamp >= exp * 1000, 'not before exp');
    assert.ok(expired!.json.timestamp < exp * 1000 + 1000, 'promptly at exp');
    const counters = server.pulse.context.hub.counters();
    assert.equal(counters.closedByReason.token_expired, 1);
  });
});

describe('stream tickets', () => {
  test('open a stream once, then are refused with TICKET_INVALID', async () => {
    const server = await serverWith({});
    const user = await registerUser(server.url);
    const issued = await call(`${server.url}/api/events/ticket`, { token: user.token, body: {} });
    const ticket = issued.body.ticket as string;

    const stream = await openRawStream(`${server.url}/api/events/stream?ticket=${ticket}`);
    const [connected] = await stream.waitFor((frame) => frame.event === 'connected');
    stream.close();
    const reused = await call(`${server.url}/api/events/stream?ticket=${ticket}`);
    const forged = await call(`${server.url}/api/events/stream?ticket=made-up`);

    assert.equal(issued.body.success, true);
    assert.equal(issued.body.expiresIn, 60);
    assert.equal(connected!.json.userId, user.id);
    assert.equal(reused.status, 401);
    assert.equal(reused.body.code, 'TICKET_INVALID');
    assert.equal(forged.body.code, 'TICKET_INVALID');
  });

  test('are capped per user, and refused once the JWT behind them has expired', async () => {
    const server = await serverWith({});
    const user = await registerUser(server.url);
    const answers = [];
    for (let index = 0; index < 21; index += 1) {
      answers.push(await call(`${server.url}/api/events/ticket`, { token: user.token, body: {} }));
    }
    const other = await registerUser(server.url);
    const shortLived = await new SignJWT({ id: other.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 1)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const issued = await call(`${server.url}/api/events/ticket`, { token: other.token, body: {} });
    const late = await call(`${server.url}/api/events/ticket`, { token: shortLived, body: {} });
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const afterExpiry = await call(`${server.url}/api/events/stream?ticket=${late.body.ticket}`);

    assert.equal(answers[19]!.status, 200);
    assert.equal(answers[20]!.status, 429);
    assert.equal(answers[20]!.body.code, 'RATE_LIMITED');
    assert.equal(issued.status, 200, 'other users still get tickets');
    assert.equal(afterExpiry.status, 401);
    assert.equal(afterExpiry.body.code, 'TOKEN_EXPIRED');
  });

  test('are issued only to a signed-in user', async () => {
    const server = await serverWith({});
    const { status, body } = await call(`${server.url}/api/events/ticket`, { body: {} });

    assert.equal(status, 401);
    assert.equal(body.code, 'TOKEN_MISSING');
  });
});

describe('slow consumers', () => {
  test('cuts off a client that never reads, in bounded RSS; it resumes losslessly', async () => {
    const server = await serverWith({
      MAX_BUFFERED_BYTES: String(1024 * 1024),
      EMIT_RATE_LIMIT_PER_USER: '0',
    });
    const user = await registerUser(server.url);
    const hub = server.pulse.context.hub;
    const stalled = await openRawStream(`${server.url}/api/events/stream`, user);
    stalled.pause();

    const rssBefore = process.memoryUsage().rss;
    const payload = 'x'.repeat(100 * 1024);
    const sent: string[] = [];
    for (let index = 0; index < 200; index += 1) {
      const answer = await emit(server.url, {
        userId: user.id,
        eventType: 'big',
        data: { payload, index },
      });
      sent.push(answer.body.eventId);
    }
    const count = await waitFor(
      () => hub.countFor(user.id),
      (value) => value === 0,
    );
    const rssGrowth = process.memoryUsage().rss - rssBefore;

    assert.equal(count, 0, 'the slow client was cut off');
    assert.equal(hub.counters().closedByReason.slow_consumer, 1);
    // 200 events of 100 KiB are 20 MiB; history holds them, the dead socket must not as well.
    assert.ok(rssGrowth < 96 * 1024 * 1024, `RSS grew by ${Math.round(rssGrowth / 1048576)} MiB`);

    // The client reads what reached it before the cut, then resumes from its last id.
    stalled.resume();
    await stalled.waitForEnd(5000);
    const before = stalled.frames.filter((frame) => frame.event === 'big');
    assert.ok(before.length < sent.length, 'the cut happened before everything was sent');
    const client = new ResumingClient(server.url, user.token);
    client.lastEventId = before.at(-1)?.id;
    await client.connect();
    const after = await client.waitForEvents(sent.length - before.length, 10_000);
    client.drop();

    assert.deepEqual(
      [...before, ...after].map((frame) => frame.id),
      sent,
    );
  });
});
