/** Something with queued output to hand to its socket. */
export interface Flushable {
  flush(): void;
}

/** How a scheduler tells time and yields; replaced in tests. */
export interface FlushSchedulerOptions {
  /** Milliseconds, monotonic. */
  readonly now?: () => number;
  /** Runs `task` after pending I/O has been handled. */
  readonly defer?: (task: () => void) => void;
  /** How long one slice of flushing may run before the event loop gets a turn. */
  readonly sliceMs?: number;
}

// Long enough for a few hundred socket writes, short enough that an emit arriving meanwhile is
// answered within a few milliseconds.
const DEFAULT_SLICE_MS = 4;

// The clock is read once per this many streams, not once per stream.
const STREAMS_PER_CLOCK_READ = 64;

/**
 * Coalesces writes across turns of the event loop. A stream that queues output marks itself
 * dirty; a flush run then hands each dirty stream's queue to its socket in one write. A stream
 * that got ten events before its turn makes one syscall, not ten: the syscall per delivery, not
 * JavaScript, is the cost that matters.
 *
 * A run works in slices: after a few milliseconds of writes it lets the event loop accept new
 * requests, then carries on where it stopped. Under a large fan-out (one user with 10,000 tabs,
 * a pass of well over 100 ms) emits keep being accepted during the pass; their frames join the
 * queues of the streams not yet written, which then take several frames in one write, and a
 * stream already written is marked again and comes round at the end. Nothing waits for a whole
 * pass to end before it is even read.
 */
export class FlushScheduler {
  readonly #dirty = new Set<Flushable>();
  readonly #now: () => number;
  readonly #defer: (task: () => void) => void;
  readonly #sliceMs: number;
  #running = false;

  constructor(options: FlushSchedulerOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
    this.#defer = options.defer ?? ((task) => setImmediate(task));
    this.#sliceMs = options.sliceMs ?? DEFAULT_SLICE_MS;
  }

  /** Streams waiting for their write. */
  get pending(): number {
    return this.#dirty.size;
  }

  /** Flushes `stream` once the requests of this turn of the event loop have been handled. */
  mark(stream: Flushable): void {
    this.#dirty.add(stream);
    if (this.#running) return;

    this.#running = true;
    this.#defer(this.#runSlice);
  }

  /** Forgets a stream that ended before its turn came. */
  forget(stream: Flushable): void {
    this.#dirty.delete(stream);
  }

  // A Set iterates in insertion order and tolerates deletions and additions while it does: a
  // stream marked again after its write is appended and comes round later in the same run.
  readonly #runSlice = (): void => {
    const startedAt = this.#now();
    let sinceClockRead = 0;

    for (const stream of this.#dirty) {
      this.#dirty.delete(stream);
      stream.flush();

      sinceClockRead += 1;
      if (sinceClockRead < STREAMS_PER_CLOCK_READ) continue;
      sinceClockRead = 0;
      if (this.#now() - startedAt >= this.#sliceMs) break;
    }

    if (this.#dirty.size > 0) this.#defer(this.#runSlice);
    else this.#running = false;
  };
}

/** The scheduler shared by every stream of the process. */
export const flushScheduler = new FlushScheduler();
