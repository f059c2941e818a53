/** How many ids the client remembers to drop duplicates. */
export const RECENT_IDS_CAPACITY = 50;

/** How long an id is remembered, in milliseconds. */
export const RECENT_IDS_LIFETIME_MS = 60_000;

/**
 * The ids of the events processed lately: a least-recently-used list of at most `capacity` ids,
 * each forgotten `lifetimeMs` after it was last seen. A Map keeps insertion order, so its first
 * entry is always the stalest.
 */
export class RecentIds {
  readonly #capacity: number;
  readonly #lifetimeMs: number;
  readonly #now: () => number;
  readonly #seenAt = new Map<string, number>();

  constructor(
    capacity = RECENT_IDS_CAPACITY,
    lifetimeMs = RECENT_IDS_LIFETIME_MS,
    now: () => number = Date.now,
  ) {
    this.#capacity = capacity;
    this.#lifetimeMs = lifetimeMs;
    this.#now = now;
  }

  /** How many ids are remembered now. */
  get size(): number {
    this.#forgetExpired();
    return this.#seenAt.size;
  }

  /** Whether `id` was seen within its lifetime; a hit makes it the most recent again. */
  has(id: string): boolean {
    this.#forgetExpired();
    if (!this.#seenAt.has(id)) return false;

    this.#touch(id);
    return true;
  }

  /** Records `id`; returns false when it was already there (a duplicate). */
  add(id: string): boolean {
    if (this.has(id)) return false;

    this.#touch(id);
    if (this.#seenAt.size > this.#capacity) {
      const stalest = this.#seenAt.keys().next().value;
      if (stalest !== undefined) this.#seenAt.delete(stalest);
    }

    return true;
  }

  /** Forgets every id. */
  clear(): void {
    this.#seenAt.clear();
  }

  #touch(id: string): void {
    this.#seenAt.delete(id);
    this.#seenAt.set(id, this.#now());
  }

  #forgetExpired(): void {
    const oldestKept = this.#now() - this.#lifetimeMs;
    for (const [id, seenAt] of this.#seenAt) {
      if (seenAt > oldestKept) return;
      this.#seenAt.delete(id);
    }
  }
}
