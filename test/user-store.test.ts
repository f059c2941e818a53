import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import pg from 'pg';

import { PulseError } from '../src/errors.js';
import { openUserStore } from '../src/store/open-user-store.js';
import type { NewUser, UserStore } from '../src/store/user-store.js';

const PG_URL = process.env.PULSE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** One isolated database: opens stores on it, and removes it when the suite is done. */
interface TestDatabase {
  open(): Promise<UserStore>;
  remove(): Promise<void>;
}

function newUser(email: string, name = 'Ada Lovelace'): NewUser {
  return { email, name, passwordHash: `hash-for-${name}` };
}

function isEmailTaken(error: unknown): boolean {
  return error instanceof PulseError && error.code === 'EMAIL_TAKEN';
}

// The same behaviour, case for case, is required of every UserStore implementation.
function describeUserStore(name: string, createDatabase: () => Promise<TestDatabase>): void {
  describe(name, () => {
    let database: TestDatabase | undefined;
    let store: UserStore;
    const openStores: UserStore[] = [];

    async function openStore(): Promise<UserStore> {
      assert.ok(database, 'the test database was not created');
      const opened = await database.open();
      openStores.push(opened);

      return opened;
    }

    before(async () => {
      database = await createDatabase();
      store = await openStore();
    });

    after(async () => {
      try {
        await Promise.all(openStores.map((opened) => opened.close()));
      } finally {
        await database?.remove();
      }
    });

    test('creates a user with a hex id, a normalised email and a creation time', async () => {
      const startedAt = Date.now();
      const user = await store.createUser(newUser('  Ada.Lovelace@Example.COM '));

      assert.match(user.id, /^[0-9a-f]{24}$/);
      assert.equal(user.email, 'ada.lovelace@example.com');
      assert.equal(user.name, 'Ada Lovelace');
      assert.equal(user.passwordHash, 'hash-for-Ada Lovelace');
      assert.ok(user.createdAt instanceof Date);
      assert.ok(user.createdAt.getTime() >= startedAt);
      assert.ok(user.createdAt.getTime() <= Date.now());
    });

    test('finds a user by id with every field as created', async () => {
      const user = await store.createUser(newUser('grace@example.com', 'Grace Hopper'));

      assert.deepEqual(await store.findById(user.id), user);
    });

    test('finds a user by email whatever its case and surrounding spaces', async () => {
      const user = await store.createUser(newUser('Edsger@Example.com', 'Edsger Dijkstra'));

      assert.deepEqual(await store.findByEmail('edsger@example.com'), user);
      assert.deepEqual(await store.findByEmail(' EDSGER@EXAMPLE.COM  '), user);
    });

    test('finds nobody for an unknown id or email', async () => {
      assert.equal(await store.findById('0123456789abcdef01234567'), undefined);
      assert.equal(await store.findByEmail('nobody@example.com'), undefined);
    });

    test('rejects a second user with the same email', async () => {
      const first = await store.createUser(newUser('barbara@example.com', 'Barbara Liskov'));

      await assert.rejects(
        store.createUser(newUser(' Barbara@EXAMPLE.com', 'Someone Else')),
        isEmailTaken,
      );
      assert.deepEqual(await store.findByEmail('barbara@example.com'), first);
    });

    test('lets exactly one of several concurrent creates with the same email win', async () => {
      const attempts = Array.from({ length: 8 }, (_, index) =>
        store.createUser(newUser(index % 2 === 0 ? 'race@example.com' : 'RACE@example.com')),
      );
      const results = await Promise.allSettled(attempts);

      const winners = results.filter((result) => result.status === 'fulfilled');
      const losers = results.filter((result) => result.status === 'rejected');
      assert.equal(winners.length, 1);
      assert.equal(losers.length, attempts.length - 1);
      for (const loser of losers) assert.ok(isEmailTaken(loser.reason), String(loser.reason));
    });

    test('deletes a user once and then reports nothing to delete', async () => {
      const user = await store.createUser(newUser('alan@example.com', 'Alan Turing'));

      assert.equal(await store.deleteUser(user.id), true);
      assert.equal(await store.deleteUser(user.id), false);
      assert.equal(await store.findById(user.id), undefined);
      assert.equal(await store.findByEmail('alan@example.com'), undefined);
    });

    test('frees the email of a deleted user for a new user', async () => {
      const first = await store.createUser(newUser('margaret@example.com', 'Margaret Hamilton'));
      await store.deleteUser(first.id);

      const second = await store.createUser(newUser('margaret@example.com', 'M. Hamilton'));

      assert.notEqual(second.id, first.id);
      assert.deepEqual(await store.findByEmail('margaret@example.com'), second);
    });

    test('answers a ping', async () => {
      await store.ping();
    });

    test('keeps users across a close and a reopen', async () => {
      const writer = await openStore();
      const user = await writer.createUser(newUser('katherine@example.com', 'Katherine Johnson'));
      await writer.close();

      const reader = await openStore();

      assert.deepEqual(await reader.findById(user.id), user);
    });

    test('rejects a ping once closed, and closes twice without error', async () => {
      const closed = await openStore();
      await closed.close();

      await assert.rejects(closed.ping());
      await closed.close();
    });
  });
}

async function createSqliteDatabase(): Promise<TestDatabase> {
  const directory = await mkdtemp(join(tmpdir(), 'pulse-user-store-'));
  // The folder under the temporary one is missing on purpose: the store must create it.
  const url = `sqlite:${join(directory, 'data', 'users.db')}`;

  return {
    open: () => openUserStore(url),
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}

// A fresh schema per run keeps the suite away from any other data in the database. An
// unreachable server makes this throw, which fails the suite rather than skipping it.
async function createPostgresDatabase(): Promise<TestDatabase> {
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
    open: () => openUserStore(PG_URL, { postgres: { schema } }),
    remove: async () => {
      try {
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

describeUserStore('SQLite user store', createSqliteDatabase);
describeUserStore('PostgreSQL user store', createPostgresDatabase);

describe('openUserStore', () => {
  test('opens an in-memory SQLite store', async () => {
    const store = await openUserStore('sqlite::memory:');

    try {
      const user = await store.createUser(newUser('ada@example.com'));
      assert.deepEqual(await store.findById(user.id), user);
    } finally {
      await store.close();
    }
  });

  test('rejects an unsupported scheme without echoing the URL', async () => {
    await assert.rejects(openUserStore('mysql://pulse:secret@127.0.0.1/pulse'), (error) => {
      assert.ok(error instanceof Error);
      assert.match(error.message, /Unsupported database URL \(scheme "mysql:"\)/);
      assert.doesNotMatch(error.message, /secret/);

      return true;
    });
  });

  test('rejects a SQLite URL without a path or in URL form', async () => {
    await assert.rejects(openUserStore('sqlite:'), /needs a path/);
    await assert.rejects(openUserStore('sqlite://data/users.db'), /sqlite:<path>/);
  });

  test('rejects a PostgreSQL schema name that is not a plain identifier', async () => {
    const options = { postgres: { schema: 'pulse; DROP TABLE users' } };

    await assert.rejects(openUserStore(PG_URL, options), /Invalid PostgreSQL schema name/);
  });
});
