/**
 * Event ids: decimal strings of microseconds since the epoch, bumped by one when two events
 * fall in the same microsecond. They are unique, increase with every event (so they are
 * ordered per user) and keep increasing across restarts as long as the clock does. Clients
 * treat them as opaque; the server compares them with `compareEventIds`.
 */
export class EventIdGenerator {
  #last = 0;

  /** Returns the next id. */
  next(now: number = Date.now()): string {
    this.#last = Math.max(this.#last + 1, now * 1000);

    return String(this.#last);
  }
}

/** Orders two ids made by EventIdGenerator; negative when `a` came first. */
export function compareEventIds(a: string, b: string): number {
  return Number(a) - Number(b);
}

/** Tells whether a client-supplied string could be one of our ids. */
export function isEventId(value: string): boolean {
  return /^\d{1,16}$/.test(value);
}
