import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { PulseError } from '../errors.js';
import { isUserId } from '../ids.js';

/** What Pulse needs from a verified user token. */
export interface VerifiedToken {
  userId: string;
  /** Expiry, seconds since the epoch; undefined for a token without `exp`. */
  expiresAt: number | undefined;
}

/** Signs and verifies user tokens. */
export interface TokenService {
  sign(userId: string, expiresIn?: string): Promise<string>;
  verify(token: string): Promise<VerifiedToken>;
}

/** How long a token issued by Pulse lives. */
export const DEFAULT_TOKEN_LIFETIME = '7d';

// RFC 8725 section 3.1: accept exactly the algorithm we use. Anything else, `none` included,
// fails before the signature is looked at.
const ALGORITHMS = ['HS256'];

/** Creates the token service for one shared secret. */
export function createTokenService(secret: string): TokenService {
  // A key imported once: given raw bytes, jose would import one on every check (measured at
  // about half the cost of a verify).
  const key = globalThis.crypto.subtle.importKey(
    'raw',
    new TextEncoder().encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign', 'verify'],
  );

  return {
    async sign(userId, expiresIn = DEFAULT_TOKEN_LIFETIME) {
      return new SignJWT({ id: userId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(await key);
    },

    async verify(token) {
      try {
        // RFC 7519 makes `exp` optional; Pulse does not: a token without it would never die.
        const { payload } = await jwtVerify(token, await key, {
          algorithms: ALGORITHMS,
          requiredClaims: ['exp'],
        });
        // The original application put the user id in `id`; standard tokens use `sub`.
        const userId = typeof payload.id === 'string' ? payload.id : payload.sub;
        if (!isUserId(userId)) throw new PulseError('TOKEN_INVALID', 'The token names no user');

        return { userId, expiresAt: payload.exp };
      } catch (error) {
        if (error instanceof PulseError) throw error;
        if (error instanceof joseErrors.JWTExpired) throw new PulseError('TOKEN_EXPIRED');
        throw new PulseError('TOKEN_INVALID');
      }
    },
  };
}
