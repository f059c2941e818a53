/** Something with queued output to hand to its socket. */
export interface Flushable {
  flush(): void;
}

// A flush slower than this means a big fan-out is under way: wait a little before the next
// one, so that the events arriving meanwhile share its writes. Never longer than the cap.
const SLOW_FLUSH_MS = 5;
const MAX_GATHER_MS = 20;

/**
 * Coalesces writes across a whole turn of the event loop. Streams that queue output mark
 * themselves dirty; one `setImmediate` then flushes each of them once, after every emit
 * handled in this turn of the loop. A stream that got ten events in that turn makes one
 * socket write, not ten: the syscall per delivery, not JavaScript, is the cost that matters.
 *
 * Under a large fan-out (one user with thousands of tabs) a flush itself takes milliseconds;
 * the next one then waits about as long as the last took (at most 20 ms), which gathers the
 * emits of that time into shared writes instead of one write per event per stream.
 */
export class FlushScheduler {
  #dirty = new Set<Flushable>();
  #scheduled = false;
  #lastFlushMs = 0;

  /** Flushes `stream` at the end of this turn of the event loop (or a little later, see above). */
  mark(stream: Flushable): void {
    this.#dirty.add(stream);
    if (this.#scheduled) return;

    this.#scheduled = true;
    if (this.#lastFlushMs < SLOW_FLUSH_MS) {
      setImmediate(() => this.flushAll());
    } else {
      setTimeout(() => this.flushAll(), Math.min(this.#lastFlushMs, MAX_GATHER_MS));
    }
  }

  /** Forgets a stream that ended before its turn came. */
  forget(stream: Flushable): void {
    this.#dirty.delete(stream);
  }

  /** Flushes every dirty stream now. */
  flushAll(): void {
    this.#scheduled = false;
    const dirty = this.#dirty;
    this.#dirty = new Set();
    const startedAt = performance.now();

    for (const stream of dirty) stream.flush();
    this.#lastFlushMs = performance.now() - startedAt;
  }
}

/** The scheduler shared by every stream of the process. */
export const flushScheduler = new FlushScheduler();
