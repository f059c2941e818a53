/** The answer of a rate check. */
export interface RateDecision {
  allowed: boolean;
  /** Seconds until the window resets, for `Retry-After`, when not allowed. */
  retryAfterSeconds: number;
}

/** Counts hits against a limit: in process, or shared by every instance (Redis). */
export interface RateCounter {
  hit(key: string, now?: number): RateDecision | Promise<RateDecision>;
}

/**
 * Allows `limit` hits per key in each one-second window. All counters live in one map that is
 * replaced when the window turns, so memory is bounded by the keys seen in one second and no
 * timer is needed. A limit of 0 turns the limiter off.
 */
export class RateLimiter implements RateCounter {
  readonly #limit: number;
  readonly #windowMs: number;
  #windowStart = 0;
  #counts = new Map<string, number>();

  constructor(limit: number, windowMs = 1000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  /** Counts a hit for `key` and says whether it is within the limit. */
  hit(key: string, now = Date.now()): RateDecision {
    if (this.#limit === 0) return { allowed: true, retryAfterSeconds: 0 };

    if (now - this.#windowStart >= this.#windowMs) {
      this.#windowStart = now - (now % this.#windowMs);
      this.#counts = new Map();
    }

    const count = (this.#counts.get(key) ?? 0) + 1;
    if (count > this.#limit) {
      const waitMs = this.#windowStart + this.#windowMs - now;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
    }

    this.#counts.set(key, count);
    return { allowed: true, retryAfterSeconds: 0 };
  }
}
