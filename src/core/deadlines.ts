/** A scheduled call that can be cancelled. */
export interface Deadline {
  readonly at: number;
  /** Position in the heap; -1 once it ran or was cancelled. */
  index: number;
  readonly run: () => void;
}

// setTimeout takes at most 2^31 - 1 ms; later deadlines are re-armed when that passes.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Many deadlines, one timer: a binary min-heap on time with the single timer armed for the
 * earliest. Scheduling and cancelling are O(log n), so token expiries for thousands of streams
 * cost no per-stream timer, and a cancelled deadline releases what it refers to at once.
 */
export class Deadlines {
  readonly #heap: Deadline[] = [];
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Infinity;

  /** Number of pending deadlines. */
  get size(): number {
    return this.#heap.length;
  }

  /** Calls `run` at time `at` (milliseconds since the epoch), or soon after. */
  schedule(at: number, run: () => void): Deadline {
    const deadline: Deadline = { at, run, index: this.#heap.length };
    this.#heap.push(deadline);
    this.#siftUp(deadline.index);
    this.#arm();

    return deadline;
  }

  /** Removes a pending deadline; does nothing if it already ran or was cancelled. */
  cancel(deadline: Deadline): void {
    const index = deadline.index;
    if (index < 0 || this.#heap[index] !== deadline) return;

    const last = this.#heap.pop()!;
    deadline.index = -1;
    if (last !== deadline) {
      this.#heap[index] = last;
      last.index = index;
      this.#siftDown(index);
      this.#siftUp(last.index);
    }
    this.#arm();
  }

  /** Drops every deadline and the timer. */
  clear(): void {
    for (const deadline of this.#heap) deadline.index = -1;
    this.#heap.length = 0;
    this.#disarm();
  }

  #arm(): void {
    const next = this.#heap[0];
    if (!next) return this.#disarm();
    if (next.at === this.#armedFor && this.#timer) return;

    this.#disarm();
    this.#armedFor = next.at;
    const delay = Math.min(Math.max(0, next.at - Date.now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => this.#fire(), delay);
  }

  #disarm(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Infinity;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedFor = Infinity;
    const now = Date.now();

    while (this.#heap.length > 0 && this.#heap[0]!.at <= now) {
      const due = this.#heap[0]!;
      this.cancel(due);
      due.run();
    }
    this.#arm();
  }

  #siftUp(start: number): void {
    let index = start;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (this.#heap[parent]!.at <= this.#heap[index]!.at) return;
      this.#swap(index, parent);
      index = parent;
    }
  }

  #siftDown(start: number): void {
    let index = start;
    for (;;) {
      const left = index * 2 + 1;
      const right = left + 1;
      let smallest = index;
      if (left < this.#heap.length && this.#heap[left]!.at < this.#heap[smallest]!.at) {
        smallest = left;
      }
      if (right < this.#heap.length && this.#heap[right]!.at < this.#heap[smallest]!.at) {
        smallest = right;
      }
      if (smallest === index) return;
      this.#swap(index, smallest);
      index = smallest;
    }
  }

  #swap(a: number, b: number): void {
    const first = this.#heap[a]!;
    const second = this.#heap[b]!;
    this.#heap[a] = second;
    this.#heap[b] = first;
    first.index = b;
    second.index = a;
  }
}
