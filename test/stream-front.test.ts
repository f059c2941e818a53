import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawConnection, type RawConnection } from './support/raw-connection.js';
import { openRawStream, type RawStream } from './support/raw-stream.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  waitFor,
  type TestServer,
} from './support/server.js';

// The stream front (src/http/stream-front.ts) opens plain stream requests itself and hands
// every other connection to node:http. These tests check both ways give the same answers.
describe('the stream front', () => {
  let server: TestServer;
  const connections: RawConnection[] = [];
  const streams: RawStream[] = [];

  const frontOpened = () => server.pulse.streamFront.opened;

  function connection(): RawConnection {
    const opened = rawConnection(server.url);
    connections.push(opened);

    return opened;
  }

  function streamRequest(hostname: string, token: string, extraHeaders = ''): string {
    return (
      `GET /api/events/stream HTTP/1.1\r\nHost: ${hostname}\r\n` +
      `Authorization: Bearer ${token}\r\n${extraHeaders}\r\n`
    );
  }

  // The head cut in the middle, so the front cannot read it whole and hands it to node:http.
  async function writeInTwoParts(raw: RawConnection, request: string): Promise<void> {
    raw.socket.write(request.slice(0, 20));
    await new Promise((resolve) => setTimeout(resolve, 50));
    raw.socket.write(request.slice(20));
  }

  // A request that would delete the account, were it run.
  function deleteAccountRequest(token: string): string {
    return `DELETE /api/auth/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`;
  }

  // The head of a response, without the Date header (which differs by the second).
  function headLines(received: string): string[] {
    const head = received.slice(0, received.indexOf('\r\n\r\n'));

    return head
      .split('\r\n')
      .filter((line) => !line.startsWith('Date: '))
      .sort();
  }

  before(async () => {
    server = await startTestServer({ MAX_STREAMS_PER_USER: '2' });
  });

  after(async () => {
    for (const opened of connections) opened.socket.destroy();
    for (const stream of streams) stream.close();
    await server.stop();
  });

  test('opens a plain stream request itself, with events delivered', async () => {
    const user = await registerUser(server.url);
    const before = frontOpened();
    const stream = await openRawStream(`${server.url}/api/events/stream`, { token: user.token });
    streams.push(stream);

    await stream.waitFor((frame) => frame.event === 'connected');
    await emit(server.url, { userId: user.id, eventType: 'front:test', data: { n: 1 } });
    const [event] = await stream.waitFor((frame) => frame.event === 'front:test');

    assert.equal(frontOpened(), before + 1);
    assert.deepEqual(event!.json.data, { n: 1 });
    assert.equal(stream.headers['content-type'], 'text/event-stream');
    assert.equal(stream.headers['transfer-encoding'], 'chunked');
    assert.match(String(stream.headers.date), /GMT$/);
  });

  test('answers with the same head as the full server', async () => {
    const user = await registerUser(server.url);
    const before = frontOpened();

    // One write: the front's way. Two writes, the head cut in the middle: node:http's way.
    const direct = connection();
    direct.socket.write(streamRequest(direct.hostname, user.token));
    const split = connection();
    await writeInTwoParts(split, streamRequest(split.hostname, user.token));
    await direct.receive('event: connected');
    await split.receive('event: connected');

    assert.equal(frontOpened(), before + 1, 'only the request sent whole took the front');
    assert.deepEqual(headLines(direct.all()), headLines(split.all()));
    assert.equal(server.pulse.context.hub.countFor(user.id), 2);
  });

  test('leaves refusals to the full server, with their codes', async () => {
    const user = await registerUser(server.url);
    const before = frontOpened();
    const stream = `${server.url}/api/events/stream`;

    const invalid = await call(`${stream}?token=not-a-jwt`);
    const badFilter = await call(`${stream}?events=a,%20b%20c`, { token: user.token });
    const badResume = await call(`${stream}?lastEventId=${'9'.repeat(80)}`, { token: user.token });
    const ticket = await call(`${stream}?ticket=unknown`);

    assert.equal(invalid.body.code, 'TOKEN_INVALID');
    assert.equal(badFilter.body.code, 'VALIDATION_FAILED');
    assert.equal(badResume.body.code, 'VALIDATION_FAILED');
    assert.equal(ticket.body.code, 'TICKET_INVALID');
    assert.equal(frontOpened(), before);
  });

  test('leaves a user at the stream limit to the full server, which answers 429', async () => {
    const user = await registerUser(server.url);
    for (let index = 0; index < 2; index += 1) {
      const open = await openRawStream(`${server.url}/api/events/stream`, { token: user.token });
      streams.push(open);
    }
    const third = await call(`${server.url}/api/events/stream`, { token: user.token });

    assert.equal(third.status, 429);
    assert.equal(third.body.code, 'TOO_MANY_STREAMS');
    assert.equal(server.pulse.context.hub.countFor(user.id), 2);
  });

  test('hands a request with a body, bytes and all, to the full server', async () => {
    const user = await registerUser(server.url);
    const raw = connection();
    const body = JSON.stringify({ userId: user.id, eventType: 'front:body', data: { n: 2 } });

    raw.socket.write(
      `POST /api/events/emit HTTP/1.1\r\nHost: ${raw.hostname}\r\n` +
        `Authorization: Bearer test-service-token-0123456789\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n` +
        body,
    );

    await raw.receive('"success":true');
    assert.match(raw.all(), /^HTTP\/1\.1 200 OK/);
  });

  test('serves a stream asked for on a connection that served another request first', async () => {
    const user = await registerUser(server.url);
    const before = frontOpened();
    const raw = connection();

    raw.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${raw.hostname}\r\n\r\n`);
    await raw.receive('"success":true');
    raw.socket.write(streamRequest(raw.hostname, user.token));
    await raw.receive('event: connected');

    assert.equal(frontOpened(), before);
    assert.equal(server.pulse.context.hub.countFor(user.id), 1);
  });

  test('ignores blank lines a client sends after its stream opened', async () => {
    const user = await registerUser(server.url);
    const raw = connection();

    raw.socket.write(streamRequest(raw.hostname, user.token));
    await raw.receive('event: connected');
    raw.socket.write('\r\n\r\n');
    await emit(server.url, { userId: user.id, eventType: 'front:after', data: {} });
    await raw.receive('event: front:after');

    assert.equal(server.pulse.context.hub.countFor(user.id), 1);
  });

  test('cuts off a stream client that sends a request behind it, running none', async () => {
    const user = await registerUser(server.url);
    const raw = connection();

    raw.socket.write(streamRequest(raw.hostname, user.token));
    await raw.receive('event: connected');
    raw.socket.write(deleteAccountRequest(user.token));
    const count = await waitFor(
      () => server.pulse.context.hub.countFor(user.id),
      (value) => value === 0,
    );
    const me = await call(`${server.url}/api/auth/me`, { token: user.token });

    assert.equal(count, 0);
    assert.equal(me.status, 200, 'the account was not deleted');
  });

  test('refuses, unrun, a request sent behind a stream opened by node:http', async () => {
    const user = await registerUser(server.url);
    const raw = connection();
    const request = streamRequest(raw.hostname, user.token);
    const behind = deleteAccountRequest(user.token);

    // In one packet: the front hands both to node:http, which parses the second at once.
    raw.socket.write(request + behind);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const me = await call(`${server.url}/api/auth/me`, { token: user.token });

    assert.equal(me.status, 200, 'the account was not deleted');
    assert.equal(server.pulse.context.hub.countFor(user.id), 0);
  });

  test('answers keep-alive, or close when the request asks to close', async () => {
    const user = await registerUser(server.url);
    const open = connection();
    const closing = connection();

    open.socket.write(streamRequest(open.hostname, user.token));
    closing.socket.write(streamRequest(closing.hostname, user.token, 'Connection: close\r\n'));
    await open.receive('event: connected');
    await closing.receive('event: connected');

    assert.match(open.all(), /\r\nConnection: keep-alive\r\n/);
    assert.match(closing.all(), /\r\nConnection: close\r\n/);
  });

  test('cuts off a stream client that keeps sending blank lines', async () => {
    const user = await registerUser(server.url);
    const raw = connection();

    raw.socket.write(streamRequest(raw.hostname, user.token));
    await raw.receive('event: connected');
    raw.socket.write('\r\n'.repeat(20 * 1024));
    const count = await waitFor(
      () => server.pulse.context.hub.countFor(user.id),
      (value) => value === 0,
    );

    assert.equal(count, 0);
  });

  test('ends a node:http stream when garbage follows it, writing no 400 into it', async () => {
    const user = await registerUser(server.url);
    const raw = connection();

    // Sent in two parts, so node:http, not the front, opens the stream.
    await writeInTwoParts(raw, streamRequest(raw.hostname, user.token));
    await raw.receive('event: connected');
    raw.socket.write('NOT HTTP AT ALL\r\n\r\n');
    const count = await waitFor(
      () => server.pulse.context.hub.countFor(user.id),
      (value) => value === 0,
    );

    assert.equal(count, 0);
    assert.doesNotMatch(raw.all(), /HTTP\/1\.1 400/);
  });

  test('hands a head with many header lines to node:http, which opens the stream', async () => {
    const user = await registerUser(server.url);
    const before = frontOpened();
    const raw = connection();
    const filler = Array.from({ length: 150 }, (_, index) => `X-Filler-${index}: y\r\n`).join('');

    raw.socket.write(streamRequest(raw.hostname, user.token, filler));
    await raw.receive('event: connected');

    assert.equal(frontOpened(), before);
    assert.equal(server.pulse.context.hub.countFor(user.id), 1);
  });

  test('notices at once when a client of a stream it opened goes away', async () => {
    const user = await registerUser(server.url);
    const raw = connection();
    const { hub } = server.pulse.context;

    raw.socket.write(streamRequest(raw.hostname, user.token));
    await raw.receive('event: connected');
    raw.socket.end();
    const count = await waitFor(
      () => hub.countFor(user.id),
      (value) => value === 0,
      500,
    );

    assert.equal(count, 0);
  });

  test('holds nothing for connections that close before, during or after a request', async () => {
    const user = await registerUser(server.url);
    const { hub } = server.pulse.context;
    const front = server.pulse.streamFront;
    const baseline = front.holding + hub.totalConnections;

    for (let round = 0; round < 30; round += 1) {
      const raw = connection();
      if (round % 3 === 1) raw.socket.write(streamRequest(raw.hostname, user.token));
      if (round % 3 === 2) raw.socket.write('GET /api/events/str');
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (round % 2 === 0) raw.socket.resetAndDestroy();
      else raw.socket.end();
    }
    const held = await waitFor(
      () => front.holding + hub.totalConnections - baseline,
      (value) => value === 0,
      1000,
    );

    assert.equal(held, 0);
  });
});

describe('a stream with CORS on', () => {
  let server: TestServer;
  const connections: RawConnection[] = [];

  before(async () => {
    server = await startTestServer({ CORS_ORIGINS: '*' });
  });

  after(async () => {
    for (const opened of connections) opened.socket.destroy();
    await server.stop();
  });

  // Node allows bytes 0x80-0xff in header values; the CORS plugin echoes the origin back.
  test('opens for an origin with a byte outside ASCII, echoing it', async () => {
    const user = await registerUser(server.url);
    const raw = rawConnection(server.url);
    connections.push(raw);

    raw.socket.write(
      Buffer.from(
        `GET /api/events/stream HTTP/1.1\r\nHost: ${raw.hostname}\r\n` +
          `Origin: http://caf\u00e9.example\r\nAuthorization: Bearer ${user.token}\r\n\r\n`,
        'latin1',
      ),
    );
    await raw.receive('event: connected');

    assert.match(raw.all(), /^HTTP\/1\.1 200 OK/);
    assert.match(raw.all(), /access-control-allow-origin: http:\/\/caf\u00e9\.example\r\n/i);
  });
});
