import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';

import pg from 'pg';

import {
  decideResume,
  type HistoryEvent,
  type HistoryLimits,
  type HistoryRead,
  type HistoryStore,
} from '../src/core/history.js';
import { MemoryHistory } from '../src/core/memory-history.js';
import { openHistoryStore } from '../src/store/open-history-store.js';

const PG_URL = process.env.PULSE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const ROOMY: HistoryLimits = { size: 100, ttlMs: HOUR_MS };

/** Somewhere history lives for one test: opens stores on it, and removes it afterwards. */
interface HistoryBackend {
  open(limits: HistoryLimits): Promise<HistoryStore>;
  remove(): Promise<void>;
}

// Ids as the server makes them: microseconds since the epoch, strictly increasing.
let lastId = 0;

function eventAt(userId: string, createdAt: number, idempotencyKey?: string): HistoryEvent {
  lastId = Math.max(lastId + 1, createdAt * 1000);
  const type = 'metrics:updated';
  const json = JSON.stringify({ type, timestamp: createdAt, data: { steps: lastId % 997 } });
  const event = { id: String(lastId), userId, type, json, createdAt };

  return idempotencyKey === undefined ? event : { ...event, idempotencyKey };
}

async function appendAll(store: HistoryStore, events: HistoryEvent[]): Promise<void> {
  for (const event of events) await store.append(event);
}

