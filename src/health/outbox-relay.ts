import type { EmitInput, EmitResult } from '../core/event-service.js';
import type { Logger } from '../log.js';
import type { EventOutbox, OutboxEntry, OutboxQuery } from '../store/health-store.js';

/** Settings of the relay. */
export interface OutboxRelayOptions {
  /** How often the sweep looks for events no request emitted (a crash, a CLI import). */
  readonly sweepMs: number;
  /**
   * The sweep leaves events younger than this to the request that queued them (perhaps on
   * another instance), so it rarely races one.
   */
  readonly settleMs: number;
  readonly logger: Logger;
}

// One sweep or flush emits at most this many events; the next sweep takes the rest.
const BATCH_LIMIT = 500;

// Event ids of the latest emits by seq, so a request whose event another request's flush
// emitted can still answer with its id.
const REMEMBERED_IDS = 10_000;

/** The idempotency key of an outbox event: the same on every retry, unique per event. */
export function outboxKey(seq: number): string {
  return `outbox-${seq}`;
}

/**
 * Moves committed events from the outbox to the streams. A write commits its event in the
 * outbox; the request then flushes its user's outbox, and a periodic sweep retries whatever is
 * left (the emit failed, the process died after commit, or `pulse import` wrote it). Each
 * event is emitted with a key derived from its outbox seq and removed only after the emit
 * succeeded, so a retry after a partial success is answered as a duplicate while history still
 * holds the first emit. Flushes and sweeps run one at a time, oldest first, so one user's
 * events leave in commit order.
 */
export class OutboxRelay {
  readonly #outbox: EventOutbox;
  readonly #emit: (input: EmitInput) => Promise<EmitResult>;
  readonly #options: OutboxRelayOptions;
  readonly #emittedIds = new Map<number, string>();
  #queue: Promise<unknown> = Promise.resolve();
  #timer: ReturnType<typeof setInterval> | undefined;
  #sweeping = false;

  constructor(
    outbox: EventOutbox,
    emit: (input: EmitInput) => Promise<EmitResult>,
    options: OutboxRelayOptions,
  ) {
    this.#outbox = outbox;
    this.#emit = emit;
    this.#options = options;
  }

  /**
   * Emits a user's pending events now, and answers the event id of each of `seqs` (undefined
   * for one whose emit failed: the sweep retries it).
   */
  async deliver(userId: string, seqs: readonly number[]): Promise<(string | undefined)[]> {
    if (seqs.length === 0) return [];

    await this.#serially(() => this.#drain({ userId, limit: BATCH_LIMIT }));
    return seqs.map((seq) => this.#emittedIds.get(seq));
  }

  /** Starts the periodic sweep, beginning with one at once. */
  start(): void {
    if (this.#timer) return;

    this.#timer = setInterval(() => void this.sweep(), this.#options.sweepMs);
    this.#timer.unref();
    void this.sweep();
  }

  /** Emits every pending event older than the settle time; skipped while one is running. */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;

    this.#sweeping = true;
    try {
      const queuedBefore = Date.now() - this.#options.settleMs;
      await this.#serially(() => this.#drain({ queuedBefore, limit: BATCH_LIMIT }));
    } finally {
      this.#sweeping = false;
    }
  }

  /** Stops the sweep and waits for the flush or sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#queue;
  }

  // A failed emit stops that user's later events in this pass, so they never overtake it.
  async #drain(query: OutboxQuery): Promise<void> {
    let entries: OutboxEntry[];
    try {
      entries = await this.#outbox.pending(query);
    } catch (error) {
      this.#options.logger.error({ err: error }, 'outbox read failed');
      return;
    }

    const blocked = new Set<string>();
    for (const entry of entries) {
      if (blocked.has(entry.userId)) continue;
      try {
        const { userId, type, data, seq } = entry;
        const result = await this.#emit({ userId, type, data, idempotencyKey: outboxKey(seq) });
        await this.#outbox.remove([seq]);
        this.#remember(seq, result.eventId);
      } catch (error) {
        blocked.add(entry.userId);
        const { seq, userId, type } = entry;
        this.#options.logger.error({ err: error, seq, userId, type }, 'outbox emit failed');
      }
    }
  }

  #remember(seq: number, eventId: string): void {
    this.#emittedIds.set(seq, eventId);
    if (this.#emittedIds.size > REMEMBERED_IDS) {
      this.#emittedIds.delete(this.#emittedIds.keys().next().value!);
    }
  }

  #serially<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(task);
    this.#queue = result.catch(() => undefined);

    return result;
  }
}
