import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { createHs256Verifier } from '../src/auth/hs256.js';

const SECRET = 'a test secret that is long enough for HS256 use';
const NOW_MS = Date.UTC(2026, 0, 1);
const NOW = NOW_MS / 1000;

const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString('base64url');

// Signs by hand, so the tests can build headers and payloads that jose would refuse to make.
function handSigned(header: unknown, payload: unknown, secret = SECRET): string {
  const signingInput = `${encode(header)}.${encode(payload)}`;
  const signature = createHmac('sha256', secret).update(signingInput).digest('base64url');

  return `${signingInput}.${signature}`;
}

describe('HS256 verification', () => {
  const verify = createHs256Verifier(SECRET);

  test('accepts a token signed by jose and returns its claims', async () => {
    const token = await new SignJWT({ id: 'u1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(NOW)
      .setExpirationTime(NOW + 60)
      .sign(new TextEncoder().encode(SECRET));

    assert.deepEqual(verify(token, NOW_MS), {
      ok: true,
      claims: { id: 'u1', iat: NOW, exp: NOW + 60 },
    });
  });

  test('refuses a token signed with another secret, or with a changed payload', () => {
    const other = handSigned({ alg: 'HS256' }, { id: 'u1', exp: NOW + 60 }, 'another secret');
    assert.deepEqual(verify(other, NOW_MS), { ok: false, failure: 'signature' });

    const genuine = handSigned({ alg: 'HS256' }, { id: 'u1', exp: NOW + 60 });
    const [header, , signature] = genuine.split('.');
    const forged = `${header}.${encode({ id: 'admin', exp: NOW + 60 })}.${signature}`;
    assert.deepEqual(verify(forged, NOW_MS), { ok: false, failure: 'signature' });
  });

  test('accepts exactly HS256: none, HS512, a missing alg and crit are refused', () => {
    const claims = { id: 'u1', exp: NOW + 60 };
    const none = `${encode({ alg: 'none' })}.${encode(claims)}.`;
    assert.deepEqual(verify(none, NOW_MS), { ok: false, failure: 'malformed' });

    for (const header of [
      { alg: 'HS512' },
      {},
      { alg: 'hs256' },
      { alg: 'HS256', crit: ['b64'] },
    ]) {
      assert.deepEqual(verify(handSigned(header, claims), NOW_MS), {
        ok: false,
        failure: 'algorithm',
      });
    }
  });

  test('requires a numeric exp and refuses a token from its expiry second on', () => {
    const expired = (payload: object) => verify(handSigned({ alg: 'HS256' }, payload), NOW_MS);

    assert.deepEqual(expired({ id: 'u1' }), { ok: false, failure: 'claims' });
    assert.deepEqual(expired({ id: 'u1', exp: String(NOW + 60) }), {
      ok: false,
      failure: 'claims',
    });
    assert.deepEqual(expired({ id: 'u1', exp: NOW }), { ok: false, failure: 'expired' });
    assert.equal(expired({ id: 'u1', exp: NOW + 1 }).ok, true);
  });

  test('refuses a token that is not valid yet, or whose iat is not a number', () => {
    const check = (payload: object) => verify(handSigned({ alg: 'HS256' }, payload), NOW_MS);

    assert.deepEqual(check({ exp: NOW + 60, nbf: NOW + 5 }), { ok: false, failure: 'claims' });
    assert.deepEqual(check({ exp: NOW + 60, iat: 'yesterday' }), { ok: false, failure: 'claims' });
    assert.equal(check({ exp: NOW + 60, nbf: NOW, iat: NOW }).ok, true);
  });

  test('refuses malformed compact forms without throwing', () => {
    const valid = handSigned({ alg: 'HS256' }, { exp: NOW + 60 });
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const notJson = Buffer.from('not json').toString('base64url');
    const malformed = [
      '',
      'one.two',
      `${valid}.extra`,
      `${header}.${payload}.${signature}=`,
      `${header} .${payload}.${signature}`,
      `${notJson}.${payload}.${signature}`,
      `${encode([1, 2])}.${payload}.${signature}`,
    ];

    for (const token of malformed) {
      assert.equal(verify(token, NOW_MS).ok, false, token);
    }
    // A payload that is not an object, correctly signed, is refused after the signature check.
    assert.deepEqual(verify(handSigned({ alg: 'HS256' }, [NOW + 60]), NOW_MS), {
      ok: false,
      failure: 'malformed',
    });
    // Another spelling of the same signature bytes (the last character's two spare bits).
    const last = signature.at(-1) as string;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const sameBytes = alphabet[alphabet.indexOf(last) ^ 1] as string;
    const respelled = `${header}.${payload}.${signature.slice(0, -1)}${sameBytes}`;
    assert.deepEqual(verify(respelled, NOW_MS), { ok: false, failure: 'signature' });
    assert.equal(verify('a'.repeat(9000), NOW_MS).ok, false);
    // A signature of the wrong length never reaches the comparison (which would throw).
    assert.deepEqual(verify(`${header}.${payload}.${signature.slice(0, 20)}`, NOW_MS), {
      ok: false,
      failure: 'signature',
    });
  });
});
