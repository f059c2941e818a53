import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { call, emit, registerUser, startTestServer, type TestServer } from './support/server.js';

// The in-process history's own limits; with Redis, Redis's memory settings bound history.
describe('history usage', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ HISTORY_SIZE: '2', HISTORY_MAX_BYTES: '65536' });
  });

  after(async () => {
    await server.stop();
  });

  test('is reported with its limits and stays within them', async () => {
    const user = await registerUser(server.url);
    for (let index = 0; index < 5; index += 1) {
      await emit(server.url, { userId: user.id, eventType: 'x', data: { index } });
    }
    const big = { filler: 'z'.repeat(20_000) };
    const others = [await registerUser(server.url), await registerUser(server.url)];
    for (const other of others) {
      for (let index = 0; index < 2; index += 1) {
        await emit(server.url, { userId: other.id, eventType: 'x', data: big });
      }
    }

    const { body } = await call(`${server.url}/api/events/debug/history`, user);

    assert.equal(body.history.store, 'memory');
    assert.deepEqual(body.history.limits, { eventsPerUser: 2, ttlMs: 600_000, maxBytes: 65_536 });
    assert.ok(body.history.bytes <= 65_536, `holds ${body.history.bytes} bytes`);
    assert.ok(body.history.events <= 2 * 3);
    assert.ok(body.history.events > 0);
  });
});
