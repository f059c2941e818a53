import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openRawStream } from './support/raw-stream.js';
import { ResumingClient } from './support/resuming-client.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  TEST_SERVICE_TOKEN,
  type TestServer,
} from './support/server.js';

describe('idempotent emits', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server.stop();
  });

  test('delivers an event once when it is emitted twice with the same eventId', async () => {
    const user = await registerUser(server.url);
    const client = new ResumingClient(server.url, user.token);
    await client.connect();
    const body = { userId: user.id, eventType: 'goals:updated', data: { reached: true } };

    const first = await emit(server.url, { ...body, eventId: 'goal-2026-12-04' });
    const second = await emit(server.url, { ...body, eventId: 'goal-2026-12-04' });
    const [marker] = [(await emit(server.url, { ...body, data: { marker: true } })).body];
    const events = await client.waitForEvents(2);
    client.drop();

    assert.equal(first.body.duplicate, false);
    assert.equal(second.status, 200);
    assert.equal(second.body.duplicate, true);
    assert.equal(second.body.eventId, first.body.eventId);
    assert.equal(second.body.connectionsNotified, 0);
    assert.deepEqual(
      events.map((frame) => frame.id),
      [first.body.eventId, marker.eventId],
    );
  });

  test('takes the key from an Idempotency-Key header as well', async () => {
    const user = await registerUser(server.url);
    const send = () =>
      call(`${server.url}/api/events/emit`, {
        token: TEST_SERVICE_TOKEN,
        headers: { 'idempotency-key': 'sync-run-17' },
        body: { userId: user.id, eventType: 'googlefit:synced', data: {} },
      });

    const first = await send();
    const second = await send();

    assert.equal(first.body.duplicate, false);
    assert.equal(second.body.duplicate, true);
    assert.equal(second.body.eventId, first.body.eventId);
  });

  test('keeps keys apart per user, and refuses a malformed key', async () => {
    const one = await registerUser(server.url);
    const two = await registerUser(server.url);
    const data = { eventType: 'x', data: {}, eventId: 'shared-key' };

    const forOne = await emit(server.url, { userId: one.id, ...data });
    const forTwo = await emit(server.url, { userId: two.id, ...data });
    const malformed = await emit(server.url, { userId: one.id, ...data, eventId: 'has space' });

    assert.equal(forOne.body.duplicate, false);
    assert.equal(forTwo.body.duplicate, false);
    assert.equal(malformed.status, 400);
    assert.match(malformed.body.message, /eventId/);
  });

  test('delivers once even when the same key is emitted concurrently', async () => {
    const user = await registerUser(server.url);
    const body = { userId: user.id, eventType: 'x', data: {}, eventId: 'race' };

    const answers = await Promise.all(Array.from({ length: 10 }, () => emit(server.url, body)));

    assert.equal(answers.filter((answer) => !answer.body.duplicate).length, 1);
    assert.equal(new Set(answers.map((answer) => answer.body.eventId)).size, 1);
  });
});

describe('filtered streams', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ HEARTBEAT_MS: '50' });
  });

  after(async () => {
    await server.stop();
  });

  const types = ['metrics:updated', 'goals:updated', 'analytics:update', 'analytics:batch_update'];

  test('receives only the listed types and prefixes, plus control events', async () => {
    const user = await registerUser(server.url);
    const stream = await openRawStream(
      `${server.url}/api/events/stream?events=metrics:updated,analytics:*`,
      user,
    );
    await stream.waitFor((frame) => frame.event === 'connected');

    for (const eventType of types) await emit(server.url, { userId: user.id, eventType, data: {} });
    await stream.waitFor((frame) => frame.event === 'analytics:batch_update');
    await stream.waitFor((frame) => frame.event === 'heartbeat');
    stream.close();

    const received = stream.frames.map((frame) => frame.event).filter((e) => e !== 'heartbeat');
    assert.deepEqual(received, [
      'connected',
      'metrics:updated',
      'analytics:update',
      'analytics:batch_update',
    ]);
  });

  test('applies the filter to the replay as well', async () => {
    const user = await registerUser(server.url);
    const first = await emit(server.url, { userId: user.id, eventType: 'x', data: {} });
    for (const eventType of types) await emit(server.url, { userId: user.id, eventType, data: {} });

    const client = new ResumingClient(server.url, user.token, '?events=goals:updated');
    client.lastEventId = first.body.eventId;
    await client.connect();
    const events = await client.waitForEvents(1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    client.drop();

    assert.deepEqual(
      client.events.map((frame) => frame.event),
      ['goals:updated'],
    );
    assert.equal(client.connects[0]!.json.replayed, 1);
    assert.equal(events.length, 1);
  });

  test('refuses a malformed filter', async () => {
    const user = await registerUser(server.url);
    const { status, body } = await call(`${server.url}/api/events/stream?events=bad type`, user);

    assert.equal(status, 400);
    assert.equal(body.code, 'VALIDATION_FAILED');
    assert.match(body.message, /events/);
  });
});
