import type { ConnectionState, DataOf, PulseEventHandler } from './event-types.js';

/**
 * What the client needs of an EventSource: the browser's, or the `eventsource` package's in
 * Node. Only the parts of the HTML standard's interface that the client uses.
 */
export interface EventSourceLike {
  readonly readyState: number;
  addEventListener(type: string, listener: (event: MessageEventLike) => void): void;
  close(): void;
}

/** The fields of a MessageEvent (or an error Event) that the client reads. */
export interface MessageEventLike {
  readonly type: string;
  readonly data?: unknown;
  readonly lastEventId?: string;
}

/** A constructor such as `globalThis.EventSource`. */
export type EventSourceConstructor = new (url: string) => EventSourceLike;

/** Options of createPulseClient. */
export interface PulseClientOptions {
  /** Pulse's origin, optionally with a path prefix, e.g. `https://pulse.example.com`. */
  baseUrl: string;
  /** Returns a valid JWT; called on the first connect and again after the token was refused. */
  getToken: () => Promise<string>;
  /** Default `globalThis.EventSource`; in Node pass the `eventsource` package's EventSource. */
  eventSource?: EventSourceConstructor;
  /** For stream tickets; default `globalThis.fetch`. */
  fetch?: typeof fetch;
  /** Open the stream with a single-use ticket, so no JWT goes into a URL. Default true. */
  useTickets?: boolean;
  /** Only these event types (exact, or a prefix ending in `*`); control events always pass. */
  filter?: string[];
  /** One stream for all tabs of this origin, held by an elected leader tab. Default false. */
  shareAcrossTabs?: boolean;
  /** Name of the lock and channel tabs share; default derived from `baseUrl`. */
  channelName?: string;
  /** Called on every state change. */
  onStateChange?: (state: ConnectionState, previous: ConnectionState) => void;
  /** Called when an app handler throws; default: rethrown asynchronously, as EventSource does. */
  onHandlerError?: (error: unknown, type: string) => void;
  /** The server's heartbeat interval as far as the client knows; default 15000. */
  heartbeatMs?: number;
  /** Resume from this id on the first connect (an id stored by the app). */
  lastEventId?: string;
  /** Connect as soon as the client is created. Default true. */
  autoConnect?: boolean;
  /** Reconnect attempts in a row that may fail before ERROR. Default 10. */
  maxFailedReconnects?: number;
}

/** The client. */
export interface PulseClient {
  /** The current connection state (a follower tab reports its leader's). */
  readonly state: ConnectionState;
  /** The id of the last event processed: where the next connection resumes. */
  readonly lastEventId: string | undefined;
  /** Whether this tab holds the stream; always true unless `shareAcrossTabs` is on. */
  readonly isLeader: boolean;
  /** Calls `handler` for each event of `type`; returns a function that removes it. */
  on<Type extends string>(type: Type, handler: PulseEventHandler<DataOf<Type>>): () => void;
  /** Removes a handler added with `on`. */
  off<Type extends string>(type: Type, handler: PulseEventHandler<DataOf<Type>>): void;
  /** Calls `listener` on every state change; returns a function that removes it. */
  onStateChange(listener: (state: ConnectionState, previous: ConnectionState) => void): () => void;
  /** Opens the stream, when created with `autoConnect: false`. */
  connect(): void;
  /** Drops the connection and opens a new one at once, forgetting past failures. */
  reconnect(): void;
  /** Closes the stream for good. */
  close(): void;
}
