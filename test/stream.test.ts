import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { EventSource } from 'eventsource';
import { rawConnection } from './support/raw-connection.js';
import { openRawStream, type RawStream } from './support/raw-stream.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  waitFor,
  type TestServer,
} from './support/server.js';

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

describe('the event stream', () => {
  let server: TestServer;
  const streams: RawStream[] = [];

  async function open(token: string, path = '/api/events/stream'): Promise<RawStream> {
    const stream = await openRawStream(`${server.url}${path}`, { token });
    streams.push(stream);

    return stream;
  }

  async function countFor(token: string, userId: string): Promise<number> {
    const { body } = await call(`${server.url}/api/events/debug/count/${userId}`, { token });

    return body.connectionCount;
  }

  before(async () => {
    server = await startTestServer({ HEARTBEAT_MS: '100' });
  });

  after(async () => {
    for (const stream of streams) stream.close();
    await server.stop();
  });

  test('answers 401 TOKEN_MISSING without a token and TOKEN_INVALID with a bad one', async () => {
    const missing = await call(`${server.url}/api/events/stream`);
    const invalid = await call(`${server.url}/api/events/stream?token=nonsense`);

    assert.equal(missing.status, 401);
    assert.equal(missing.body.code, 'TOKEN_MISSING');
    assert.equal(invalid.status, 401);
    assert.equal(invalid.body.code, 'TOKEN_INVALID');
  });

  test('opens with the stream headers and a connected event', async () => {
    const user = await registerUser(server.url);
    const stream = await open(user.token);
    const [connected] = await stream.waitFor((frame) => frame.event === 'connected');

    assert.equal(stream.status, 200);
    assert.equal(stream.headers['content-type'], 'text/event-stream');
    assert.equal(stream.headers['cache-control'], 'no-cache');
    // Node's client without an agent asks for `Connection: close`, and is answered so.
    assert.equal(stream.headers.connection, 'close');
    assert.equal(stream.headers['x-accel-buffering'], 'no');
    assert.equal(stream.headers['content-encoding'], undefined);
    // The greeting's id is the stream's position, so a reconnect before any event resumes.
    assert.equal(connected!.id, connected!.json.resumeFrom);
    assert.match(connected!.id!, /^\d+$/);
    assert.equal(connected!.json.type, 'connected');
    assert.equal(connected!.json.userId, user.id);
    assert.equal(connected!.json.message, 'Real-time event stream established');
    assert.equal(typeof connected!.json.timestamp, 'number');
    assert.match(stream.raw, /^id: \d+\nevent: connected\ndata: \{[^\n]*\}\n\n/);
  });

  test('accepts the token from the query string', async () => {
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream?token=${user.token}`);
    streams.push(stream);

    await stream.waitFor((frame) => frame.event === 'connected');
    assert.equal(stream.status, 200);
  });

  test('frames an emitted event with id, event and one line of JSON data', async () => {
    const user = await registerUser(server.url);
    const stream = await open(user.token);
    await stream.waitFor((frame) => frame.event === 'connected');

    const answer = await emit(server.url, {
      userId: user.id,
      eventType: 'metrics:updated',
      data: { steps: 9001, note: 'line one\nline two' },
    });
    const [frame] = await stream.waitFor((received) => received.event === 'metrics:updated');

    assert.equal(answer.body.connectionsNotified, 1);
    assert.equal(frame!.id, answer.body.eventId);
    assert.deepEqual(Object.keys(frame!.json), ['type', 'timestamp', 'data']);
    assert.equal(frame!.json.type, 'metrics:updated');
    assert.deepEqual(frame!.json.data, { steps: 9001, note: 'line one\nline two' });
    const block = `id: ${frame!.id}\nevent: metrics:updated\ndata: ${frame!.data}\n\n`;
    assert.ok(stream.raw.includes(block), 'the frame is id, event and a single data line');
  });

  test('sends heartbeats without an id at HEARTBEAT_MS', async () => {
    const user = await registerUser(server.url);
    const stream = await open(user.token);

    const beats = await stream.waitFor((frame) => frame.event === 'heartbeat', 3, 2000);

    assert.ok(beats.every((beat) => beat.id === undefined));
    assert.ok(beats.every((beat) => beat.json.type === 'heartbeat'));
    assert.deepEqual(Object.keys(beats[0]!.json), ['type', 'timestamp', 'data']);
    const gap = beats[2]!.json.timestamp - beats[1]!.json.timestamp;
    assert.ok(gap >= 80 && gap <= 400, `heartbeats ${gap} ms apart`);
  });

  test('sends one emit to all three tabs, and counts 3 then 1 after two close', async () => {
    const user = await registerUser(server.url);
    const tabs = [await open(user.token), await open(user.token), await open(user.token)];
    await Promise.all(tabs.map((tab) => tab.waitFor((frame) => frame.event === 'connected')));
    assert.equal(await countFor(user.token, user.id), 3);

    const answer = await emit(server.url, {
      userId: user.id,
      eventType: 'goals:updated',
      data: { goal: 'steps', reached: true },
    });
    const received = await Promise.all(
      tabs.map((tab) => tab.waitFor((frame) => frame.event === 'goals:updated')),
    );

    assert.equal(answer.body.connectionsNotified, 3);
    assert.equal(answer.body.hasActiveConnections, true);
    assert.ok(received.every(([frame]) => frame!.id === answer.body.eventId));

    tabs[0]!.close();
    tabs[1]!.close();
    const startedAt = Date.now();
    const count = await waitFor(
      () => countFor(user.token, user.id),
      (value) => value === 1,
    );
    assert.equal(count, 1);
    assert.ok(Date.now() - startedAt < 100, 'the count drops within 100 ms');
  });

  test('a user without open streams is not an error', async () => {
    const user = await registerUser(server.url);
    const { status, body } = await emit(server.url, {
      userId: user.id,
      eventType: 'metrics:updated',
      data: {},
    });

    assert.equal(status, 200);
    assert.equal(body.connectionsNotified, 0);
    assert.equal(body.hasActiveConnections, false);
  });

  test('works with the eventsource package as a browser-like client', async () => {
    const user = await registerUser(server.url);
    const source = new EventSource(`${server.url}/api/events/stream?token=${user.token}`);
    const received: MessageEvent[] = [];
    source.addEventListener('analytics:update', (event) => received.push(event));

    try {
      await new Promise<void>((resolve, reject) => {
        source.addEventListener('connected', () => resolve());
        source.onerror = () => reject(new Error('EventSource failed'));
      });
      const answer = await emit(server.url, {
        userId: user.id,
        eventType: 'analytics:update',
        data: { metric: 'steps', average7d: 8123 },
      });
      await waitFor(
        () => received.length,
        (length) => length === 1,
      );

      assert.equal(received.length, 1);
      assert.equal(received[0]!.lastEventId, answer.body.eventId);
      assert.deepEqual(JSON.parse(received[0]!.data).data, { metric: 'steps', average7d: 8123 });
    } finally {
      source.close();
    }
  });

  test("ends a deleted user's open streams", async () => {
    const user = await registerUser(server.url);
    const stream = await open(user.token);
    await stream.waitFor((frame) => frame.event === 'connected');

    await call(`${server.url}/api/auth/me`, { method: 'DELETE', token: user.token });

    await stream.waitForEnd();
    const again = await call(`${server.url}/api/events/stream`, { token: user.token });
    assert.equal(again.status, 401);
    assert.equal(again.body.code, 'USER_NOT_FOUND');
  });

  test('leaves no stream or timer behind after 1,000 connect/disconnect cycles', async () => {
    const user = await registerUser(server.url);
    const hub = server.pulse.context.hub;
    const timersBefore = activeTimers();
    const othersOpen = hub.totalConnections;

    for (let round = 0; round < 100; round += 1) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, () => openRawStream(`${server.url}/api/events/stream`, user)),
      );
      await Promise.all(batch.map((stream) => stream.waitFor((f) => f.event === 'connected')));
      for (const stream of batch) stream.close();
    }

    const count = await waitFor(
      () => countFor(user.token, user.id),
      (value) => value === 0,
      5000,
    );
    assert.equal(count, 0);
    assert.equal(hub.countFor(user.id), 0);
    assert.equal(
      hub.connectionsByUser().some((entry) => entry.userId === user.id),
      false,
    );
    assert.equal(hub.totalConnections, othersOpen);
    assert.ok(activeTimers() <= timersBefore, `timers ${timersBefore} -> ${activeTimers()}`);
  });

  test('leaves nothing behind when clients vanish while their token is being checked', async () => {
    const user = await registerUser(server.url);
    const hub = server.pulse.context.hub;
    const othersOpen = hub.totalConnections;
    const { hostname, port } = new URL(server.url);

    for (let round = 0; round < 40; round += 1) {
      const socket = connect(Number(port), hostname);
      socket.on('error', () => undefined);
      socket.write(
        `GET /api/events/stream HTTP/1.1\r\nHost: ${hostname}\r\n` +
          `Authorization: Bearer ${user.token}\r\n\r\n`,
      );
      if (round % 2 === 0) socket.resetAndDestroy();
      else socket.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));

    assert.equal(hub.countFor(user.id), 0);
    assert.equal(hub.totalConnections, othersOpen);
  });

  test('opens a stream pipelined behind another request on the same connection', async () => {
    const user = await registerUser(server.url);
    const { socket, hostname, receive, all } = rawConnection(server.url);
    const auth = `Host: ${hostname}\r\nAuthorization: Bearer ${user.token}\r\n`;

    // Both requests in one write: the stream's response has no socket until /me is answered.
    socket.write(
      `GET /api/auth/me HTTP/1.1\r\n${auth}\r\n` + `GET /api/events/stream HTTP/1.1\r\n${auth}\r\n`,
    );
    try {
      await receive('event: connected');
      const received = all();
      const heads = received.match(/HTTP\/1\.1 200 OK/g) ?? [];
      assert.equal(heads.length, 2, 'both answered, in order');
      assert.ok(received.indexOf('text/event-stream') > received.indexOf('"email"'));
      assert.equal(server.pulse.context.hub.countFor(user.id), 1);
    } finally {
      socket.destroy();
    }
  });

  test('sends an HTTP/1.0 client its frames without chunk framing', async () => {
    const user = await registerUser(server.url);
    const { socket, receive, all } = rawConnection(server.url);
    socket.write(`GET /api/events/stream HTTP/1.0\r\nAuthorization: Bearer ${user.token}\r\n\r\n`);

    try {
      await receive('event: connected');
      await emit(server.url, { userId: user.id, eventType: 'http10:test', data: { n: 1 } });
      await receive('event: http10:test');
      const received = all();

      const body = received.slice(received.indexOf('\r\n\r\n') + 4);
      assert.doesNotMatch(received, /Transfer-Encoding: chunked/i);
      // Every line of the body is an SSE line: no chunk sizes, no CRLF chunk ends.
      for (const line of body.split('\n')) {
        assert.match(line, /^(|id: .*|event: .*|data: .*|retry: \d+|:.*)$/, JSON.stringify(line));
      }
    } finally {
      socket.destroy();
    }
  });

  test('does not open a stream for a HEAD request', async () => {
    const user = await registerUser(server.url);
    const response = await fetch(`${server.url}/api/events/stream`, {
      method: 'HEAD',
      headers: { authorization: `Bearer ${user.token}` },
    });

    assert.notEqual(response.headers.get('content-type'), 'text/event-stream');
    assert.equal(server.pulse.context.hub.countFor(user.id), 0);
  });
});
