import { PulseEmitError } from './emit-error.js';
import { MAX_RETRY_AFTER_MS, retryDelay } from './retry-delay.js';

/** How often and how patiently to retry. */
export interface RetryPolicy {
  maxAttempts: number;
  random?: () => number;
}

/**
 * Runs `attempt` until it succeeds, a failure is not retryable, or `maxAttempts` are spent;
 * waits between attempts as retryDelay says. The error thrown tells how many attempts ran.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  attempt: (attemptNumber: number) => Promise<T>,
): Promise<T> {
  for (let attemptNumber = 1; ; attemptNumber += 1) {
    try {
      return await attempt(attemptNumber);
    } catch (error) {
      if (!(error instanceof PulseEmitError)) throw error;
      error.attempts = attemptNumber;
      const tooLong = (error.retryAfterMs ?? 0) > MAX_RETRY_AFTER_MS;
      if (!error.retryable || tooLong || attemptNumber >= policy.maxAttempts) throw error;

      await sleep(retryDelay(attemptNumber, error.retryAfterMs, policy.random));
    }
  }
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
