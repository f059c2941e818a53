import { SignJWT } from 'jose';
import { createHs256Verifier } from './hs256.js';
import { PulseError } from '../errors.js';
import { isUserId } from '../ids.js';

/** What Pulse needs from a verified user token. */
export interface VerifiedToken {
  userId: string;
  /** Expiry, seconds since the epoch (`exp` is required). */
  expiresAt: number;
}

/** Signs and verifies user tokens. */
export interface TokenService {
  sign(userId: string, expiresIn?: string): Promise<string>;
  /** Throws PulseError TOKEN_INVALID or TOKEN_EXPIRED. Synchronous: see hs256.ts. */
  verify(token: string): VerifiedToken;
}

/** How long a token issued by Pulse lives. */
export const DEFAULT_TOKEN_LIFETIME = '7d';

/** Creates the token service for one shared secret. */
export function createTokenService(secret: string): TokenService {
  const signingKey = new TextEncoder().encode(secret);
  const verifyHs256 = createHs256Verifier(secret);

  return {
    async sign(userId, expiresIn = DEFAULT_TOKEN_LIFETIME) {
      return new SignJWT({ id: userId })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(userId)
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(signingKey);
    },

    verify(token) {
      const result = verifyHs256(token);
      if (!result.ok) {
        throw new PulseError(result.failure === 'expired' ? 'TOKEN_EXPIRED' : 'TOKEN_INVALID');
      }

      // The original application put the user id in `id`; standard tokens use `sub`.
      const { id, sub, exp } = result.claims;
      const userId = typeof id === 'string' ? id : sub;
      if (!isUserId(userId)) throw new PulseError('TOKEN_INVALID', 'The token names no user');

      return { userId, expiresAt: exp };
    },
  };
}
