import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { EventSource } from 'eventsource';
import { SignJWT } from 'jose';
import { createPulseClient, type PulseClient } from '../src/client/index.js';
import { ClientRecorder } from './support/client-events.js';
import {
  call,
  emit,
  registerUser,
  startTestServer,
  TEST_JWT_SECRET,
  type TestServer,
} from './support/server.js';

const TIMEOUT = { timeout: 30_000 };

function clientFor(url: string, getToken: () => Promise<string>): PulseClient {
  return createPulseClient({ baseUrl: url, getToken, eventSource: EventSource });
}

async function emitMany(server: TestServer, userId: string, count: number, from = 0) {
  const ids: string[] = [];
  for (let index = from; index < from + count; index += 1) {
    const { body } = await emit(server.url, {
      userId,
      eventType: 'metrics:updated',
      data: { index },
    });
    ids.push(body.eventId);
  }

  return ids;
}

describe('client SDK in Node', () => {
  test('receives typed events through a stream ticket', TIMEOUT, async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const user = await registerUser(server.url);
    const client = clientFor(server.url, async () => user.token);
    t.after(() => client.close());
    const batches: number[] = [];
    client.on('analytics:batch_update', (event) => batches.push(event.data.batchIndex));
    const recorder = new ClientRecorder(client, ['metrics:updated', 'custom:thing']);
    await recorder.untilConnected();

    const first = await emit(server.url, {
      userId: user.id,
      eventType: 'metrics:updated',
      data: { steps: 8421 },
    });
    await emit(server.url, { userId: user.id, eventType: 'custom:thing', data: { ok: true } });
    const analytics = { analytics: [1], count: 1, batchIndex: 1, totalBatches: 1 };
    const last = await emit(server.url, {
      userId: user.id,
      eventType: 'analytics:batch_update',
      data: analytics,
    });
    await recorder.untilEvents(2);
    await recorder.until(() => batches.length === 1, 'the analytics batch');

    assert.deepEqual(recorder.events[0]!.data, { steps: 8421 });
    assert.equal(recorder.events[0]!.id, first.body.eventId);
    assert.equal(recorder.events[1]!.type, 'custom:thing');
    assert.equal(client.lastEventId, last.body.eventId, 'the resume position');
    assert.ok(!server.logLines.some((line) => line.includes(user.token)), 'no JWT in a URL');
    assert.deepEqual(recorder.states, ['CONNECTING', 'CONNECTED']);
  });

  test('delivers events emitted while the server was down exactly once', TIMEOUT, async (t) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'pulse-client-'));
    t.after(() => rm(dataDir, { recursive: true, force: true }));
    const env = { HISTORY_STORE: 'database', SHUTDOWN_TIMEOUT_MS: '400' };
    const first = await startTestServer(env, { dataDir });
    const port = new URL(first.url).port;
    const user = await registerUser(first.url);
    const client = clientFor(first.url, async () => user.token);
    t.after(() => client.close());
    const recorder = new ClientRecorder(client, ['metrics:updated']);
    await recorder.untilConnected();
    const before = await emitMany(first, user.id, 2);
    await recorder.untilEvents(2);

    await first.stop();
    const second = await startTestServer({ ...env, PORT: port }, { dataDir });
    t.after(() => second.stop());
    const during = await emitMany(second, user.id, 3, 2);
    await recorder.until(() => recorder.states.at(-1) === 'CONNECTED', 'the reconnect');
    const after = await emitMany(second, user.id, 2, 5);
    await recorder.untilEvents(7);
    await new Promise((resolve) => setTimeout(resolve, 200));

    assert.deepEqual(recorder.ids, [...before, ...during, ...after]);
    assert.deepEqual(
      recorder.events.map((event) => event.data.index),
      [0, 1, 2, 3, 4, 5, 6],
    );
    assert.ok(recorder.states.includes('RECONNECTING'));
  });

  test('asks for a fresh token when the stream reports auth:expired', TIMEOUT, async (t) => {
    const server = await startTestServer({ TOKEN_EXPIRY_NOTICE_MS: '300' });
    t.after(() => server.stop());
    const user = await registerUser(server.url);
    const shortLived = await new SignJWT({ id: user.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(TEST_JWT_SECRET));
    const tokens = [shortLived, user.token];
    let asked = 0;
    const client = clientFor(server.url, async () => tokens[Math.min(asked++, 1)]!);
    t.after(() => client.close());
    const recorder = new ClientRecorder(client, ['metrics:updated', 'auth:expired']);
    await recorder.untilConnected();

    await recorder.until(() => recorder.events.length === 1, 'auth:expired', 5000);
    await recorder.until(() => recorder.states.at(-1) === 'CONNECTED', 'the reconnect');
    const { body } = await emit(server.url, {
      userId: user.id,
      eventType: 'metrics:updated',
      data: {},
    });
    await recorder.untilEvents(2);

    assert.equal(asked, 2, 'getToken was called again');
    assert.equal(recorder.events[0]!.type, 'auth:expired');
    assert.equal(recorder.events[1]!.id, body.eventId);
    const ticket = await call(`${server.url}/api/events/ticket`, { token: shortLived, body: {} });
    assert.equal(ticket.body.code, 'TOKEN_EXPIRED', 'the first token really expired');
  });

  test('hands a sync:required to the app when its resume id is unknown', TIMEOUT, async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const user = await registerUser(server.url);
    const client = createPulseClient({
      baseUrl: server.url,
      getToken: async () => user.token,
      eventSource: EventSource,
      lastEventId: '99999999999999999999',
    });
    t.after(() => client.close());
    const recorder = new ClientRecorder(client, ['sync:required']);

    await recorder.untilEvents(1);

    assert.equal(recorder.events[0]!.data.reason, 'unknown_id');
    assert.equal(client.lastEventId, recorder.events[0]!.id, 'resumes from the new position');
  });

  test('puts the JWT in the URL only when tickets are turned off', TIMEOUT, async (t) => {
    const server = await startTestServer();
    t.after(() => server.stop());
    const user = await registerUser(server.url);
    const urls: string[] = [];
    class RecordingEventSource extends EventSource {
      constructor(url: string | URL) {
        urls.push(String(url));
        super(url);
      }
    }
    const client = createPulseClient({
      baseUrl: server.url,
      getToken: async () => user.token,
      eventSource: RecordingEventSource,
      useTickets: false,
      filter: ['metrics:*'],
    });
    t.after(() => client.close());
    const recorder = new ClientRecorder(client, ['metrics:updated', 'goals:updated']);
    await recorder.untilConnected();

    await emit(server.url, { userId: user.id, eventType: 'goals:updated', data: {} });
    await emit(server.url, { userId: user.id, eventType: 'metrics:updated', data: {} });
    await recorder.untilEvents(1);

    const opened = new URL(urls[0]!);
    assert.equal(opened.searchParams.get('token'), user.token);
    assert.equal(opened.searchParams.get('events'), 'metrics:*');
    assert.equal(recorder.events[0]!.type, 'metrics:updated', 'the filter applies');
  });
});
