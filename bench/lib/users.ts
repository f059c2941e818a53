import { randomBytes } from 'node:crypto';
import { hashPassword } from '../../src/auth/passwords.js';
import { SqliteUserStore } from '../../src/store/sqlite-user-store.js';
import { HttpConnection } from './http-connection.js';

/**
 * Writes `count` users straight into Pulse's SQLite file with Pulse's own store, while Pulse is
 * not running, and returns their ids. The route would do the same, but it hashes a random
 * password with scrypt for each user (about 50 ms of CPU), which for 10,000 users is minutes;
 * here one hash serves them all, as nobody signs in with a password.
 */
export async function seedUsers(databasePath: string, count: number): Promise<string[]> {
  const store = new SqliteUserStore(databasePath);
  const passwordHash = await hashPassword(randomBytes(32).toString('base64url'));

  try {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const email = `bench-seeded-${index}@bench.pulse.local`;
      const user = await store.createUser({ email, name: `bench ${index}`, passwordHash });
      ids.push(user.id);
    }
    return ids;
  } finally {
    await store.close();
  }
}

/**
 * Makes `count` users through `POST /api/service/users` and returns their ids in order.
 * Streams need users that exist; the naive server and the ceiling take the same ids.
 */
export async function createUsers(
  port: number,
  serviceToken: string,
  count: number,
  concurrency = 16,
): Promise<string[]> {
  const ids: string[] = new Array<string>(count);
  const pool = await Promise.all(
    Array.from({ length: concurrency }, () => HttpConnection.open(port)),
  );
  let next = 0;

  try {
    await Promise.all(
      pool.map(async (connection) => {
        while (next < count) {
          const index = next;
          next += 1;
          ids[index] = await createUser(connection, port, serviceToken, index);
        }
      }),
    );
  } finally {
    for (const connection of pool) connection.close();
  }

  return ids;
}

async function createUser(
  connection: HttpConnection,
  port: number,
  serviceToken: string,
  index: number,
): Promise<string> {
  const body = JSON.stringify({
    email: `bench-${index}@bench.pulse.local`,
    name: `bench ${index}`,
  });
  const answer = await connection.request(
    `POST /api/service/users HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
      `Authorization: Bearer ${serviceToken}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  if (answer.status !== 200 && answer.status !== 201) {
    throw new Error(`creating a user answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  }

  const parsed = JSON.parse(answer.body) as { user?: { id?: string } };
  if (typeof parsed.user?.id !== 'string') throw new Error('creating a user gave no id');

  return parsed.user.id;
}
