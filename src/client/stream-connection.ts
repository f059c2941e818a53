import type { EventSourceConstructor, EventSourceLike, MessageEventLike } from './client-api.js';

/** How one connection reports back. */
export interface ConnectionHandlers {
  /** A frame of `type`; `lastEventId` is the EventSource's last event ID buffer. */
  frame(type: string, data: string, lastEventId: string): void;
  /** The connection failed or dropped; it is already closed. */
  failed(failure: ConnectionFailure): void;
}

/** Why a connection ended. */
export interface ConnectionFailure {
  /** The HTTP status, where the EventSource tells it (the `eventsource` package does). */
  status: number | undefined;
  /**
   * The EventSource failed the connection rather than planning a reconnect: by the HTML
   * standard it does so for an HTTP answer other than 200 or a wrong content type, and
   * reconnects after network errors. So `refused` means the server answered and said no.
   */
  refused: boolean;
}

// EventSource.CLOSED in the HTML standard.
const CLOSED = 2;

/**
 * One EventSource, listened to for the given types. EventSource's own reconnection is never
 * used: on the first error the source is closed and the client decides what comes next, so it
 * can pick a fresh ticket and its own resume position and backoff.
 */
export class StreamConnection {
  readonly #source: EventSourceLike;
  readonly #handlers: ConnectionHandlers;
  readonly #listened = new Set<string>();
  #closed = false;

  constructor(
    EventSourceClass: EventSourceConstructor,
    url: string,
    handlers: ConnectionHandlers,
    types: Iterable<string>,
  ) {
    this.#handlers = handlers;
    this.#source = new EventSourceClass(url);
    this.#source.addEventListener('error', (event) => this.#fail(event));
    for (const type of types) this.listen(type);
  }

  /**
   * Listens for one more event type. Named events reach only listeners of their name (HTML
   * standard, "dispatch the event": the event's type is the event type buffer), so each type
   * the app wants needs its own listener.
   */
  listen(type: string): void {
    if (this.#listened.has(type) || type === 'error') return;

    this.#listened.add(type);
    this.#source.addEventListener(type, (event) => {
      if (this.#closed) return;
      this.#handlers.frame(type, String(event.data ?? ''), event.lastEventId ?? '');
    });
  }

  /** Closes the source; no callback follows. */
  close(): void {
    this.#closed = true;
    this.#source.close();
  }

  #fail(event: MessageEventLike): void {
    if (this.#closed) return;

    const refused = this.#source.readyState === CLOSED;
    const code = (event as { code?: unknown }).code;
    this.close();
    this.#handlers.failed({ status: typeof code === 'number' ? code : undefined, refused });
  }
}
