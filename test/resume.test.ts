import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { openRawStream } from './support/raw-stream.js';
import { ResumingClient } from './support/resuming-client.js';
import { emit, registerUser, startTestServer, waitFor, type TestServer } from './support/server.js';

async function emitMany(url: string, userId: string, count: number, type = 'metrics:updated') {
  const ids: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const { body } = await emit(url, { userId, eventType: type, data: { index } });
    ids.push(body.eventId);
  }

  return ids;
}

describe('resuming a stream', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ EMIT_RATE_LIMIT_PER_USER: '0' });
  });

  after(async () => {
    await server.stop();
  });

  test('replays the events emitted while the client was away, then goes live', async () => {
    const user = await registerUser(server.url);
    const client = new ResumingClient(server.url, user.token);
    await client.connect();
    const [first] = await emitMany(server.url, user.id, 1);
    await client.waitForEvents(1);
    client.drop();

    const gap = await emitMany(server.url, user.id, 3);
    await client.connect();
    const [live] = await emitMany(server.url, user.id, 1);
    const events = await client.waitForEvents(5);

    assert.deepEqual(
      events.map((frame) => frame.id),
      [first, ...gap, live],
    );
    const greeting = client.connects[1]!.json;
    assert.equal(greeting.resumed, true);
    assert.equal(greeting.replayed, 3);
    assert.equal(greeting.lastEventId, first);
  });

  test('resumes from ?lastEventId= for a page that opens a new EventSource', async () => {
    const user = await registerUser(server.url);
    const [first, ...rest] = await emitMany(server.url, user.id, 3);

    const stream = await openRawStream(
      `${server.url}/api/events/stream?lastEventId=${first}`,
      user,
    );
    const frames = await stream.waitFor((frame) => frame.event === 'metrics:updated', 2);
    stream.close();

    assert.deepEqual(
      frames.map((frame) => frame.id),
      rest,
    );
  });

  test('gives an offline user everything emitted meanwhile', async () => {
    const user = await registerUser(server.url);
    const client = new ResumingClient(server.url, user.token);
    await client.connect();
    await emitMany(server.url, user.id, 1);
    await client.waitForEvents(1);
    client.drop();
    await waitFor(
      () => server.pulse.context.hub.countFor(user.id),
      (count) => count === 0,
    );

    const answers = [];
    for (let index = 0; index < 4; index += 1) {
      answers.push(
        (await emit(server.url, { userId: user.id, eventType: 'goals:updated', data: { index } }))
          .body,
      );
    }
    await client.connect();
    const events = await client.waitForEvents(5);
    client.drop();

    assert.ok(answers.every((answer) => answer.connectionsNotified === 0));
    assert.deepEqual(
      events.slice(1).map((frame) => frame.json.data.index),
      [0, 1, 2, 3],
    );
  });

  test('loses and doubles nothing when it reconnects while events keep flowing', async () => {
    const user = await registerUser(server.url);
    const client = new ResumingClient(server.url, user.token);
    await client.connect();

    const total = 300;
    const emitting = emitMany(server.url, user.id, total);
    for (let round = 0; round < 6; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 40));
      client.drop();
      await client.connect();
    }
    const sent = await emitting;
    const events = await client.waitForEvents(total);
    client.drop();

    assert.deepEqual(
      events.map((frame) => frame.id),
      sent,
    );
  });

  test('asks for a sync when the last id is unknown or not ours', async () => {
    const user = await registerUser(server.url);
    await emitMany(server.url, user.id, 1);

    for (const lastEventId of ['9999999999999999', 'not-an-id']) {
      const stream = await openRawStream(`${server.url}/api/events/stream`, {
        token: user.token,
        headers: { 'last-event-id': lastEventId },
      });
      const [sync] = await stream.waitFor((frame) => frame.event === 'sync:required');
      const connected = stream.ofType('connected')[0]!;
      stream.close();

      assert.equal(sync!.json.data.reason, 'unknown_id');
      assert.equal(sync!.json.data.lastEventId, lastEventId);
      assert.match(sync!.id!, /^\d+$/);
      assert.equal(connected.json.resumed, false);
      assert.equal(connected.json.syncRequired, true);
    }
  });

  test('refuses an over-long Last-Event-ID', async () => {
    const user = await registerUser(server.url);
    const stream = await openRawStream(`${server.url}/api/events/stream`, {
      token: user.token,
      headers: { 'last-event-id': '1'.repeat(65) },
    });
    stream.close();

    assert.equal(stream.status, 400);
  });
});

describe('resuming beyond the history', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ HISTORY_SIZE: '3' });
  });

  after(async () => {
    await server.stop();
  });

  test('sends sync:required for an id older than history, then goes live', async () => {
    const user = await registerUser(server.url);
    const [oldest] = await emitMany(server.url, user.id, 5);

    const client = new ResumingClient(server.url, user.token);
    client.lastEventId = oldest;
    await client.connect();
    const stream = client.connects[0]!;
    const [live] = await emitMany(server.url, user.id, 1);
    const events = await client.waitForEvents(1);
    client.drop();

    assert.equal(stream.json.syncRequired, true);
    assert.deepEqual(
      events.map((frame) => frame.id),
      [live],
    );
  });

  test('after a sync, the next reconnect resumes normally', async () => {
    const user = await registerUser(server.url);
    const [oldest] = await emitMany(server.url, user.id, 5);
    const client = new ResumingClient(server.url, user.token);
    client.lastEventId = oldest;
    await client.connect();
    client.drop();

    const gap = await emitMany(server.url, user.id, 2);
    await client.connect();
    const events = await client.waitForEvents(2);
    client.drop();

    assert.equal(client.connects[1]!.json.resumed, true);
    assert.deepEqual(
      events.map((frame) => frame.id),
      gap,
    );
  });
});