// The same behaviour, case for case, is required of every HistoryStore implementation.
// `persisted`: what a store holds outlives it, so a store reopened on the same data sees it.
function describeHistoryStore(
  name: string,
  createBackend: () => Promise<HistoryBackend>,
  { persisted }: { persisted: boolean },
): void {
  describe(name, () => {
    let backend: HistoryBackend | undefined;
    let openStores: HistoryStore[] = [];

    async function openStore(limits: HistoryLimits): Promise<HistoryStore> {
      assert.ok(backend, 'the test backend was not created');
      const opened = await backend.open(limits);
      openStores.push(opened);

      return opened;
    }

    // Persisted stores only: closes the store and opens another on the same data.
    async function reopen(store: HistoryStore, limits: HistoryLimits): Promise<HistoryStore> {
      await store.close();

      return openStore(limits);
    }

    beforeEach(async () => {
      backend = await createBackend();
    });

    afterEach(async () => {
      try {
        await Promise.all(openStores.map((opened) => opened.close()));
      } finally {
        openStores = [];
        await backend?.remove();
        backend = undefined;
      }
    });

    test('returns the events after an id, in order, and only those of that user', async () => {
      const store = await openStore(ROOMY);
      const now = Date.now();
      const [a1, b1, a2, a3] = [
        eventAt('ada', now),
        eventAt('bob', now),
        eventAt('ada', now),
        eventAt('ada', now + 1),
      ];
      await appendAll(store, [a1!, b1!, a2!, a3!]);

      assert.deepEqual(await store.read('ada', 0), { floor: 0, events: [a1, a2, a3] });
      assert.deepEqual(await store.read('ada', Number(a1!.id)), { floor: 0, events: [a2, a3] });
      assert.deepEqual(await store.read('ada', Number(a3!.id)), { floor: 0, events: [] });
      assert.deepEqual(await store.read('bob', 0), { floor: 0, events: [b1] });
      assert.deepEqual(await store.read('cleo', 0), { floor: 0, events: [] });
    });

    test('keeps `size` events a user and raises their floor to the last one trimmed', async () => {
      const store = await openStore({ size: 3, ttlMs: HOUR_MS });
      const now = Date.now();
      const ada = [1, 2, 3, 4, 5].map((offset) => eventAt('ada', now + offset));
      const bob = [eventAt('bob', now + 6), eventAt('bob', now + 7)];
      await appendAll(store, [...ada, ...bob]);

      const adaRead = await store.read('ada', 0);
      assert.equal(adaRead.floor, Number(ada[1]!.id));
      assert.deepEqual(adaRead.events, ada.slice(2));
      assert.deepEqual(await store.read('bob', 0), { floor: 0, events: bob });
    });

    test('drops events past the ttl and raises the global floor to the last dropped', async () => {
      const store = await openStore({ size: 10, ttlMs: MINUTE_MS });
      const start = Date.now();
      const ada1 = eventAt('ada', start);
      const bob1 = eventAt('bob', start + 10_000);
      const ada2 = eventAt('ada', start + 30_000);
      await appendAll(store, [ada1, bob1, ada2]);

      const before = await store.read('ada', 0, start + 30_000);
      assert.deepEqual(before, { floor: 0, events: [ada1, ada2] });

      // Twenty seconds past the ttl of the first event: ada1 and bob1 are gone.
      const later = start + MINUTE_MS + 20_000;
      assert.deepEqual(await store.read('ada', 0, later), {
        floor: Number(bob1.id),
        events: [ada2],
      });
      assert.deepEqual(await store.read('bob', 0, later), { floor: Number(bob1.id), events: [] });
      assert.deepEqual(await store.read('cleo', 0, later), { floor: Number(bob1.id), events: [] });
    });

    test('finds an idempotency key while its event is held, not once it is trimmed', async () => {
      const store = await openStore({ size: 2, ttlMs: HOUR_MS });
      const now = Date.now();
      const keyed = eventAt('ada', now, 'key-1');
      await store.append(keyed);

      assert.equal(await store.findByIdempotencyKey('ada', 'key-1', now), keyed.id);
      assert.equal(await store.findByIdempotencyKey('bob', 'key-1', now), undefined);
      assert.equal(await store.findByIdempotencyKey('ada', 'key-2', now), undefined);

      await appendAll(store, [eventAt('ada', now + 1), eventAt('ada', now + 2)]);
      assert.equal(await store.findByIdempotencyKey('ada', 'key-1', now + 2), undefined);

      const again = eventAt('ada', now + 3, 'key-1');
      await store.append(again);
      assert.equal(await store.findByIdempotencyKey('ada', 'key-1', now + 3), again.id);
    });

    test('finds an idempotency key until its event expires, then takes it again', async () => {
      const store = await openStore({ size: 10, ttlMs: MINUTE_MS });
      const start = Date.now();
      const keyed = eventAt('ada', start + 1000, 'key-1');
      await appendAll(store, [keyed, eventAt('bob', start + 60_500)]);
      assert.equal(await store.findByIdempotencyKey('ada', 'key-1', start + 60_500), keyed.id);

      // Expired by 200 ms: gone, even for a store that deletes expired events in batches.
      const expiredAt = start + 61_200;
      assert.equal(await store.findByIdempotencyKey('ada', 'key-1', expiredAt), undefined);

      const again = eventAt('ada', expiredAt, 'key-1');
      await store.append(again);
      assert.equal(await store.findByIdempotencyKey('ada', 'key-1', expiredAt), again.id);
    });

    test('counts events, users and payload bytes in its usage', async () => {
      const store = await openStore(ROOMY);
      const now = Date.now();
      const events = [
        eventAt('ada', now),
        eventAt('bob', now),
        eventAt('ada', now + 1),
        eventAt('cleo', now + 2),
        eventAt('ada', now + 3),
      ];
      await appendAll(store, events);

      const usage = await store.usage();
      const payloadBytes = events.reduce((sum, event) => sum + event.json.length, 0);
      assert.equal(usage.events, 5);
      assert.equal(usage.users, 3);
      assert.ok(usage.bytes >= payloadBytes, `${usage.bytes} bytes for ${payloadBytes}`);
    });

    test('decides replay, too_old and unknown_id from what it read', async () => {
      const store = await openStore({ size: 2, ttlMs: HOUR_MS });
      const now = Date.now();
      const [first, second, third] = [1, 2, 3].map((offset) => eventAt('ada', now + offset));
      await appendAll(store, [first!, second!, third!]);
      const newest = Number(third!.id);

      async function decide(lastEventId: number) {
        return decideResume(lastEventId, newest, await store.read('ada', lastEventId));
      }

      assert.deepEqual(await decide(Number(first!.id)), {
        kind: 'replay',
        events: [second, third],
      });
      assert.deepEqual(await decide(newest), { kind: 'replay', events: [] });
      assert.deepEqual(await decide(Number(first!.id) - 1), {
        kind: 'sync-required',
        reason: 'too_old',
      });
      assert.deepEqual(await decide(newest + 1), {
        kind: 'sync-required',
        reason: 'unknown_id',
      });
    });

    test('closes twice without error', async () => {
      const store = await openStore(ROOMY);
      await store.close();
      await store.close();
    });

    // Only a store whose history outlives it can be closed and reopened on the same data.
    if (!persisted) return;

    test('reports the newest id stored, after a reopen and once all expired', async () => {
      const limits = { size: 10, ttlMs: MINUTE_MS };
      let store = await openStore(limits);
      assert.equal((await store.newestId()) ?? 0, 0, 'nothing stored yet');

      const start = Date.now();
      const events = [eventAt('ada', start), eventAt('bob', start + 1), eventAt('ada', start + 2)];
      await appendAll(store, events);
      store = await reopen(store, limits);
      assert.equal(await store.newestId(), Number(events[2]!.id));

      await store.read('ada', 0, start + 2 * MINUTE_MS);
      assert.deepEqual(await store.usage(), { events: 0, users: 0, bytes: 0 });
      store = await reopen(store, limits);
      assert.equal(await store.newestId(), Number(events[2]!.id));
    });

    test('keeps events and floors across a close and a reopen', async () => {
      const limits = { size: 2, ttlMs: MINUTE_MS };
      let store = await openStore(limits);
      const start = Date.now();
      // Bob's event expires when Ada's arrive; Ada's first one is trimmed by count.
      const bob = eventAt('bob', start - 2 * MINUTE_MS);
      const ada = [1, 2, 3].map((offset) => eventAt('ada', start + offset));
      await appendAll(store, [bob, ...ada]);

      store = await reopen(store, limits);

      assert.deepEqual(await store.read('ada', 0), {
        floor: Number(ada[0]!.id),
        events: ada.slice(1),
      });
      assert.deepEqual(await store.read('cleo', 0), { floor: Number(bob.id), events: [] });
    });
  });
}

