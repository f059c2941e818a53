import assert from 'node:assert/strict';
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

  test('are JSON lines with constant messages', () => {
    for (const line of server.logLines) {
      const entry = JSON.parse(line);
      assert.equal(typeof entry.msg, 'string');
      assert.equal(typeof entry.level, 'number');
    }
  });
});
