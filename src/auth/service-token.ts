import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented service token with the configured one in constant time. Both are
 * hashed first so the comparison takes the same time whatever the presented length.
 */
export function createServiceTokenCheck(expected: string): (presented: string) => boolean {
  const expectedDigest = createHash('sha256').update(expected).digest();

  return (presented) => {
    const presentedDigest = createHash('sha256').update(presented).digest();

    return timingSafeEqual(presentedDigest, expectedDigest);
  };
}