function createMemoryBackend(): Promise<HistoryBackend> {
  return Promise.resolve({
    open: async (limits) => new MemoryHistory({ ...limits, maxBytes: 2 ** 40 }, 0),
    remove: async () => undefined,
  });
}

async function createSqliteBackend(): Promise<HistoryBackend> {
  const directory = await mkdtemp(join(tmpdir(), 'pulse-history-store-'));
  // The folder under the temporary one is missing on purpose: the store must create it.
  const url = `sqlite:${join(directory, 'data', 'pulse.db')}`;

  return {
    open: (limits) => openHistoryStore(url, limits, { coverageStart: 0 }),
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}

// A fresh schema per test keeps each away from any other data in the database. An unreachable
// server makes this throw, which fails the test rather than skipping it.
async function createPostgresBackend(): Promise<HistoryBackend> {
  const schema = `pulse_test_${randomBytes(8).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });

  try {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (error) {
    await admin.end().catch(() => undefined);
    throw error;
  }

  return {
    open: (limits) => openHistoryStore(PG_URL, limits, { postgres: { schema }, coverageStart: 0 }),
    remove: async () => {
      try {
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

describeHistoryStore('memory history', createMemoryBackend, { persisted: false });
describeHistoryStore('SQLite history store', createSqliteBackend, { persisted: true });
describeHistoryStore('PostgreSQL history store', createPostgresBackend, { persisted: true });

describe('memory history byte budget', () => {
  test('drops the oldest events of any user first and raises the global floor', async () => {
    // Payloads this large dwarf the per-event overhead: two fit in the budget, three do not.
    const store = new MemoryHistory({ ...ROOMY, maxBytes: 50_000 }, 0);
    const now = Date.now();
    const big = (event: HistoryEvent) => ({ ...event, json: 'x'.repeat(10_000) });
    const [ada1, bob1, ada2, bob2] = [
      big(eventAt('ada', now)),
      big(eventAt('bob', now + 1)),
      big(eventAt('ada', now + 2)),
      big(eventAt('bob', now + 3)),
    ];

    try {
      await appendAll(store, [ada1!, bob1!, ada2!]);
      assert.deepEqual(await store.read('ada', 0), { floor: Number(ada1!.id), events: [ada2] });
      assert.deepEqual(await store.read('bob', 0), { floor: Number(ada1!.id), events: [bob1] });

      await store.append(bob2!);
      assert.deepEqual(await store.read('bob', 0), { floor: Number(bob1!.id), events: [bob2] });
      assert.equal((await store.usage()).events, 2);
    } finally {
      await store.close();
    }
  });
});

describe('decideResume', () => {
  const held = eventAt('ada', Date.now());
  const read: HistoryRead = { floor: 100, events: [held] };

  test('replays when the last id is at or above the floor and was issued', () => {
    assert.deepEqual(decideResume(100, 500, read), { kind: 'replay', events: [held] });
    assert.deepEqual(decideResume(500, 500, read), { kind: 'replay', events: [held] });
  });

  test('requires a sync as too_old when the last id is below the floor', () => {
    assert.deepEqual(decideResume(99, 500, read), { kind: 'sync-required', reason: 'too_old' });
  });

  test('requires a sync as unknown_id when the last id is newer than any issued', () => {
    assert.deepEqual(decideResume(501, 500, read), {
      kind: 'sync-required',
      reason: 'unknown_id',
    });
  });
});

describe('openHistoryStore', () => {
  test('opens an in-memory SQLite store whose history begins when it is made', async () => {
    const openedAt = Date.now() * 1000;
    const store = await openHistoryStore('sqlite::memory:', ROOMY);

    try {
      const event = eventAt('ada', Date.now());
      await store.append(event);
      const read = await store.read('ada', 0);
      assert.deepEqual(read.events, [event]);
      assert.ok(read.floor >= openedAt, 'an id from before the database existed is too old');
      assert.equal(decideResume(openedAt - 1, Number(event.id), read).kind, 'sync-required');
    } finally {
      await store.close();
    }
  });

  test('rejects an unsupported scheme without echoing the URL', async () => {
    await assert.rejects(
      openHistoryStore('mysql://pulse:secret@127.0.0.1/pulse', ROOMY),
      (error) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /Unsupported database URL \(scheme "mysql:"\)/);
        assert.doesNotMatch(error.message, /secret/);

        return true;
      },
    );
  });
});
