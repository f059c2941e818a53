import { encodeFrame } from '../sse.js';
import { ClientStream, type StreamConnection } from './client-stream.js';
import { connectedFrame, syncRequiredFrame, type Greeting } from './control-frames.js';
import { Deadlines } from './deadlines.js';
import { isEventId, type EventIdGenerator } from './event-ids.js';
import type { EventFilter } from './event-filter.js';
import type { BusEvent, RemoteBus } from '../bus/remote-bus.js';
import { decideResume, type HistoryEvent, type HistoryStore } from './history.js';
import type { Hub } from './hub.js';
import { scheduleTokenExpiry } from './token-expiry.js';

/** An event to emit. */
export interface EmitInput {
  userId: string;
  type: string;
  data: Record<string, unknown>;
  /** The emitter's key: a second emit with the same key within the history window is a no-op. */
  idempotencyKey?: string;
}

/** The outcome of one emit. */
export interface EmitResult {
  eventId: string;
  connectionsNotified: number;
  /** True when the key was seen before: nothing was delivered this time. */
  duplicate: boolean;
}

/** Who opens a stream, and how. */
export interface OpenStreamRequest {
  userId: string;
  /** Seconds since the epoch, from the JWT. */
  tokenExpiresAt?: number;
  /** From `Last-Event-ID` or `?lastEventId=`. */
  lastEventId?: string;
  filter?: EventFilter;
}

/** Settings for the service. */
export interface EventServiceOptions {
  readonly maxBufferedBytes: number;
  readonly tokenExpiryNoticeMs: number;
  /** Hears how long each emit took from its call to its last write, in seconds. */
  readonly observeEmitLatency?: (seconds: number) => void;
  /**
   * A backplane shared with other instances (Redis). With one, ids, history and idempotency
   * live there, and events reach local streams when the bus brings them back to this instance.
   */
  readonly bus?: RemoteBus;
}

// Resumes read and send history this many events at a time.
const REPLAY_PAGE_SIZE = 100;

// A replay waits this long for a client to take what was sent before giving up on it.
const REPLAY_STALL_MS = 15_000;

// How long a replay waits for room before it looks again.
const REPLAY_POLL_MS = 10;

// Emitters choose event types, so counts per type are capped; the rest share one row.
const MAX_COUNTED_TYPES = 200;
const OTHER_TYPES = '(other)';

/**
 * Accepts events and opens streams. Each event gets an id, is recorded in history and is
 * serialized exactly once, however many streams receive it. Emits for one user run one at a
 * time, so ids, history and delivery agree on the order.
 */
export class EventService {
  readonly #hub: Hub;
  readonly #history: HistoryStore;
  readonly #ids: EventIdGenerator;
  readonly #options: EventServiceOptions;
  readonly #deadlines = new Deadlines();
  readonly #queues = new Map<string, Promise<unknown>>();
  readonly #emittedByType = new Map<string, number>();

  constructor(
    hub: Hub,
    history: HistoryStore,
    ids: EventIdGenerator,
    options: EventServiceOptions,
  ) {
    this.#hub = hub;
    this.#history = options.bus?.history ?? history;
    this.#ids = ids;
    this.#options = options;
    options.bus?.onEvent((event) => this.#deliverFromBus(event));
  }

  /** Records an event and sends it to every open stream of its user that wants it. */
  emit(input: EmitInput): Promise<EmitResult> {
    const startedAt = performance.now();
    if (this.#options.bus) return this.#emitOnBus(this.#options.bus, input);

    return this.#inUserOrder(input.userId, async () => {
      const { userId, type, data, idempotencyKey } = input;
      if (idempotencyKey !== undefined) {
        const earlier = await this.#history.findByIdempotencyKey(userId, idempotencyKey);
        if (earlier) return { eventId: earlier, connectionsNotified: 0, duplicate: true };
      }

      const createdAt = Date.now();
      const eventId = this.#ids.next(createdAt);
      const json = JSON.stringify({ type, timestamp: createdAt, data });
      await this.#history.append({ id: eventId, userId, type, json, createdAt, idempotencyKey });

      // Most emits of a busy service find the user offline: no frame to build for them.
      const connectionsNotified =
        this.#hub.countFor(userId) === 0
          ? 0
          : this.#hub.deliver(userId, encodeFrame(type, json, eventId));
      this.#count(type);
      this.#options.observeEmitLatency?.((performance.now() - startedAt) / 1000);

      return { eventId, connectionsNotified, duplicate: false };
    });
  }

