/** Something with queued output to hand to its socket. */
export interface Flushable {
  flush(): void;
}

/**
 * Coalesces writes across a whole turn of the event loop. Streams that queue output mark
 * themselves dirty; one `setImmediate` then flushes each of them once, after every emit
 * handled in this turn of the loop. A stream that got ten events in that turn makes one
 * socket write, not ten: the syscall per delivery, not JavaScript, is the cost that matters.
 */
export class FlushScheduler {
  #dirty = new Set<Flushable>();
  #scheduled = false;

  /** Flushes `stream` at the end of this turn of the event loop. */
  mark(stream: Flushable): void {
    this.#dirty.add(stream);
    if (this.#scheduled) return;

    this.#scheduled = true;
    setImmediate(() => this.flushAll());
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

    for (const stream of dirty) stream.flush();
  }
}

/** The scheduler shared by every stream of the process. */
export const flushScheduler = new FlushScheduler();
