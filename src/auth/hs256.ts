import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';

/** Why a compact JWS was refused; the caller maps these to its own error codes. */
export type Hs256Failure = 'malformed' | 'algorithm' | 'signature' | 'claims' | 'expired';

/** The claims of a verified token: any JSON object with a numeric `exp`. */
export type VerifiedClaims = Record<string, unknown> & { exp: number };

/** The claims of a verified token, or why it was refused. */
export type Hs256Result =
  { ok: true; claims: VerifiedClaims } | { ok: false; failure: Hs256Failure };

// Three base64url parts without padding (RFC 7515 section 7.1): anything else is not ours.
const COMPACT_JWS = /^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/;

// An HMAC-SHA-256 signature is 32 bytes: 43 base64url characters.
const SIGNATURE_LENGTH = 32;

// Pulse's tokens are a few hundred characters; HTTP's header limit bounds the rest, but the
// verifier should not depend on it.
const MAX_TOKEN_LENGTH = 8 * 1024;

/**
 * Verifies HS256 tokens with one secret, synchronously. Opening a stream checks a token, and
 * WebCrypto's asynchronous HMAC (a thread-pool job and several promises per check) cost more
 * than the rest of the handshake; node:crypto's HMAC over a few hundred bytes takes a few µs.
 *
 * Exactly one algorithm is accepted (RFC 8725 section 3.1): the header must say HS256 and
 * carry no `crit` extension, the signature is compared in constant time before the payload is
 * read, and `exp` is required — a token without it would never die.
 */
export function createHs256Verifier(
  secret: string,
): (token: string, nowMs?: number) => Hs256Result {
  const key: KeyObject = createSecretKey(Buffer.from(secret, 'utf8'));

  return (token, nowMs = Date.now()) => {
    if (token.length > MAX_TOKEN_LENGTH) return refused('malformed');
    const parts = COMPACT_JWS.exec(token);
    if (!parts) return refused('malformed');
    const [, headerPart = '', payloadPart = '', signaturePart = ''] = parts;

    const header = jsonObject(headerPart);
    if (!header) return refused('malformed');
    if (header.alg !== 'HS256' || header.crit !== undefined) return refused('algorithm');

    const presented = Buffer.from(signaturePart, 'base64url');
    const expected = createHmac('sha256', key)
      .update(`${headerPart}.${payloadPart}`, 'latin1')
      .digest();
    // The length says nothing about the secret; only the comparison of equal lengths could.
    if (presented.length !== SIGNATURE_LENGTH || !timingSafeEqual(presented, expected)) {
      return refused('signature');
    }
    // The last character carries two unused bits: accept one spelling of a signature, not four.
    if (presented.toString('base64url') !== signaturePart) return refused('signature');

    const claims = jsonObject(payloadPart);
    if (!claims) return refused('malformed');

    return checkTimes(claims, Math.floor(nowMs / 1000));
  };
}

// RFC 7519 section 4.1: times are NumericDate, seconds since the epoch. No clock tolerance: the
// token issuer is this service.
function checkTimes(claims: Record<string, unknown>, nowSeconds: number): Hs256Result {
  const { exp, nbf, iat } = claims;
  if (typeof exp !== 'number' || !Number.isFinite(exp)) return refused('claims');
  if (nbf !== undefined && (typeof nbf !== 'number' || nbf > nowSeconds)) return refused('claims');
  if (iat !== undefined && typeof iat !== 'number') return refused('claims');
  if (exp <= nowSeconds) return refused('expired');

  return { ok: true, claims: { ...claims, exp } };
}

function jsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);

    return isObject ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function refused(failure: Hs256Failure): Hs256Result {
  return { ok: false, failure };
}