  /**
   * Turns a response whose headers are sent into a registered stream: greets it, replays what
   * it missed when it resumes, and schedules the token's expiry notices.
   */
  async openStream(
    connection: StreamConnection,
    request: OpenStreamRequest,
  ): Promise<ClientStream> {
    const stream = new ClientStream(connection, request.userId, {
      maxBufferedBytes: this.#options.maxBufferedBytes,
      filter: request.filter,
      onClose: (closed, reason) => this.#hub.remove(closed, reason),
    });

    // Registered in the user's emit queue, so no emit for this user is half done: every event
    // with an id above `position` reaches this stream (live, or in the replay), and none at
    // or below it is still on its way.
    const position = await this.#inUserOrder(request.userId, async () => {
      stream.holdLive();
      // The client may have gone while the stream waited for its turn.
      if (!stream.closed) this.#hub.add(stream);
      return this.#position();
    });
    if (stream.closed) return stream;

    if (request.lastEventId === undefined) {
      this.#greet(stream, { resumed: false, replayed: 0, resumeFrom: position }, position);
      stream.releaseLive(Number(position));
    } else {
      await this.#resume(stream, request.lastEventId, position);
    }

    // Scheduled only now, so that `connected` is always the first frame of a stream.
    if (request.tokenExpiresAt !== undefined && !stream.closed) {
      scheduleTokenExpiry(stream, this.#hub, this.#deadlines, {
        expiresAt: request.tokenExpiresAt * 1000,
        noticeMs: this.#options.tokenExpiryNoticeMs,
      });
    }

    return stream;
  }

  // With a bus the emit is done once the bus has it; delivery follows when it comes back.
  // connectionsNotified is 0 here: the HTTP layer answers from the cluster's presence.
  async #emitOnBus(bus: RemoteBus, input: EmitInput): Promise<EmitResult> {
    const { userId, type, data, idempotencyKey } = input;
    const createdAt = Date.now();
    const json = JSON.stringify({ type, timestamp: createdAt, data });

    const { eventId, duplicate } = await bus.publish({
      userId,
      type,
      json,
      createdAt,
      idempotencyKey,
    });
    if (!duplicate) this.#count(type);

    return { eventId, connectionsNotified: 0, duplicate };
  }

  #deliverFromBus(event: BusEvent): void {
    this.#hub.deliver(event.userId, encodeFrame(event.type, event.json, event.id));
  }

  /** The newest id handed to this instance's streams: everything after it is still to come. */
  #position(): string {
    return String(this.#options.bus?.position() ?? this.#ids.last);
  }

  /** Events emitted since start, by type (duplicates not counted). */
  emittedByType(): Record<string, number> {
    return Object.fromEntries(this.#emittedByType);
  }

  /** Releases timers; streams are left to their owner. */
  stop(): void {
    this.#deadlines.clear();
    this.#hub.stop();
  }

  // Live events are held from the moment the stream is registered, before history is read, so
  // an event emitted while the replay is prepared is in the replay, held, or both (and then
  // sent once): never neither.
  async #resume(stream: ClientStream, lastEventId: string, position: string): Promise<void> {
    const lastId = isEventId(lastEventId) ? Number(lastEventId) : Number.POSITIVE_INFINITY;
    const afterId = Number.isFinite(lastId) ? lastId : 0;
    // Only an id of our own shape is echoed into an `id:` line; anything else could smuggle
    // a line break into the stream.
    const greetingId = Number.isFinite(lastId) ? lastEventId : position;

    const read = await this.#history.read(stream.userId, afterId, undefined, REPLAY_PAGE_SIZE);
    // Another instance sharing a database history may have issued newer ids than this one; an
    // id is unknown only if no instance could have issued it yet.
    const newestPossible = Math.max(this.#ids.last, Date.now() * 1000);
    const decision = decideResume(lastId, newestPossible, read);
    if (stream.closed) return;

    if (decision.kind === 'sync-required') {
      const outcome = { resumed: false, replayed: 0, lastEventId, syncRequired: true };
      this.#greet(stream, { ...outcome, resumeFrom: position }, greetingId);
      this.#hub.sendTo(stream, syncRequiredFrame(decision.reason, lastEventId, position));
      stream.releaseLive(Number(position));
      return;
    }

    const replayed = await this.#replay(stream, greetingId, position, decision.events);
    if (replayed === undefined) return;
    stream.releaseLive(replayed);
  }

  // Sends history page by page, waiting for the socket between pages so that neither the
  // replay nor a long history is held in memory at once. Returns the last id sent, or
  // undefined when the stream ended on the way.
  async #replay(
    stream: ClientStream,
    lastEventId: string,
    position: string,
    firstPage: HistoryEvent[],
  ): Promise<number | undefined> {
    const greeting = { resumed: true, lastEventId, resumeFrom: position };
    let page = firstPage;
    let sentThrough = Number(lastEventId);
    let greeted = false;

    for (;;) {
      const wanted = page.filter((event) => stream.accepts(event.type));
      // The greeting counts the first page; later pages follow without another greeting.
      if (!greeted) {
        const moreToReplay = page.length === REPLAY_PAGE_SIZE;
        this.#greet(stream, { ...greeting, replayed: wanted.length, moreToReplay }, lastEventId);
      }
      greeted = true;

      for (const event of wanted) {
        if (!this.#hub.sendTo(stream, encodeFrame(event.type, event.json, event.id))) return;
        if (!(await this.#waitForRoom(stream))) return;
      }
      if (page.length < REPLAY_PAGE_SIZE) return Math.max(sentThrough, lastIdOf(page));

      sentThrough = lastIdOf(page);
      page = (await this.#history.read(stream.userId, sentThrough, undefined, REPLAY_PAGE_SIZE))
        .events;
      if (stream.closed) return;
    }
  }

  // A replay must not overrun the socket buffer (the stream would be cut off as slow), nor
  // wait for ever on a client that stopped reading. Waiting gives up the event loop, which is
  // also what lets Node hand the corked writes to the socket at all.
  async #waitForRoom(stream: ClientStream): Promise<boolean> {
    const deadline = Date.now() + REPLAY_STALL_MS;

    while (stream.bufferedBytes > this.#options.maxBufferedBytes / 2) {
      if (stream.closed) return false;
      if (Date.now() > deadline) {
        stream.close('slow_consumer');
        return false;
      }
      await stream.drained(REPLAY_POLL_MS);
    }

    return !stream.closed;
  }

  #greet(
    stream: ClientStream,
    outcome: Omit<Greeting, 'userId' | 'connectionId'>,
    frameId: string,
  ): void {
    const greeting = { userId: stream.userId, connectionId: stream.id, ...outcome };
    this.#hub.sendTo(stream, connectedFrame(greeting, frameId));
  }

  #count(type: string): void {
    const counted = this.#emittedByType;
    const key = counted.has(type) || counted.size < MAX_COUNTED_TYPES ? type : OTHER_TYPES;
    counted.set(key, (counted.get(key) ?? 0) + 1);
  }

  #inUserOrder<T>(userId: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(userId) ?? Promise.resolve();
    const result = previous.then(task);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#queues.set(userId, settled);
    void settled.then(() => {
      if (this.#queues.get(userId) === settled) this.#queues.delete(userId);
    });

    return result;
  }
}

function lastIdOf(events: HistoryEvent[]): number {
  const last = events.at(-1);

  return last === undefined ? 0 : Number(last.id);
}
