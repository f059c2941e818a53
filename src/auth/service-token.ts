import { hash, timingSafeEqual } from 'node:crypto';

/**
 * Compares a presented service token with the configured one in constant time. Both are
 * hashed first so the comparison takes the same time whatever the presented length.
 */
export function createServiceTokenCheck(expected: string): (presented: string) => boolean {
  const expectedDigest = hash('sha256', expected, 'buffer');

  return (presented) => {
    // The one-shot hash: no Hash object per request on the emit path.
    const presentedDigest = hash('sha256', presented, 'buffer');

    return timingSafeEqual(presentedDigest, expectedDigest);
  };
}
