import type { HistoryStore } from '../core/history.js';

/** An event as the bus carries it between instances. */
export interface BusEvent {
  id: string;
  userId: string;
  type: string;
  json: string;
}

/** What an emit hands to the bus. */
export interface PublishRequest {
  userId: string;
  type: string;
  json: string;
  createdAt: number;
  idempotencyKey?: string;
}

/** What the bus answers an emit with. */
export interface PublishOutcome {
  eventId: string;
  duplicate: boolean;
}

/**
 * A backplane that makes many instances behave as one: it gives events their ids, keeps the
 * shared history, and brings every event to every instance in id order. The in-process default
 * needs none; `REDIS_URL` selects the Redis one. The core sees only this interface.
 */
export interface RemoteBus {
  /** Records an event and sends it on; throws BusUnavailableError when the bus is down. */
  publish(request: PublishRequest): Promise<PublishOutcome>;
  /** Sets who hears the events arriving from the bus, in id order. Called once. */
  onEvent(listener: (event: BusEvent) => void): void;
  /**
   * Tells every instance, this one included, that a user was deleted, so that each ends the
   * user's streams. Call it once the deletion is committed: the notice is sent in the
   * background, and sent again until the bus takes it.
   */
  announceUserDeleted(userId: string): void;
  /** Sets who hears of users deleted on any instance. Called once. */
  onUserDeleted(listener: (userId: string) => void): void;
  /** The newest id this instance has handed to its listener: later ones are still to come. */
  position(): number;
  /**
   * Whether the bus is connected and reading from a known place. Until it is, emits and new
   * streams are refused (503), since an event emitted then might never reach this instance.
   */
  ready(): boolean;
  /** The shared history, for resumes. */
  readonly history: HistoryStore;
  /** Resolves when the bus answers; rejects otherwise. Used by readiness. */
  ping(): Promise<void>;
  /** Stops reading and closes the connections. */
  close(): Promise<void>;
}

/** The bus cannot be reached: the emit was not accepted, and may be retried. */
export class BusUnavailableError extends Error {
  constructor(cause?: unknown) {
    super('The event bus is not reachable', { cause });
    this.name = 'BusUnavailableError';
  }
}
