// Far longer than a stream takes from the lookup of its user to its registration.
const REMEMBER_MS = 60_000;

// A burst of deletions cannot grow this without bound; past it, the oldest are forgotten.
const MAX_REMEMBERED = 10_000;

/**
 * Users deleted lately, on this instance or (through the bus) on another. A stream is admitted
 * after a lookup of its user and registered a little later; a deletion that lands in between
 * ends the user's streams before this one is among them. So the stream asks here once it is
 * registered, rather than asking the database a second time.
 */
export class RecentDeletions {
  readonly #deletedAt = new Map<string, number>();

  /** Remembers that `userId` was deleted at `now`. */
  note(userId: string, now = Date.now()): void {
    // Deleted and set again, so the map stays in the order of the deletions.
    this.#deletedAt.delete(userId);
    this.#deletedAt.set(userId, now);
    this.#forgetOld(now);
  }

  /** Tells whether `userId` was deleted within the last minute. */
  has(userId: string, now = Date.now()): boolean {
    const deletedAt = this.#deletedAt.get(userId);

    return deletedAt !== undefined && now - deletedAt < REMEMBER_MS;
  }

  /** How many deletions are remembered. */
  get size(): number {
    return this.#deletedAt.size;
  }

  #forgetOld(now: number): void {
    for (const [userId, deletedAt] of this.#deletedAt) {
      const keep = this.#deletedAt.size <= MAX_REMEMBERED && now - deletedAt < REMEMBER_MS;
      if (keep) return;

      this.#deletedAt.delete(userId);
    }
  }
}
