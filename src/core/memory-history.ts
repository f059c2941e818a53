import type {
  HistoryEvent,
  HistoryLimits,
  HistoryRead,
  HistoryStore,
  HistoryUsage,
} from './history.js';

/** Limits of the in-memory history. */
export interface MemoryHistoryLimits extends HistoryLimits {
  /** Bytes held in all; past this the oldest events of any user go first. */
  readonly maxBytes: number;
}

interface Entry {
  /** Cleared on release: the queue may keep the slot a while, never the payload. */
  event: HistoryEvent | undefined;
  readonly bytes: number;
  readonly id: number;
  readonly userId: string;
  readonly createdAt: number;
  held: boolean;
}

interface UserHistory {
  readonly entries: Entry[];
  /** The newest id trimmed from this user alone (by the per-user count). */
  droppedThrough: number;
}

// A rough per-event overhead for the objects and map slots around a payload.
const ENTRY_OVERHEAD_BYTES = 160;

/**
 * History in process memory. Every event sits in its user's list and in one global queue in id
 * order, so the oldest event overall (the first to expire, or to go when the byte budget is
 * spent) is always at the head of the queue: trimming is O(1) per event and needs no timer.
 */
export class MemoryHistory implements HistoryStore {
  readonly #limits: MemoryHistoryLimits;
  readonly #users = new Map<string, UserHistory>();
  readonly #byKey = new Map<string, Entry>();
  #queue: Entry[] = [];
  #queueHead = 0;
  #bytes = 0;
  #events = 0;
  /** Events with ids up to this may be gone for anybody: expired, or over the byte budget. */
  #globalFloor: number;

  /** `coverageStart` is the id before the first one this process issues. */
  constructor(limits: MemoryHistoryLimits, coverageStart: number) {
    this.#limits = limits;
    this.#globalFloor = coverageStart;
  }

  async append(event: HistoryEvent): Promise<void> {
    const entry: Entry = {
      event,
      bytes: sizeOf(event),
      id: Number(event.id),
      userId: event.userId,
      createdAt: event.createdAt,
      held: true,
    };
    const user = this.#userFor(event.userId);

    user.entries.push(entry);
    this.#queue.push(entry);
    this.#bytes += entry.bytes;
    this.#events += 1;
    if (event.idempotencyKey) this.#byKey.set(keyOf(event.userId, event.idempotencyKey), entry);

    if (user.entries.length > this.#limits.size) {
      const oldest = user.entries.shift()!;
      user.droppedThrough = oldest.id;
      this.#release(oldest);
    }
    this.#trim(event.createdAt);
  }

  async read(
    userId: string,
    afterId: number,
    now = Date.now(),
    limit = Infinity,
  ): Promise<HistoryRead> {
    this.#trim(now);
    const user = this.#users.get(userId);
    const floor = Math.max(this.#globalFloor, user?.droppedThrough ?? 0);
    if (!user) return { floor, events: [] };

    const events: HistoryEvent[] = [];
    for (const entry of user.entries) {
      if (events.length >= limit) break;
      if (Number(entry.event!.id) > afterId) events.push(entry.event!);
    }

    return { floor, events };
  }

  async findByIdempotencyKey(userId: string, key: string, now = Date.now()) {
    this.#trim(now);

    return this.#byKey.get(keyOf(userId, key))?.event?.id;
  }

  async newestId(): Promise<number | undefined> {
    return undefined;
  }

  async usage(): Promise<HistoryUsage> {
    this.#trim(Date.now());

    return { events: this.#events, users: this.#users.size, bytes: this.#bytes };
  }

  async close(): Promise<void> {
    this.#users.clear();
    this.#byKey.clear();
    this.#queue = [];
    this.#queueHead = 0;
    this.#bytes = 0;
    this.#events = 0;
  }

  #userFor(userId: string): UserHistory {
    let user = this.#users.get(userId);
    if (!user) {
      user = { entries: [], droppedThrough: 0 };
      this.#users.set(userId, user);
    }

    return user;
  }

  // Drops expired events, then the oldest ones while over the byte budget. Both are the head
  // of the global queue, and the head of their user's list.
  #trim(now: number): void {
    const expiredBefore = now - this.#limits.ttlMs;

    while (this.#queueHead < this.#queue.length) {
      const entry = this.#queue[this.#queueHead]!;
      const expired = entry.createdAt < expiredBefore;
      if (entry.held && !expired && this.#bytes <= this.#limits.maxBytes) break;

      this.#queueHead += 1;
      if (!entry.held) continue;

      this.#globalFloor = Math.max(this.#globalFloor, entry.id);
      const user = this.#users.get(entry.userId);
      user?.entries.shift();
      if (user?.entries.length === 0) this.#users.delete(entry.userId);
      this.#release(entry);
    }
    this.#compactQueue();
  }

  #release(entry: Entry): void {
    const key = entry.event?.idempotencyKey;
    entry.held = false;
    entry.event = undefined;
    this.#bytes -= entry.bytes;
    this.#events -= 1;

    if (key && this.#byKey.get(keyOf(entry.userId, key)) === entry) {
      this.#byKey.delete(keyOf(entry.userId, key));
    }
  }

  // Released entries stay in the queue until the head passes them; reclaim the space in bulk.
  #compactQueue(): void {
    if (this.#queueHead < 1024 || this.#queueHead * 2 < this.#queue.length) return;

    this.#queue = this.#queue.slice(this.#queueHead);
    this.#queueHead = 0;
  }
}

function keyOf(userId: string, key: string): string {
  return `${userId}\u0000${key}`;
}

function sizeOf(event: HistoryEvent): number {
  const keyLength = event.idempotencyKey?.length ?? 0;

  return (event.json.length + event.type.length + keyLength) * 2 + ENTRY_OVERHEAD_BYTES;
}
