import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openRawStream } from './support/raw-stream.js';
import { call, registerUser, startTestServer, type TestServer } from './support/server.js';

const FRONT_END = 'http://localhost:5173';

describe('health and cross-origin access', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ CORS_ORIGINS: FRONT_END });
  });

  after(async () => {
    await server.stop();
  });

  test('answers liveness and readiness', async () => {
    const live = await call(`${server.url}/healthz`);
    const ready = await call(`${server.url}/readyz`);

    assert.equal(live.status, 200);
    assert.equal(ready.status, 200);
    assert.equal(ready.body.status, 'ready');
  });

  test('answers a preflight from an allowed origin, with credentials', async () => {
    const response = await fetch(`${server.url}/api/events/stream`, {
      method: 'OPTIONS',
      headers: {
        origin: FRONT_END,
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'authorization,last-event-id',
      },
    });

    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), FRONT_END);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.match(response.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
  });

  test('lets an allowed origin open the stream with credentials', async () => {
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, {
      token: user.token,
      headers: { origin: FRONT_END },
    });

    try {
      await stream.waitFor((frame) => frame.event === 'connected');
      assert.equal(stream.headers['access-control-allow-origin'], FRONT_END);
      assert.equal(stream.headers['access-control-allow-credentials'], 'true');
      assert.equal(stream.headers['content-type'], 'text/event-stream');
    } finally {
      stream.close();
    }
  });

  test('does not grant other origins', async () => {
    const response = await fetch(`${server.url}/healthz`, {
      headers: { origin: 'http://evil.example' },
    });

    assert.equal(response.headers.get('access-control-allow-origin'), null);
  });
});

describe('readiness without a database', () => {
  test('answers 503 NOT_READY when the database does not answer', async () => {
    const server = await startTestServer();
    const store = server.pulse.context.store;
    const realPing = store.ping.bind(store);
    store.ping = async () => {
      throw new Error('database down');
    };

    try {
      const { status, body } = await call(`${server.url}/readyz`);
      assert.equal(status, 503);
      assert.equal(body.code, 'NOT_READY');
    } finally {
      store.ping = realPing;
      await server.stop();
    }
  });
});
