/** One emitted event as history keeps it: enough to send it again, byte for byte. */
export interface HistoryEvent {
  /** Event id (decimal string, see event-ids.ts). */
  readonly id: string;
  readonly userId: string;
  readonly type: string;
  /** The exact `data:` JSON that was sent: `{type, timestamp, data}`. */
  readonly json: string;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
  /** The emitter's idempotency key, when it gave one. */
  readonly idempotencyKey?: string;
}

/** What history holds of one user after a given id. */
export interface HistoryRead {
  /**
   * The newest id that history may have forgotten for this user: events with larger ids are
   * all still held. A client whose last id is below this may have missed something.
   */
  readonly floor: number;
  /** The user's events with ids above the one asked for, oldest first. */
  readonly events: HistoryEvent[];
}

/** How much history is held. */
export interface HistoryUsage {
  events: number;
  users: number;
  /** Approximate bytes held, payloads included. */
  bytes: number;
}

/**
 * Where per-user history lives: in memory (the default) or in the database. Every event of a
 * user is appended in id order; each store trims by count per user (HISTORY_SIZE), by age
 * (HISTORY_TTL_MS) and, in memory, by total bytes, remembering what it trimmed so that resume
 * can tell a complete replay from one with a gap.
 */
export interface HistoryStore {
  /** Records an event. Events of one user arrive in increasing id order. */
  append(event: HistoryEvent): Promise<void>;
  /**
   * The user's retained events with id greater than `afterId` (at most `limit` of them, oldest
   * first), and the floor below them. Resumes read in pages so a long history is never loaded
   * whole.
   */
  read(userId: string, afterId: number, now?: number, limit?: number): Promise<HistoryRead>;
  /** The id of a retained event of this user with this idempotency key. */
  findByIdempotencyKey(userId: string, key: string, now?: number): Promise<string | undefined>;
  /** The largest id ever stored, so ids keep growing across restarts. */
  newestId(): Promise<number | undefined>;
  /** What is held now. */
  usage(): Promise<HistoryUsage>;
  /** Releases timers and connections. */
  close(): Promise<void>;
}

/** Limits shared by every history store. */
export interface HistoryLimits {
  /** Events kept per user. */
  readonly size: number;
  /** Age after which an event is dropped, in milliseconds. */
  readonly ttlMs: number;
}

/** The outcome of asking to resume after an id. */
export type ResumeDecision =
  | { kind: 'replay'; events: HistoryEvent[] }
  | { kind: 'sync-required'; reason: 'too_old' | 'unknown_id' };

/**
 * Decides whether a client that last saw `lastEventId` can be brought up to date from history.
 * An id from the future (or not one of ours) is unknown; an id below the floor may hide a gap.
 */
export function decideResume(
  lastEventId: number,
  newestIssued: number,
  read: HistoryRead,
): ResumeDecision {
  if (lastEventId > newestIssued) return { kind: 'sync-required', reason: 'unknown_id' };
  if (lastEventId < read.floor) return { kind: 'sync-required', reason: 'too_old' };

  return { kind: 'replay', events: read.events };
}
