import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openRawStream } from './support/raw-stream.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  TEST_SERVICE_TOKEN,
  type TestServer,
} from './support/server.js';

const SOME_USER = '0123456789abcdef01234567';

describe('emitting events as a backend service', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ MAX_EVENT_BYTES: '4096' });
  });

  after(async () => {
    await server.stop();
  });

  async function expectInvalid(body: unknown, field: RegExp): Promise<void> {
    const { status, body: answer } = await emit(server.url, body);

    assert.equal(status, 400, JSON.stringify(answer));
    assert.equal(answer.success, false);
    assert.equal(answer.code, 'VALIDATION_FAILED');
    assert.match(answer.message, field);
  }

  test('rejects emit without a service token', async () => {
    const { status, body } = await call(`${server.url}/api/events/emit`, {
      body: { userId: SOME_USER, eventType: 'x', data: {} },
    });

    assert.equal(status, 403);
    assert.equal(body.code, 'SERVICE_TOKEN_INVALID');
  });

  test('rejects emit with a wrong service token', async () => {
    const wrong = await emit(server.url, { userId: SOME_USER, eventType: 'x', data: {} }, 'wrong');
    const userJwt = (await registerUser(server.url)).token;
    const asUser = await emit(server.url, { userId: SOME_USER, eventType: 'x', data: {} }, userJwt);

    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.code, 'SERVICE_TOKEN_INVALID');
    assert.equal(asUser.status, 403);
  });

  test('checks the service token before it reads the body', async () => {
    const invalid = await call(`${server.url}/api/events/emit`, { body: { userId: 'x' } });
    const tooLarge = await call(`${server.url}/api/events/emit`, {
      body: { filler: 'x'.repeat(10_000) },
    });
    const notJson = await call(`${server.url}/api/events/emit`, {
      body: 'plain text',
      headers: { 'content-type': 'text/plain' },
    });

    for (const answer of [invalid, tooLarge, notJson]) {
      assert.equal(answer.status, 403);
      assert.equal(answer.body.code, 'SERVICE_TOKEN_INVALID');
    }
  });

  test('refuses data nested deeper than the limit', async () => {
    // Written by hand, as a hostile client would; the body stays under MAX_EVENT_BYTES.
    const nested = `${'['.repeat(1900)}1${']'.repeat(1900)}`;
    const body = `{"userId":"${SOME_USER}","eventType":"x","data":{"nested":${nested}}}`;

    await expectInvalid(body, /data may nest/);
  });

  test('rejects emit with a missing userId', async () => {
    await expectInvalid({ eventType: 'metrics:updated', data: {} }, /userId/);
  });

  test('rejects emit with a userId that is not 24 hex characters', async () => {
    await expectInvalid({ userId: 'abc', eventType: 'metrics:updated', data: {} }, /userId/);
    await expectInvalid({ userId: 'z'.repeat(24), eventType: 'x', data: {} }, /userId/);
    await expectInvalid({ userId: 123, eventType: 'x', data: {} }, /userId/);
  });

  test('rejects emit with a missing, empty, long, odd or reserved eventType', async () => {
    await expectInvalid({ userId: SOME_USER, data: {} }, /eventType/);
    await expectInvalid({ userId: SOME_USER, eventType: '', data: {} }, /eventType/);
    await expectInvalid({ userId: SOME_USER, eventType: 'a'.repeat(65), data: {} }, /eventType/);
    await expectInvalid({ userId: SOME_USER, eventType: 'bad type', data: {} }, /eventType/);
    await expectInvalid({ userId: SOME_USER, eventType: 'x\nevent: y', data: {} }, /eventType/);
    await expectInvalid({ userId: SOME_USER, eventType: 'connected', data: {} }, /eventType/);
    await expectInvalid({ userId: SOME_USER, eventType: 'heartbeat', data: {} }, /eventType/);
  });

  test('rejects emit with missing data, or data that is not a plain object', async () => {
    await expectInvalid({ userId: SOME_USER, eventType: 'x' }, /data/);
    await expectInvalid({ userId: SOME_USER, eventType: 'x', data: [1, 2] }, /data/);
    await expectInvalid({ userId: SOME_USER, eventType: 'x', data: null }, /data/);
    await expectInvalid({ userId: SOME_USER, eventType: 'x', data: 'text' }, /data/);
  });

  test('accepts an analytics batch of 50 items with batchSize and refuses 51', async () => {
    const items = (count: number) => Array.from({ length: count }, (_, index) => ({ index }));
    const fifty = await emit(server.url, {
      userId: SOME_USER,
      eventType: 'analytics:batch_update',
      data: { analytics: items(50) },
    });

    assert.equal(fifty.status, 200);
    assert.equal(fifty.body.batchSize, 50);
    await expectInvalid(
      { userId: SOME_USER, eventType: 'analytics:batch_update', data: { analytics: items(51) } },
      /data\.analytics/,
    );
  });

  test('answers a successful emit with the documented fields', async () => {
    const { status, body } = await emit(server.url, {
      userId: SOME_USER.toUpperCase(),
      eventType: 'metrics:updated',
      data: { steps: 1 },
    });

    assert.equal(status, 200);
    assert.equal(body.success, true);
    assert.equal(body.message, 'Event emitted successfully');
    assert.equal(body.userId, SOME_USER);
    assert.equal(body.eventType, 'metrics:updated');
    assert.equal(body.connectionsNotified, 0);
    assert.equal(body.hasActiveConnections, false);
    assert.equal('batchSize' in body, false);
    assert.match(body.eventId, /^\d+$/);
  });

  test('answers 413 PAYLOAD_TOO_LARGE for a body over MAX_EVENT_BYTES', async () => {
    const { status, body } = await emit(server.url, {
      userId: SOME_USER,
      eventType: 'x',
      data: { filler: 'x'.repeat(5000) },
    });

    assert.equal(status, 413);
    assert.equal(body.code, 'PAYLOAD_TOO_LARGE');
  });

  test('answers 400 INVALID_JSON for malformed JSON and 415 for other media types', async () => {
    const malformed = await call(`${server.url}/api/events/emit`, {
      token: TEST_SERVICE_TOKEN,
      body: '{"userId": ',
    });
    const text = await call(`${server.url}/api/events/emit`, {
      token: TEST_SERVICE_TOKEN,
      body: 'userId=1',
      headers: { 'content-type': 'text/plain' },
    });

    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.code, 'INVALID_JSON');
    assert.equal(text.status, 415);
    assert.equal(text.body.code, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('answers a URL that does not decode in the error shape', async () => {
    const { status, body } = await call(`${server.url}/api/events/debug/count/%zz`);

    assert.equal(status, 400);
    assert.equal(body.code, 'BAD_REQUEST');
  });

  test('answers unknown routes with 404 NOT_FOUND in the error shape', async () => {
    const { status, body } = await call(`${server.url}/api/nothing-here`);

    assert.equal(status, 404);
    assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'success']);
    assert.equal(body.code, 'NOT_FOUND');
  });
});

