import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import pg from 'pg';

import type { DayChange, DayPatch } from '../src/health/day-changes.js';
import { goalsUpdated, metricsDeleted, metricsUpdated } from '../src/health/health-events.js';
import type { MetricPatch } from '../src/health/metric-fields.js';
import type { HealthStores } from '../src/store/health-store.js';
import { openHealthStores } from '../src/store/open-health-stores.js';
import { openUserStore } from '../src/store/open-user-store.js';
import type { UserStore } from '../src/store/user-store.js';

const PG_URL = process.env.PULSE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** One isolated database with both stores open on it. */
interface TestDatabase {
  users: UserStore;
  health: HealthStores;
  /** Opens a second set of health stores on the same database. */
  reopen(): Promise<HealthStores>;
  remove(): Promise<void>;
}

let emailCounter = 0;

// The same behaviour, case for case, is required of both databases.
function describeHealthStores(name: string, createDatabase: () => Promise<TestDatabase>): void {
  describe(name, () => {
    let database: TestDatabase;
    let health: HealthStores;

    before(async () => {
      database = await createDatabase();
      health = database.health;
    });

    after(async () => {
      await database?.remove();
    });

    async function newUserId(): Promise<string> {
      emailCounter += 1;
      const email = `health-${emailCounter}@example.com`;
      const user = await database.users.createUser({ email, name: '', passwordHash: 'x' });

      return user.id;
    }

    function write(userId: string, date: string, values: MetricPatch) {
      return health.metrics.writeDays(userId, {
        patches: [{ date, values }],
        events: (changes) => changes.map((change) => metricsUpdated(change, 'test')),
      });
    }

    test('creates a day with the given metrics and null for the others', async () => {
      const userId = await newUserId();

      const result = await write(userId, '2016-04-12', { steps: 13162, distance: 8.5 });
      const days = await health.metrics.readDays(userId, { from: '2016-04-01', to: '2016-04-30' });

      assert.equal(result.changes[0]!.created, true);
      assert.deepEqual(result.changes[0]!.changed, ['steps', 'distance']);
      assert.equal(days.length, 1);
      assert.deepEqual(days[0], {
        date: '2016-04-12',
        steps: 13162,
        distance: 8.5,
        calories: null,
        activeMinutes: null,
        sleepMinutes: null,
        weight: null,
        heartRateResting: null,
        heartRateAverage: null,
      });
    });

    test('keeps metrics a patch leaves out and clears those it sets to null', async () => {
      const userId = await newUserId();
      await write(userId, '2016-04-12', { steps: 100, calories: 2000, weight: 70.25 });

      const result = await write(userId, '2016-04-12', { steps: 200, calories: null });
      const [day] = await health.metrics.readDays(userId, { from: '2016-04-12', to: '2016-04-12' });

      assert.deepEqual(result.changes[0]!.changed, ['steps', 'calories']);
      assert.equal(day!.steps, 200);
      assert.equal(day!.calories, null);
      assert.equal(day!.weight, 70.25);
    });

    test('queues one event per changed day and none for a write that changes nothing', async () => {
      const userId = await newUserId();

      const first = await write(userId, '2016-04-13', { steps: 500 });
      const again = await write(userId, '2016-04-13', { steps: 500 });
      const pending = await health.outbox.pending({ userId, limit: 10 });

      assert.equal(first.queued.length, 1);
      assert.deepEqual(again.queued, []);
      assert.equal(again.changes[0]!.changed.length, 0);
      assert.equal(pending.length, 1);
      assert.equal(pending[0]!.seq, first.queued[0]);
      assert.equal(pending[0]!.type, 'metrics:updated');
      assert.equal(pending[0]!.data.steps, 500);
      assert.equal(pending[0]!.data.date, '2016-04-13');
    });

    test('writes nothing and queues nothing when the transaction fails', async () => {
      const userId = await newUserId();

      await assert.rejects(
        health.metrics.writeDays(userId, {
          patches: [{ date: '2016-04-14', values: { steps: 1 } }],
          events: () => {
            throw new Error('fails after the day was written');
          },
        }),
        /fails after the day was written/,
      );

      assert.deepEqual(
        await health.metrics.readDays(userId, { from: '2016-01-01', to: '2017-01-01' }),
        [],
      );
      assert.deepEqual(await health.outbox.pending({ userId, limit: 10 }), []);
    });

    test('announces a reached goal once per day, however the day changes later', async () => {
      const userId = await newUserId();
      await health.goals.write(userId, { dailySteps: 10_000, sleepMinutes: 420 }, goalsUpdated);

      const reached = async (values: MetricPatch) =>
        (await write(userId, '2016-04-15', values)).changes[0]!.newlyReached;

      assert.deepEqual(await reached({ steps: 9000 }), []);
      assert.deepEqual(await reached({ steps: 10_000, sleepMinutes: 300 }), ['dailySteps']);
      assert.deepEqual(await reached({ steps: 12_000 }), []);
      assert.deepEqual(await reached({ steps: 3000 }), []);
      assert.deepEqual(await reached({ steps: 15_000, sleepMinutes: 480 }), ['sleepMinutes']);
      const other = await write(userId, '2016-04-16', { steps: 10_001 });
      assert.deepEqual(other.changes[0]!.newlyReached, ['dailySteps']);
    });

    test('reaches a weight goal within half a kilogram on either side', async () => {
      const userId = await newUserId();
      await health.goals.write(userId, { weight: 70 }, goalsUpdated);

      const low = await write(userId, '2016-04-17', { weight: 69.5 });
      const high = await write(userId, '2016-04-18', { weight: 70.6 });

      assert.deepEqual(low.changes[0]!.newlyReached, ['weight']);
      assert.deepEqual(high.changes[0]!.newlyReached, []);
    });

    test('writes several days in one transaction, and reads ranges and latest days', async () => {
      const userId = await newUserId();
      const patches: DayPatch[] = ['2016-04-20', '2016-04-21', '2016-04-22', '2016-04-25'].map(
        (date, index) => ({ date, values: { steps: 1000 * (index + 1) } }),
      );
      let seen: readonly DayChange[] = [];

      const result = await health.metrics.writeDays(userId, {
        patches,
        events: (changes) => {
          seen = changes;
          return [{ type: 'googlefit:synced', data: { days: changes.length } }];
        },
      });
      const range = await health.metrics.readDays(userId, { from: '2016-04-21', to: '2016-04-24' });
      const latest = await health.metrics.readLatestDays(userId, '2016-04-24', 2);

      assert.equal(seen.length, 4);
      assert.equal(result.queued.length, 1);
      assert.deepEqual(
        range.map((day) => day.date),
        ['2016-04-21', '2016-04-22'],
      );
      assert.deepEqual(
        latest.map((day) => day.steps),
        [2000, 3000],
      );
      assert.ok((await health.metrics.usersWithDays()).includes(userId));
    });

    test('loses no field when many writes of one new day run at once', async () => {
      const userId = await newUserId();
      const fields = ['steps', 'calories', 'activeMinutes', 'sleepMinutes'] as const;

      const results = await Promise.all(
        fields.map((field, index) => write(userId, '2016-04-30', { [field]: 100 + index })),
      );
      const [day] = await health.metrics.readDays(userId, { from: '2016-04-30', to: '2016-04-30' });
      const pending = await health.outbox.pending({ userId, limit: 10 });

      assert.equal(results.filter((result) => result.changes[0]!.created).length, 1);
      assert.deepEqual(
        fields.map((field) => day![field]),
        [100, 101, 102, 103],
      );
      assert.equal(pending.length, 4);
      const seqs = pending.map((entry) => entry.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
      );
    });

    test('deletes a day with its event, and queues nothing for a missing day', async () => {
      const userId = await newUserId();
      await write(userId, '2016-05-01', { steps: 1 });
      const [created] = await health.outbox.pending({ userId, limit: 10 });
      await health.outbox.remove([created!.seq]);

      const deleted = await health.metrics.deleteDay(
        userId,
        '2016-05-01',
        metricsDeleted('2016-05-01'),
      );
      const missing = await health.metrics.deleteDay(
        userId,
        '2016-05-02',
        metricsDeleted('2016-05-02'),
      );
      const pending = await health.outbox.pending({ userId, limit: 10 });

      assert.equal(deleted.deleted, true);
      assert.equal(missing.deleted, false);
      assert.deepEqual(missing.queued, []);
      assert.deepEqual(
        pending.map((entry) => [entry.type, entry.data]),
        [['metrics:deleted', { date: '2016-05-01' }]],
      );
      assert.deepEqual(
        await health.metrics.readDays(userId, { from: '2016-05-01', to: '2016-05-01' }),
        [],
      );
    });

    test('reads empty goals, changes some, and queues goals:updated only on a change', async () => {
      const userId = await newUserId();

      const empty = await health.goals.read(userId);
      const first = await health.goals.write(
        userId,
        { dailySteps: 8000, weight: 72.5 },
        goalsUpdated,
      );
      const same = await health.goals.write(userId, { dailySteps: 8000 }, goalsUpdated);
      const cleared = await health.goals.write(userId, { weight: null }, goalsUpdated);
      const pending = await health.outbox.pending({ userId, limit: 10 });

      assert.deepEqual(empty, {
        dailySteps: null,
        sleepMinutes: null,
        calories: null,
        weight: null,
      });
      assert.deepEqual(first.changed, ['dailySteps', 'weight']);
      assert.deepEqual(same.queued, []);
      assert.deepEqual(cleared.goals, {
        dailySteps: 8000,
        sleepMinutes: null,
        calories: null,
        weight: null,
      });
      assert.deepEqual(await health.goals.read(userId), cleared.goals);
      assert.deepEqual(
        pending.map((entry) => entry.data.changed),
        [['dailySteps', 'weight'], ['weight']],
      );
    });

    test('reads pending events by age and removes them once emitted', async () => {
      const userId = await newUserId();
      await write(userId, '2016-05-03', { steps: 1 });
      await write(userId, '2016-05-04', { steps: 2 });

      const older = await health.outbox.pending({ userId, limit: 10, queuedBefore: 0 });
      const all = await health.outbox.pending({ userId, limit: 1 });
      await health.outbox.remove(all.map((entry) => entry.seq));
      const rest = await health.outbox.pending({ userId, limit: 10 });

      assert.deepEqual(older, []);
      assert.equal(all.length, 1);
      assert.deepEqual(
        rest.map((entry) => entry.data.date),
        ['2016-05-04'],
      );
    });

    test('remembers the analytics digests sent, per metric, across a reopen', async () => {
      const userId = await newUserId();
      await health.ledger.record(
        userId,
        new Map([
          ['steps', 'a'],
          ['calories', 'b'],
        ]),
      );
      await health.ledger.record(userId, new Map([['steps', 'c']]));

      const reopened = await database.reopen();
      try {
        assert.deepEqual(
          await reopened.ledger.sent(userId),
          new Map([
            ['steps', 'c'],
            ['calories', 'b'],
          ]),
        );
      } finally {
        await reopened.close();
      }
    });

    test("deletes a user's days, goals, outbox and ledger with the user", async () => {
      const userId = await newUserId();
      await write(userId, '2016-05-05', { steps: 1 });
      await health.goals.write(userId, { calories: 2000 }, goalsUpdated);
      await health.ledger.record(userId, new Map([['steps', 'a']]));

      await database.users.deleteUser(userId);

      assert.deepEqual(
        await health.metrics.readDays(userId, { from: '2016-01-01', to: '2017-01-01' }),
        [],
      );
      assert.equal((await health.goals.read(userId)).calories, null);
      assert.deepEqual(await health.outbox.pending({ userId, limit: 10 }), []);
      assert.equal((await health.ledger.sent(userId)).size, 0);
    });
  });
}

async function createSqliteDatabase(): Promise<TestDatabase> {
  const directory = await mkdtemp(join(tmpdir(), 'pulse-health-store-'));
  const url = `sqlite:${join(directory, 'pulse.db')}`;
  const users = await openUserStore(url);
  const health = await openHealthStores(url);

  return {
    users,
    health,
    reopen: () => openHealthStores(url),
    async remove() {
      await Promise.all([users.close(), health.close()]);
      await rm(directory, { recursive: true, force: true });
    },
  };
}

// A fresh schema per run keeps the suite away from any other data in the database. An
// unreachable server makes this throw, which fails the suite rather than skipping it.
async function createPostgresDatabase(): Promise<TestDatabase> {
  const schema = `pulse_test_${randomBytes(8).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  const options = { postgres: { schema } };
  const users = await openUserStore(PG_URL, options);
  const health = await openHealthStores(PG_URL, options);

  return {
    users,
    health,
    reopen: () => openHealthStores(PG_URL, options),
    async remove() {
      try {
        await Promise.all([users.close(), health.close()]);
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

describeHealthStores('SQLite health stores', createSqliteDatabase);
describeHealthStores('PostgreSQL health stores', createPostgresDatabase);
