import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { openRawStream } from './support/raw-stream.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  TEST_JWT_SECRET,
  TEST_SERVICE_TOKEN,
  type TestServer,
} from './support/server.js';

describe('logs', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ LOG_LEVEL: 'trace' });
  });

  after(async () => {
    await server.stop();
  });

  test('never contain a token, from the query string, a header or a body', async () => {
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream?token=${user.token}`);
    await stream.waitFor((frame) => frame.event === 'connected');
    await call(`${server.url}/api/events/stream?token=${user.token}x`);
    await call(`${server.url}/api/auth/me?token=${user.token}`);
    await call(`${server.url}/api/nowhere?token=${user.token}`);
    await emit(server.url, { userId: user.id, eventType: 'x', data: {} });
    await emit(server.url, { userId: user.id, eventType: 'x', data: {} }, 'a-wrong-service-token');
    await call(`${server.url}/api/auth/login`, {
      body: { email: user.email, password: 'correct horse battery' },
    });
    stream.close();
    await new Promise((resolve) => setTimeout(resolve, 50));

    const log = server.logLines.join('\n');
    const signature = user.token.split('.')[2]!;
    assert.ok(server.logLines.length > 5, 'the test produced log lines');
    assert.ok(log.includes('stream opened'), 'stream lines are logged');
    assert.ok(log.includes('"url":"/api/events/stream"'), 'the path is logged');
    assert.equal(log.includes(signature), false, 'JWT signature found in logs');
    assert.equal(log.includes('token='), false, 'query string found in logs');
    assert.equal(log.includes(TEST_SERVICE_TOKEN), false, 'service token found in logs');
    assert.equal(log.includes('a-wrong-service-token'), false);
    assert.equal(log.includes(TEST_JWT_SECRET), false);
    assert.equal(log.includes('correct horse battery'), false, 'password found in logs');
  });

  test('keep tokens out even for requests the HTTP parser refuses', async () => {
    const user = await registerUser(server.url);
    const { hostname, port } = new URL(server.url);
    const oversized = await call(`${server.url}/api/auth/me?token=${user.token}`, {
      headers: { authorization: `Bearer ${user.token}`, 'x-padding': 'p'.repeat(20_000) },
    });
    const malformed = await rawRequest(
      Number(port),
      hostname,
      `GET /api/auth/me?token=${user.token} HTTP/1.1\r\nAuthorization: Bearer ${user.token}\r\n` +
        'Bad Header\r\n\r\n',
    );

    assert.equal(oversized.status, 431);
    assert.equal(oversized.body.code, 'HEADERS_TOO_LARGE');
    assert.match(malformed, /^HTTP\/1\.1 400 /);
    assert.match(malformed, /"code":"BAD_REQUEST"/);
    const signature = user.token.split('.')[2]!;
    assert.equal(server.logLines.join('\n').includes(signature), false);
  });

  test('are JSON lines with constant lowercase messages', () => {
    for (const line of server.logLines) {
      const entry = JSON.parse(line);
      assert.match(entry.msg, /^[a-z][a-z0-9 ,;()'-]*$/, `message ${JSON.stringify(entry.msg)}`);
      assert.equal(typeof entry.level, 'number');
    }
  });
});

test('a request turned away with 503 logs a warning, not an error', async () => {
  const server = await startTestServer({ LOG_LEVEL: 'info', MAX_CONNECTIONS: '1' });

  try {
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, user);
    await stream.waitFor((frame) => frame.event === 'connected');
    const full = await call(`${server.url}/api/events/stream`, user);
    stream.close();
    await new Promise((resolve) => setTimeout(resolve, 50));

    assert.equal(full.status, 503);
    const entries = server.logLines.map((line) => JSON.parse(line));
    const refused = entries.filter((entry) => entry.statusCode === 503);
    assert.equal(refused.length, 1, server.logLines.join('\n'));
    assert.equal(refused[0].level, 40);
    assert.equal(refused[0].msg, 'request refused');
    assert.equal(refused[0].url, '/api/events/stream');
    assert.equal(entries.filter((entry) => entry.level >= 50).length, 0, 'no error lines');
  } finally {
    await server.stop();
  }
});

function rawRequest(port: number, host: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(text);
  });
}
