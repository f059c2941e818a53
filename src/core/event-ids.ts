/**
 * Event ids: decimal strings of microseconds since the epoch, bumped by one when two events
 * fall in the same microsecond. They are unique, increase with every event (so they are
 * ordered per user) and keep increasing across restarts as long as the clock does. Clients
 * treat them as opaque; the server compares them as numbers.
 */
export class EventIdGenerator {
  #last: number;

  /** Starts after `after`: the newest id a persisted history holds, or now. */
  constructor(after: number = Date.now() * 1000) {
    this.#last = after;
  }

  /** The newest id issued (or the starting point, before the first). */
  get last(): number {
    return this.#last;
  }

  /** Returns the next id. */
  next(now: number = Date.now()): string {
    this.#last = Math.max(this.#last + 1, now * 1000);

    return String(this.#last);
  }
}

/** Tells whether a client-supplied string could be one of our ids. */
export function isEventId(value: string): boolean {
  return /^\d{1,16}$/.test(value);
}
