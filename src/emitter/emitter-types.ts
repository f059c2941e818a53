/** Options of createPulseEmitter. */
export interface PulseEmitterOptions {
  /** Pulse's origin, optionally with a path prefix, e.g. `http://127.0.0.1:5000`. */
  baseUrl: string;
  /** The shared token of backend services (`SERVICE_TOKEN`). */
  serviceToken: string;
  /** Replaces the global fetch. */
  fetch?: typeof fetch;
  /** Requests made for one emit at most, the first included. Default 5. */
  maxAttempts?: number;
  /** Limit on one request, answer included, in milliseconds. Default 10000. */
  timeoutMs?: number;
}

/** Options of one emit. */
export interface EmitOptions {
  /** The idempotency key; generated when absent. Sent again unchanged on every retry. */
  eventId?: string;
}

/** What an emit achieved. */
export interface EmitResult {
  /** The id Pulse gave the event (the original's, for a duplicate). */
  eventId: string;
  /** The idempotency key sent. */
  idempotencyKey: string;
  connectionsNotified: number;
  /**
   * Pulse had already seen this key. After more than one attempt this usually means an
   * earlier attempt arrived although its answer did not: the event was delivered once.
   */
  duplicate: boolean;
  /** Requests made. */
  attempts: number;
}

/** One event of emitMany, as the batch route takes it. */
export interface BatchEvent {
  userId: string;
  eventType: string;
  data: Record<string, unknown>;
  /** The idempotency key; generated when absent. */
  eventId?: string;
}

/** The outcome of one event of emitMany, at its index in the list given. */
export type BatchItemResult =
  | {
      index: number;
      status: 'delivered';
      eventId: string;
      idempotencyKey: string;
      connectionsNotified: number;
    }
  | { index: number; status: 'duplicate'; eventId: string; idempotencyKey: string }
  | { index: number; status: 'rejected'; code: string; message: string; idempotencyKey: string };

/** Options of emitAnalytics. */
export interface AnalyticsOptions extends EmitOptions {
  /** Default `analytics:batch_update`. */
  eventType?: string;
}

/** The emitter SDK. */
export interface PulseEmitter {
  /** Emits one event to one user's streams, retrying passing failures with the same key. */
  emit(
    userId: string,
    eventType: string,
    data: Record<string, unknown>,
    options?: EmitOptions,
  ): Promise<EmitResult>;
  /** Emits events for any users over the batch route, 500 a request; results in order. */
  emitMany(events: BatchEvent[]): Promise<BatchItemResult[]>;
  /**
   * Emits analytics items as consecutive `analytics:batch_update` events of at most 50 items,
   * each with `count`, `batchIndex` (1-based) and `totalBatches`, one after the other.
   */
  emitAnalytics(
    userId: string,
    items: unknown[],
    options?: AnalyticsOptions,
  ): Promise<EmitResult[]>;
}