describe('debug routes', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ LARGE_PAYLOAD_BYTES: '100' });
  });

  after(async () => {
    await server.stop();
  });

  test('counts the caller and any user, and lists connections', async () => {
    const user = await registerUser(server.url);
    const other = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, user);
    await stream.waitFor((frame) => frame.event === 'connected');

    try {
      const own = await call(`${server.url}/api/events/debug/count`, { token: user.token });
      const ofOther = await call(`${server.url}/api/events/debug/count/${other.id}`, user);
      const list = await call(`${server.url}/api/events/debug/connections`, other);

      assert.deepEqual(own.body, {
        success: true,
        userId: user.id,
        connectionCount: 1,
        isConnected: true,
      });
      assert.equal(ofOther.body.connectionCount, 0);
      assert.equal(ofOther.body.isConnected, false);
      assert.equal(list.body.totalUsers, 1);
      assert.equal(list.body.totalConnections, 1);
      assert.deepEqual(list.body.users, [{ userId: user.id, connections: 1 }]);
      assert.equal(list.body.requestedBy, other.id);
    } finally {
      stream.close();
    }
  });

  test('refuses a malformed user id in the count route', async () => {
    const user = await registerUser(server.url);
    const { status, body } = await call(`${server.url}/api/events/debug/count/xyz`, user);

    assert.equal(status, 400);
    assert.equal(body.code, 'VALIDATION_FAILED');
  });

  test("sends a test event to the caller's own streams", async () => {
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, user);
    await stream.waitFor((frame) => frame.event === 'connected');

    try {
      const { body } = await call(`${server.url}/api/events/debug/test`, {
        token: user.token,
        body: { message: 'hello from the test' },
      });
      const [frame] = await stream.waitFor((received) => received.event === 'test:event');

      assert.equal(body.success, true);
      assert.equal(body.message, 'Test event sent');
      assert.equal(body.sentToConnections, 1);
      assert.equal(body.userId, user.id);
      assert.equal(body.hasActiveConnections, true);
      assert.equal(frame!.json.data.message, 'hello from the test');
      assert.equal(frame!.id, body.eventId);
    } finally {
      stream.close();
    }
  });

  test('reports payload stats for every frame written, counted per connection', async () => {
    const user = await registerUser(server.url);
    const tabs = [
      await openRawStream(`${server.url}/api/events/stream`, user),
      await openRawStream(`${server.url}/api/events/stream`, user),
    ];
    await Promise.all(tabs.map((tab) => tab.waitFor((frame) => frame.event === 'connected')));
    const before = (await call(`${server.url}/api/events/debug/payload-stats`, user)).body.stats;

    await emit(server.url, {
      userId: user.id,
      eventType: 'stats:probe',
      data: { big: 'y'.repeat(200) },
    });
    const frames = await Promise.all(
      tabs.map((tab) => tab.waitFor((frame) => frame.event === 'stats:probe')),
    );
    const { body } = await call(`${server.url}/api/events/debug/payload-stats`, user);
    for (const tab of tabs) tab.close();

    const size = Buffer.byteLength(frames[0]![0]!.data);
    const stats = body.stats;
    assert.equal(body.success, true);
    assert.deepEqual(stats.byEventType['stats:probe'], {
      count: 2,
      totalBytes: 2 * size,
      averageSize: size,
    });
    assert.equal(stats.totalBytes - before.totalBytes >= 2 * size, true);
    assert.equal(stats.largePayloads - before.largePayloads >= 2, true);
    assert.match(stats.totalKB, /^\d+\.\d{2}$/);
    assert.equal(stats.totalKB, (stats.totalBytes / 1024).toFixed(2));
    assert.match(stats.largePayloadRate, /^\d+\.\d{2}%$/);
    assert.ok(!Number.isNaN(Date.parse(stats.startTime)));
    assert.ok(Date.parse(stats.uptime) >= Date.parse(stats.startTime));
    assert.equal(typeof stats.uptimeSeconds, 'number');
    assert.equal(stats.averageSize, Math.round(stats.totalBytes / stats.totalEvents));
  });

  test('requires a user token', async () => {
    const { status, body } = await call(`${server.url}/api/events/debug/connections`);

    assert.equal(status, 401);
    assert.equal(body.code, 'TOKEN_MISSING');
  });
});

describe('debug routes when EVENTS_DEBUG is off', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ EVENTS_DEBUG: 'false' });
  });

  after(async () => {
    await server.stop();
  });

  test('answers 404 for every debug route', async () => {
    const user = await registerUser(server.url);
    const paths = ['connections', 'count', `count/${user.id}`, 'payload-stats'];

    for (const path of paths) {
      const { status, body } = await call(`${server.url}/api/events/debug/${path}`, user);
      assert.equal(status, 404, path);
      assert.equal(body.code, 'NOT_FOUND');
    }
    const test = await call(`${server.url}/api/events/debug/test`, { token: user.token, body: {} });
    assert.equal(test.status, 404);
  });
});
