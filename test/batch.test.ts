import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ResumingClient } from './support/resuming-client.js';
import {
  call,
  registerUser,
  startTestServer,
  TEST_SERVICE_TOKEN,
  type TestServer,
} from './support/server.js';

describe('bulk emit', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ EMIT_RATE_LIMIT_PER_USER: '0' });
  });

  after(async () => {
    await server.stop();
  });

  function batch(events: unknown[], token = TEST_SERVICE_TOKEN) {
    return call(`${server.url}/api/events/emit/batch`, { token, body: { events } });
  }

  test('delivers the good items and reports the bad one, in order', async () => {
    const ada = await registerUser(server.url);
    const bob = await registerUser(server.url);
    const adaClient = new ResumingClient(server.url, ada.token);
    const bobClient = new ResumingClient(server.url, bob.token);
    await adaClient.connect();
    await bobClient.connect();

    const { status, body } = await batch([
      { userId: ada.id, eventType: 'analytics:update', data: { n: 1 } },
      { userId: 'not-a-user-id', eventType: 'analytics:update', data: {} },
      { userId: bob.id, eventType: 'analytics:update', data: { n: 2 } },
      { userId: ada.id, eventType: 'heartbeat', data: {} },
      { userId: ada.id, eventType: 'analytics:update', data: { n: 3 } },
    ]);
    const adaEvents = await adaClient.waitForEvents(2);
    const bobEvents = await bobClient.waitForEvents(1);
    adaClient.drop();
    bobClient.drop();

    assert.equal(status, 200);
    assert.deepEqual(
      body.results.map((result: { status: string }) => result.status),
      ['delivered', 'rejected', 'delivered', 'rejected', 'delivered'],
    );
    assert.equal(body.results[1].code, 'VALIDATION_FAILED');
    assert.match(body.results[1].message, /userId/);
    assert.match(body.results[3].message, /eventType/);
    assert.equal(body.results[0].connectionsNotified, 1);
    assert.deepEqual(
      adaEvents.map((frame) => frame.json.data.n),
      [1, 3],
    );
    assert.equal(bobEvents[0]!.json.data.n, 2);
  });

  test('reports a repeated key as a duplicate', async () => {
    const user = await registerUser(server.url);
    const item = { userId: user.id, eventType: 'goals:updated', data: {}, eventId: 'goal-1' };

    const { body } = await batch([item, item]);

    assert.equal(body.results[0].status, 'delivered');
    assert.equal(body.results[1].status, 'duplicate');
    assert.equal(body.results[1].eventId, body.results[0].eventId);
  });

  test('refuses an empty batch, one over 500 items, and a missing service token', async () => {
    const user = await registerUser(server.url);
    const item = { userId: user.id, eventType: 'x', data: {} };

    const empty = await batch([]);
    const tooMany = await batch(Array.from({ length: 501 }, () => item));
    const noToken = await call(`${server.url}/api/events/emit/batch`, { body: { events: [item] } });

    assert.equal(empty.status, 400);
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.message, /events/);
    assert.equal(noToken.status, 403);
  });
});
