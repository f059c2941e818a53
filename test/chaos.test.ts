import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ResumingClient } from './support/resuming-client.js';
import { emit, registerUser, startTestServer, type TestServer } from './support/server.js';

const USERS = 10;
const CLIENTS_PER_USER = 5;
const EVENTS = 5000;
const DURATION_MS = 20_000;
const EMITTERS = 4;

let server: TestServer;

before(async () => {
  server = await startTestServer({
    LOG_LEVEL: 'warn',
    EMIT_RATE_LIMIT: '0',
    EMIT_RATE_LIMIT_PER_USER: '0',
    MAX_STREAMS_PER_USER: '0',
    HEARTBEAT_MS: '1000',
  });
});

after(async () => {
  await server.stop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('gives 50 clients dropping at random for 20 s every event once, in order', async (t) => {
  const users = await Promise.all(Array.from({ length: USERS }, () => registerUser(server.url)));
  const clients = users.flatMap((user) =>
    Array.from({ length: CLIENTS_PER_USER }, () => ({
      user,
      client: new ResumingClient(server.url, user.token),
    })),
  );
  await Promise.all(clients.map(({ client }) => client.connect()));

  const emitted = new Map<string, string[]>(users.map((user) => [user.id, []]));
  const startedAt = Date.now();
  let drops = 0;
  let running = true;

  // Each client stays connected for a random while, drops, waits, and resumes.
  const churn = clients.map(async ({ client }) => {
    while (running) {
      await pause(100 + Math.random() * 1200);
      if (!running) break;
      client.drop();
      drops += 1;
      await pause(Math.random() * 400);
      await client.connect();
    }
  });

  // Emitters pace themselves so the 5,000 events spread over the whole run.
  const perEmitter = EVENTS / EMITTERS;
  const emitters = Array.from({ length: EMITTERS }, async (_, emitter) => {
    for (let index = 0; index < perEmitter; index += 1) {
      const user = users[Math.floor(Math.random() * USERS)]!;
      const { status, body } = await emit(server.url, {
        userId: user.id,
        eventType: 'metrics:updated',
        data: { emitter, index },
      });
      assert.equal(status, 200);
      emitted.get(user.id)!.push(body.eventId);
      const due = startedAt + ((index + 1) / perEmitter) * (DURATION_MS - 500);
      await pause(Math.max(0, due - Date.now()));
    }
  });
  await Promise.all(emitters);
  running = false;
  await Promise.all(churn);

  // Every client, wherever the churn left it, must end with its user's events exactly once.
  let delivered = 0;
  for (const { user, client } of clients) {
    const expected = [...emitted.get(user.id)!].sort((a, b) => Number(a) - Number(b));
    const events = await client.waitForEvents(expected.length, 10_000);
    await pause(0);
    client.drop();

    const ids = events.map((frame) => frame.id);
    assert.equal(new Set(ids).size, ids.length, 'no duplicates');
    assert.deepEqual(ids, expected, 'every event, in order');
    delivered += ids.length;
  }

  const elapsed = Date.now() - startedAt;
  const summary =
    `chaos: ${EVENTS} events to ${USERS} users, ${clients.length} clients, ${drops} drops ` +
    `and resumes in ${(elapsed / 1000).toFixed(1)} s; ${delivered} deliveries checked, ` +
    `0 lost, 0 duplicated`;
  t.diagnostic(summary);
});
