import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import {
  call,
  registerUser,
  startTestServer,
  TEST_JWT_SECRET,
  type TestServer,
} from './support/server.js';

const key = new TextEncoder().encode(TEST_JWT_SECRET);

function unsignedToken(claims: object): string {
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');

  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

describe('accounts and user tokens', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server.stop();
  });

  test('registers a user and answers with a token and the public user', async () => {
    const { status, body } = await call(`${server.url}/api/auth/register`, {
      body: { email: 'Grace@Example.com', password: 'a long password', name: 'Grace' },
    });

    assert.equal(status, 201);
    assert.equal(body.success, true);
    assert.match(body.user.id, /^[0-9a-f]{24}$/);
    assert.deepEqual(body.user, { id: body.user.id, email: 'grace@example.com', name: 'Grace' });
    assert.equal(typeof body.token, 'string');
    assert.equal(JSON.stringify(body).includes('password'), false);
  });

  test('issues tokens that last seven days and carry the user id in `id`', async () => {
    const user = await registerUser(server.url);
    const [, payload] = user.token.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());

    assert.equal(claims.id, user.id);
    assert.equal(claims.exp - claims.iat, 7 * 24 * 3600);
  });

  test('refuses a second account with the same email', async () => {
    const body = { email: 'twice@example.com', password: 'a long password' };
    await call(`${server.url}/api/auth/register`, { body });

    const again = await call(`${server.url}/api/auth/register`, {
      body: { ...body, email: 'TWICE@example.com' },
    });

    assert.equal(again.status, 409);
    assert.equal(again.body.code, 'EMAIL_TAKEN');
  });

  test('refuses a short password and a malformed email, naming the field', async () => {
    const short = await call(`${server.url}/api/auth/register`, {
      body: { email: 'short@example.com', password: 'seven77' },
    });
    const malformed = await call(`${server.url}/api/auth/register`, {
      body: { email: 'not-an-email', password: 'a long password' },
    });

    assert.equal(short.status, 400);
    assert.equal(short.body.code, 'VALIDATION_FAILED');
    assert.match(short.body.message, /password/);
    assert.equal(malformed.body.code, 'VALIDATION_FAILED');
    assert.match(malformed.body.message, /email/);
  });

  test('logs in with the right password and gives one answer for every wrong login', async () => {
    const email = 'login@example.com';
    await call(`${server.url}/api/auth/register`, { body: { email, password: 'right password' } });

    const good = await call(`${server.url}/api/auth/login`, {
      body: { email, password: 'right password' },
    });
    const wrongPassword = await call(`${server.url}/api/auth/login`, {
      body: { email, password: 'wrong password' },
    });
    const unknownEmail = await call(`${server.url}/api/auth/login`, {
      body: { email: 'nobody@example.com', password: 'right password' },
    });

    assert.equal(good.status, 200);
    assert.equal(good.body.user.email, email);
    assert.equal(wrongPassword.status, 401);
    assert.deepEqual(wrongPassword.body, unknownEmail.body);
    assert.equal(unknownEmail.body.code, 'BAD_CREDENTIALS');
  });

  test('answers /me for a valid token', async () => {
    const user = await registerUser(server.url);
    const { status, body } = await call(`${server.url}/api/auth/me`, { token: user.token });

    assert.equal(status, 200);
    assert.equal(body.user.id, user.id);
  });

  test('rejects a request without a token', async () => {
    const { status, body } = await call(`${server.url}/api/auth/me`);

    assert.equal(status, 401);
    assert.equal(body.code, 'TOKEN_MISSING');
    assert.equal(body.success, false);
  });

  test('rejects a malformed token', async () => {
    const { status, body } = await call(`${server.url}/api/auth/me`, { token: 'not.a.jwt' });

    assert.equal(status, 401);
    assert.equal(body.code, 'TOKEN_INVALID');
  });

  test('rejects an expired token', async () => {
    const user = await registerUser(server.url);
    const expired = await new SignJWT({ id: user.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(key);

    const { status, body } = await call(`${server.url}/api/auth/me`, { token: expired });

    assert.equal(status, 401);
    assert.equal(body.code, 'TOKEN_EXPIRED');
  });

  test('rejects an unsigned token with alg none', async () => {
    const user = await registerUser(server.url);
    const token = unsignedToken({ id: user.id, exp: Math.floor(Date.now() / 1000) + 600 });

    const { status, body } = await call(`${server.url}/api/auth/me`, { token });

    assert.equal(status, 401);
    assert.equal(body.code, 'TOKEN_INVALID');
  });

  test('rejects a token signed with another secret or another algorithm', async () => {
    const user = await registerUser(server.url);
    const otherSecret = await new SignJWT({ id: user.id })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('another-secret-that-is-long-enough-000000'));
    const otherAlgorithm = await new SignJWT({ id: user.id })
      .setProtectedHeader({ alg: 'HS512' })
      .setExpirationTime('1h')
      .sign(key);

    for (const token of [otherSecret, otherAlgorithm]) {
      const { status, body } = await call(`${server.url}/api/auth/me`, { token });
      assert.equal(status, 401);
      assert.equal(body.code, 'TOKEN_INVALID');
    }
  });

  test('rejects a token without an expiry', async () => {
    const user = await registerUser(server.url);
    const token = await new SignJWT({ id: user.id }).setProtectedHeader({ alg: 'HS256' }).sign(key);

    const { status, body } = await call(`${server.url}/api/auth/me`, { token });

    assert.equal(status, 401);
    assert.equal(body.code, 'TOKEN_INVALID');
  });

  test('accepts the user id in the standard `sub` claim', async () => {
    const user = await registerUser(server.url);
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(user.id)
      .setExpirationTime('1h')
      .sign(key);

    const { status, body } = await call(`${server.url}/api/auth/me`, { token });

    assert.equal(status, 200);
    assert.equal(body.user.id, user.id);
  });

  test('deletes the account, after which its token gets USER_NOT_FOUND', async () => {
    const user = await registerUser(server.url);

    const deleted = await call(`${server.url}/api/auth/me`, {
      method: 'DELETE',
      token: user.token,
    });
    const afterwards = await call(`${server.url}/api/auth/me`, { token: user.token });

    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.success, true);
    assert.equal(afterwards.status, 401);
    assert.equal(afterwards.body.code, 'USER_NOT_FOUND');
  });
});
