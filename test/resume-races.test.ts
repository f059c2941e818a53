import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import vm from 'node:vm';
import v8 from 'node:v8';
import { EventSource } from 'eventsource';
import { MemoryHistory } from '../src/core/memory-history.js';
import { openRawStream } from './support/raw-stream.js';
import { ResumingClient } from './support/resuming-client.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  waitFor,
  type TestServer,
} from './support/server.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('resume under races', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({
      EMIT_RATE_LIMIT_PER_USER: '0',
      MAX_EVENT_BYTES: '4096',
      MAX_BUFFERED_BYTES: '8192',
    });
  });

  after(async () => {
    await server.stop();
  });

  test("a browser's own reconnect resumes even when no event arrived before the drop", async () => {
    const user = await registerUser(server.url);
    const source = new EventSource(`${server.url}/api/events/stream?token=${user.token}`);
    const greetings: MessageEvent[] = [];
    const received: MessageEvent[] = [];
    source.addEventListener('connected', (event) => greetings.push(event));
    source.addEventListener('goals:updated', (event) => received.push(event));

    try {
      await waitFor(
        () => greetings.length,
        (count) => count === 1,
      );
      server.pulse.context.hub.closeUser(user.id, 'client_closed');
      const { body } = await emit(server.url, {
        userId: user.id,
        eventType: 'goals:updated',
        data: { reached: true },
      });
      await waitFor(
        () => received.length,
        (count) => count === 1,
        8000,
      );

      assert.equal(received[0]!.lastEventId, body.eventId);
      assert.equal(JSON.parse(greetings[1]!.data).resumed, true);
    } finally {
      source.close();
    }
  });

  test('gives a stream opened during an emit a position that skips nothing', async () => {
    const user = await registerUser(server.url);
    const history = server.pulse.context.history;
    const append = history.append.bind(history);
    history.append = async (event) => {
      await pause(200);
      return append(event);
    };

    try {
      const emitting = emit(server.url, { userId: user.id, eventType: 'x', data: { n: 1 } });
      await pause(50);
      const stream = await openRawStream(`${server.url}/api/events/stream`, user);
      const [connected] = await stream.waitFor((frame) => frame.event === 'connected');
      const first = (await emitting).body.eventId as string;
      stream.close();

      const position = Number(connected!.id);
      const gotFirst = stream.frames.some((f) => f.event === 'x' && f.id === first);
      // Either the event came before the stream's position, or after it and on the stream.
      assert.ok(
        (Number(first) <= position && !gotFirst) || (Number(first) > position && gotFirst),
        `event ${first}, position ${position}, received ${gotFirst}`,
      );
    } finally {
      history.append = append;
    }
  });

  test('replays more than fits in the buffer without stalling', async () => {
    const user = await registerUser(server.url);
    const sent: string[] = [];
    for (let index = 0; index < 150; index += 1) {
      const { body } = await emit(server.url, {
        userId: user.id,
        eventType: 'x',
        data: { index, filler: 'f'.repeat(400) },
      });
      sent.push(body.eventId);
    }

    const client = new ResumingClient(server.url, user.token);
    client.lastEventId = sent[0];
    await client.connect();
    const events = await client.waitForEvents(149, 10_000);
    client.drop();

    assert.deepEqual(
      events.map((frame) => frame.id),
      sent.slice(1),
    );
    assert.equal(client.connects[0]!.json.moreToReplay, true);
  });

  test('sends connected first, before heartbeats and expiry notices', async () => {
    const user = await registerUser(server.url);
    const [first] = [
      (await emit(server.url, { userId: user.id, eventType: 'x', data: {} })).body.eventId,
    ];

    const stream = await openRawStream(`${server.url}/api/events/stream`, {
      token: user.token,
      headers: { 'last-event-id': first },
    });
    await stream.waitFor((frame) => frame.event === 'connected');
    stream.close();

    assert.equal(stream.frames[0]!.event, 'connected');
  });

  test('ends streams opened while the account is being deleted', async () => {
    const user = await registerUser(server.url);
    const opening = Array.from({ length: 10 }, () =>
      openRawStream(`${server.url}/api/events/stream`, user),
    );
    await pause(1);
    await call(`${server.url}/api/auth/me`, { method: 'DELETE', token: user.token });
    const streams = await Promise.all(opening);

    const count = await waitFor(
      () => server.pulse.context.hub.countFor(user.id),
      (value) => value === 0,
    );
    for (const stream of streams) stream.close();
    assert.equal(count, 0);
  });

  test('ends a stream whose user is deleted between its lookup and its registration', async () => {
    const user = await registerUser(server.url);
    const store = server.pulse.context.store;
    const lookUp = store.findById.bind(store);
    // The stream's lookup finds the user, then waits until the account is gone.
    let release = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    store.findById = async (id) => {
      const found = await lookUp(id);
      if (id === user.id && held === 0) {
        held += 1;
        await released;
      }
      return found;
    };

    try {
      const opening = openRawStream(`${server.url}/api/events/stream`, user);
      await waitFor(
        () => held,
        (count) => count === 1,
      );
      const deleted = await call(`${server.url}/api/auth/me`, {
        method: 'DELETE',
        token: user.token,
      });
      release();
      const stream = await opening;
      await stream.waitForEnd();

      assert.equal(deleted.status, 200);
      assert.equal(deleted.body.streamsClosed, 0, 'the stream was not registered yet');
      assert.equal(stream.status, 200, 'it was admitted before the deletion');
      assert.equal(server.pulse.context.hub.countFor(user.id), 0);
    } finally {
      store.findById = lookUp;
    }
  });

  test('refuses ?events= given twice', async () => {
    const user = await registerUser(server.url);
    const { status, body } = await call(`${server.url}/api/events/stream?events=a&events=b`, user);

    assert.equal(status, 400);
    assert.equal(body.code, 'VALIDATION_FAILED');
  });
});

describe('in-memory history', () => {
  test('releases the payloads of trimmed events, not only their count', () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const history = new MemoryHistory({ size: 10, ttlMs: 600_000, maxBytes: 1024 * 1024 }, 0);
    // One old event for another user keeps the head of the global queue from moving.
    void history.append({ id: '1', userId: 'a', type: 'x', json: '{}', createdAt: Date.now() });

    gc();
    const before = process.memoryUsage().heapUsed;
    for (let index = 0; index < 3000; index += 1) {
      const json = JSON.stringify({ index, filler: 'p'.repeat(20_000) });
      const event = { id: String(index + 2), userId: 'b', type: 'x', json, createdAt: Date.now() };
      void history.append(event);
    }
    gc();
    const grown = process.memoryUsage().heapUsed - before;

    // 3,000 payloads of 20 KB are 60 MB; only ten of them may stay.
    assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${Math.round(grown / 1048576)} MiB`);
  });
});
