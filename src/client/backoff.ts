/** Reconnect delays: 1, 2, 4, 8, 16 and 32 seconds, capped there, each with some jitter. */

/** The delay before the first reconnect attempt. */
export const FIRST_DELAY_MS = 1000;

/** The longest delay between two attempts. */
export const MAX_DELAY_MS = 32_000;

/** Each delay is moved by up to this share either way, so clients cut off together spread out. */
export const JITTER = 0.2;

/** The delay before the first attempt doubled `attempt - 1` times and capped, without jitter. */
export function baseDelay(attempt: number): number {
  const doublings = Math.max(0, Math.min(attempt - 1, 30));

  return Math.min(FIRST_DELAY_MS * 2 ** doublings, MAX_DELAY_MS);
}

/**
 * The delay before reconnect attempt `attempt` (1-based). `random` returns a number in [0, 1);
 * 0.5 gives the base delay exactly.
 */
export function reconnectDelay(attempt: number, random: () => number = Math.random): number {
  const spread = (random() * 2 - 1) * JITTER;

  return Math.round(baseDelay(attempt) * (1 + spread));
}
