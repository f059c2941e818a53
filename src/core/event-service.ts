import type { ServerResponse } from 'node:http';
import { encodeFrame } from '../sse.js';
import { ClientStream } from './client-stream.js';
import { EventIdGenerator } from './event-ids.js';
import type { Hub } from './hub.js';

/** The outcome of one emit. */
export interface EmitResult {
  eventId: string;
  timestamp: number;
  connectionsNotified: number;
}

/** Settings for streams opened by the service. */
export interface EventServiceOptions {
  readonly maxBufferedBytes: number;
}

/**
 * Accepts events and opens streams. Each event gets an id and is serialized exactly once,
 * however many streams receive it.
 */
export class EventService {
  readonly #hub: Hub;
  readonly #ids = new EventIdGenerator();
  readonly #options: EventServiceOptions;

  constructor(hub: Hub, options: EventServiceOptions) {
    this.#hub = hub;
    this.#options = options;
  }

  /** Sends an event to every open stream of a user. */
  emit(userId: string, type: string, data: Record<string, unknown>): EmitResult {
    const timestamp = Date.now();
    const eventId = this.#ids.next(timestamp);
    const frame = encodeFrame(type, JSON.stringify({ type, timestamp, data }), eventId);

    return { eventId, timestamp, connectionsNotified: this.#hub.deliver(userId, frame) };
  }

  /**
   * Turns a response whose headers are already sent into a registered stream and greets it
   * with the `connected` event.
   */
  openStream(response: ServerResponse, userId: string): ClientStream {
    const stream = new ClientStream(response, userId, {
      maxBufferedBytes: this.#options.maxBufferedBytes,
      onClose: (closed) => this.#hub.remove(closed),
    });
    this.#hub.add(stream);

    const greeting = {
      type: 'connected',
      userId,
      timestamp: Date.now(),
      message: 'Real-time event stream established',
      connectionId: stream.id,
    };
    this.#hub.deliverTo(stream, encodeFrame('connected', JSON.stringify(greeting)));

    return stream;
  }
}
