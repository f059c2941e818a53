/** The wait before the second attempt, doubled for each further one. */
export const FIRST_RETRY_MS = 250;

/** The longest wait between attempts chosen by the emitter itself. */
export const MAX_RETRY_MS = 10_000;

/** The longest Retry-After honoured; a server asking for more is treated as a failure. */
export const MAX_RETRY_AFTER_MS = 60_000;

/**
 * The wait after failed attempt `attempt` (1-based): exponential with full jitter between half
 * and all of it, so emitters that failed together do not retry together; never shorter than
 * the server's Retry-After.
 */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(FIRST_RETRY_MS * 2 ** Math.min(attempt - 1, 20), MAX_RETRY_MS);
  const jittered = Math.round(exponential * (0.5 + random() / 2));

  return Math.max(jittered, retryAfterMs ?? 0);
}

/** Reads Retry-After as milliseconds: delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;

  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
