import type { Logger } from '../log.js';
import type { EncodedFrame } from '../sse.js';
import type { ClientStream, CloseReason } from './client-stream.js';
import { heartbeatFrame } from './control-frames.js';
import type { PayloadStats } from './payload-stats.js';
import { RecentDeletions } from './recent-deletions.js';

// Heartbeat slices: one tick per this long, and never more slices than this per interval.
const HEARTBEAT_TICK_MS = 250;
const MAX_HEARTBEAT_SLICES = 60;

/** What the hub needs to run. */
export interface HubOptions {
  readonly heartbeatMs: number;
  readonly stats: PayloadStats;
  readonly logger: Logger;
}

/** One user's share of the open streams. */
export interface UserConnections {
  userId: string;
  connections: number;
}

/**
 * The registry of open streams by user, and fan-out to them. It knows nothing of HTTP,
 * databases or other instances. One timer sends heartbeats to every stream; it runs only
 * while at least one stream is open, so an idle hub holds no timer at all.
 *
 * Each stream gets one heartbeat per interval, but not all at once: the interval is cut into
 * slices (one per 250 ms, at most 60) and each tick beats the streams of one slice. Beating
 * 15,000 streams in one go blocks the loop for tens of milliseconds, which every emit waiting
 * behind it would pay in latency.
 */
export class Hub {
  readonly #streamsByUser = new Map<string, Set<ClientStream>>();
  readonly #options: HubOptions;
  readonly #closedByReason = new Map<CloseReason, number>();
  readonly #deletions = new RecentDeletions();
  #streamCount = 0;
  #streamsOpened = 0;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  readonly #heartbeatSlices: number;
  #nextSlice = 0;

  constructor(options: HubOptions) {
    this.#options = options;
    const slices = Math.round(options.heartbeatMs / HEARTBEAT_TICK_MS);
    this.#heartbeatSlices = Math.min(MAX_HEARTBEAT_SLICES, Math.max(1, slices));
  }

  /** Number of open streams. */
  get totalConnections(): number {
    return this.#streamCount;
  }

  /** Number of users with at least one open stream. */
  get totalUsers(): number {
    return this.#streamsByUser.size;
  }

  /** Registers an open stream. The stream must call `remove` when it ends. */
  add(stream: ClientStream): void {
    let streams = this.#streamsByUser.get(stream.userId);
    if (!streams) {
      streams = new Set();
      this.#streamsByUser.set(stream.userId, streams);
    }

    streams.add(stream);
    this.#streamCount += 1;
    this.#streamsOpened += 1;
    this.#startHeartbeat();
  }

  /** Forgets a stream at once; the map entry goes with a user's last stream. */
  remove(stream: ClientStream, reason: CloseReason): void {
    const streams = this.#streamsByUser.get(stream.userId);
    if (!streams?.delete(stream)) return;

    this.#streamCount -= 1;
    this.#closedByReason.set(reason, (this.#closedByReason.get(reason) ?? 0) + 1);
    const entry = {
      userId: stream.userId,
      streamId: stream.id,
      reason,
      openMs: Date.now() - stream.openedAt,
    };
    if (reason === 'slow_consumer') this.#options.logger.info(entry, 'slow consumer dropped');
    else this.#options.logger.info(entry, 'stream closed');
    if (streams.size === 0) this.#streamsByUser.delete(stream.userId);
    if (this.#streamCount === 0) this.#stopHeartbeat();
  }

  /** Writes one encoded event to every stream of a user; returns how many took it. */
  deliver(userId: string, frame: EncodedFrame): number {
    const streams = this.#streamsByUser.get(userId);
    if (!streams) return 0;

    let delivered = 0;
    // No copy of the set (10,000 tabs would mean 10,000 slots per emit): a write may cut off
    // a slow stream, which deletes it from the set, and a Set iterates safely past deletions.
    for (const stream of streams) {
      if (stream.deliver(frame)) delivered += 1;
    }
    this.#options.stats.record(frame.type, frame.dataBytes, delivered);

    return delivered;
  }

  /** Writes a frame to one stream now (greetings, replays, notices), counted in the stats. */
  sendTo(stream: ClientStream, frame: EncodedFrame): boolean {
    const written = stream.send(frame);
    if (written) this.#options.stats.record(frame.type, frame.dataBytes);

    return written;
  }

  /** Streams opened since start, and streams closed by reason. */
  counters(): { opened: number; closedByReason: Record<string, number> } {
    return {
      opened: this.#streamsOpened,
      closedByReason: Object.fromEntries(this.#closedByReason),
    };
  }

  /** Open streams of one user. */
  countFor(userId: string): number {
    return this.#streamsByUser.get(userId)?.size ?? 0;
  }

  /** Every user with open streams, and how many each has. */
  connectionsByUser(): UserConnections[] {
    return [...this.#streamsByUser].map(([userId, streams]) => ({
      userId,
      connections: streams.size,
    }));
  }

  /** Ends every stream of one user; a deletion is also remembered for a while. */
  closeUser(userId: string, reason: CloseReason): number {
    if (reason === 'user_deleted') this.#deletions.note(userId);
    const streams = [...(this.#streamsByUser.get(userId) ?? [])];
    for (const stream of streams) stream.close(reason);

    return streams.length;
  }

  /** Tells whether a user's streams were ended for a deletion within the last minute. */
  wasDeletedLately(userId: string): boolean {
    return this.#deletions.has(userId);
  }

  /** Every open stream, for shutdown. */
  allStreams(): ClientStream[] {
    return [...this.#streamsByUser.values()].flatMap((streams) => [...streams]);
  }

  /** Stops the heartbeat; streams are left to their owner. */
  stop(): void {
    this.#stopHeartbeat();
  }

  #startHeartbeat(): void {
    if (this.#heartbeatTimer) return;

    const tickMs = this.#options.heartbeatMs / this.#heartbeatSlices;
    this.#heartbeatTimer = setInterval(() => this.#beat(), tickMs);
  }

  #stopHeartbeat(): void {
    if (!this.#heartbeatTimer) return;

    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = undefined;
  }

  // Heartbeats carry no id: they are not events a client resumes from.
  #beat(): void {
    const slice = this.#nextSlice;
    this.#nextSlice = (slice + 1) % this.#heartbeatSlices;
    const frame = heartbeatFrame();
    let written = 0;

    // Walks the sets in place: a write that cuts a slow stream off deletes it from its set,
    // which a Set's iteration tolerates.
    for (const streams of this.#streamsByUser.values()) {
      for (const stream of streams) {
        if (stream.serial % this.#heartbeatSlices !== slice) continue;
        // A stream still being greeted gets no heartbeat: `connected` must come first.
        if (stream.holding) continue;
        if (stream.write(frame.bytes)) written += 1;
      }
    }
    if (written === 0) return;

    this.#options.stats.record(frame.type, frame.dataBytes, written);
    this.#options.logger.debug({ streams: written, slice }, 'heartbeat sent');
  }
}
