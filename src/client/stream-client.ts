import type { PulseClient, PulseClientOptions } from './client-api.js';
import { ConnectionLifecycle } from './connection-lifecycle.js';
import {
  ConnectionState,
  type DataOf,
  type PulseEvent,
  type PulseEventHandler,
  type PulseEventMap,
} from './event-types.js';
import { HandlerRegistry } from './handler-registry.js';
import { DEFAULT_HEARTBEAT_MS, HeartbeatWatchdog } from './heartbeat-watchdog.js';
import { RecentIds } from './recent-ids.js';
import { StreamConnection, type ConnectionFailure } from './stream-connection.js';
import { StreamAccess } from './stream-access.js';

/** Types every connection listens to, whatever handlers the app added. */
const ALWAYS_LISTENED: string[] = [
  'connected',
  'heartbeat',
  'auth:expiring',
  'auth:expired',
  'sync:required',
];

/** Every type Pulse documents; a leader tab listens to all of them for its followers. */
export const KNOWN_TYPES: (keyof PulseEventMap)[] = [
  'metrics:updated',
  'metrics:deleted',
  'goals:updated',
  'googlefit:synced',
  'analytics:update',
  'analytics:batch_update',
  'test:event',
  'sync:required',
  'auth:expiring',
  'auth:expired',
];

/** What a stream client tells its owner besides the app's handlers (used by a leader tab). */
export interface StreamClientHooks {
  /** An event passed de-duplication and went to the app. */
  delivered?(event: PulseEvent<unknown>): void;
  /** The resume position moved (an event processed, or a greeting's `resumeFrom`). */
  positioned?(id: string): void;
  /** Types listened to besides the app's own. */
  extraTypes?: Iterable<string>;
}

/**
 * The client of one stream: one EventSource at a time, reopened by the client itself with the
 * last id it processed, so nothing is lost between connections and nothing is handed over twice.
 */
export class StreamClient implements PulseClient {
  readonly isLeader = true;
  readonly #options: PulseClientOptions;
  readonly #hooks: StreamClientHooks;
  readonly #handlers: HandlerRegistry;
  readonly #recent = new RecentIds();
  readonly #lifecycle: ConnectionLifecycle;
  readonly #watchdog: HeartbeatWatchdog;
  readonly #access: StreamAccess;
  readonly #stateListeners = new Set<(state: ConnectionState, previous: ConnectionState) => void>();
  readonly #extraTypes: Set<string>;
  #connection: StreamConnection | undefined;
  #generation = 0;
  #closed = false;
  #lastEventId: string | undefined;

  constructor(options: PulseClientOptions, hooks: StreamClientHooks = {}) {
    this.#options = options;
    this.#hooks = hooks;
    this.#handlers = new HandlerRegistry(options.onHandlerError);
    this.#lastEventId = options.lastEventId;
    this.#extraTypes = new Set(hooks.extraTypes);
    this.#access = new StreamAccess(options);
    this.#watchdog = new HeartbeatWatchdog(options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS, () =>
      this.#drop(this.#generation),
    );
    this.#lifecycle = new ConnectionLifecycle({
      connect: () => void this.#open(),
      maxFailedReconnects: options.maxFailedReconnects,
      onStateChange: (state, previous) => this.#announce(state, previous),
    });
    if (options.onStateChange) this.#stateListeners.add(options.onStateChange);
  }

  get state(): ConnectionState {
    return this.#lifecycle.state;
  }

  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  on<Type extends string>(type: Type, handler: PulseEventHandler<DataOf<Type>>): () => void {
    if (this.#handlers.add(type, handler)) this.#connection?.listen(type);

    return () => this.off(type, handler);
  }

  off<Type extends string>(type: Type, handler: PulseEventHandler<DataOf<Type>>): void {
    this.#handlers.remove(type, handler);
  }

  onStateChange(listener: (state: ConnectionState, previous: ConnectionState) => void): () => void {
    this.#stateListeners.add(listener);

    return () => this.#stateListeners.delete(listener);
  }

  /** Listens for a type no handler of this client asked for (a follower tab's). */
  listen(type: string): void {
    this.#extraTypes.add(type);
    this.#connection?.listen(type);
  }

  connect(): void {
    this.#lifecycle.start();
  }

  reconnect(): void {
    this.#closeConnection();
    this.#lifecycle.reconnectNow();
  }

  close(): void {
    this.#closed = true;
    this.#closeConnection();
    this.#lifecycle.stop();
  }

  async #open(): Promise<void> {
    this.#closeConnection();
    const generation = this.#generation;
    let url: string;
    try {
      url = await this.#access.streamUrl(this.#lastEventId);
    } catch {
      if (generation === this.#generation) this.#lifecycle.lost();
      return;
    }
    if (generation !== this.#generation || this.#closed) return;

    const EventSourceClass = this.#options.eventSource ?? globalThis.EventSource;
    const types = [...ALWAYS_LISTENED, ...this.#extraTypes, ...this.#handlers.types()];
    this.#connection = new StreamConnection(
      EventSourceClass,
      url,
      {
        frame: (type, data, lastEventId) => this.#receive(type, data, lastEventId),
        failed: (failure) => this.#failed(generation, failure),
      },
      types,
    );
    this.#watchdog.start();
  }

  #receive(type: string, text: string, lastEventId: string): void {
    this.#watchdog.alive(type === 'heartbeat');
    const frame = parseFrame(text);
    if (!frame) return;

    if (type === 'connected') return this.#greeted(frame);
    if (type === 'heartbeat') return;
    // Control frames carry no id, but a MessageEvent's lastEventId is the stream's last event
    // ID buffer, which outlives the frame that set it (HTML standard, "dispatch the event").
    const controlFrame = type === 'auth:expiring' || type === 'auth:expired';
    const id = controlFrame || lastEventId === '' ? undefined : lastEventId;
    if (id !== undefined && !this.#recent.add(id)) return;

    const event: PulseEvent<unknown> = { type, id, timestamp: frame.timestamp, data: frame.data };
    this.#handlers.dispatch(event);
    this.#hooks.delivered?.(event);
    if (id !== undefined) this.#position(id);
    if (type === 'auth:expired') this.#tokenExpired();
  }

  #greeted(frame: ParsedFrame): void {
    const resumeFrom = frame.fields.resumeFrom;
    // A client that has seen no event yet resumes from the stream's starting position, so
    // events emitted while it is away are not lost (Pulse's README, "The stream").
    if (this.#lastEventId === undefined && typeof resumeFrom === 'string') {
      this.#position(resumeFrom);
    }
    this.#lifecycle.opened();
    const { timestamp, fields } = frame;
    this.#handlers.dispatch({ type: 'connected', id: undefined, timestamp, data: fields });
  }

  // Pulse closes the stream right after auth:expired; reconnect at once with a fresh token.
  #tokenExpired(): void {
    this.#access.tokenRefused();
    this.#closeConnection();
    this.#lifecycle.lost({ immediate: true });
  }

  #failed(generation: number, failure: ConnectionFailure): void {
    if (generation !== this.#generation) return;

    // A refusal before the greeting may be the token (a 401); fetch a fresh one next time.
    const greeted = this.#lifecycle.state === ConnectionState.CONNECTED;
    if (failure.status === 401 || (failure.refused && !greeted)) this.#access.tokenRefused();
    this.#drop(generation);
  }

  #drop(generation: number): void {
    if (generation !== this.#generation) return;

    this.#closeConnection();
    this.#lifecycle.lost();
  }

  #position(id: string): void {
    this.#lastEventId = id;
    this.#hooks.positioned?.(id);
  }

  #closeConnection(): void {
    this.#generation += 1;
    this.#watchdog.stop();
    this.#connection?.close();
    this.#connection = undefined;
  }

  #announce(state: ConnectionState, previous: ConnectionState): void {
    for (const listener of [...this.#stateListeners]) listener(state, previous);
  }
}

interface ParsedFrame {
  timestamp: number;
  data: unknown;
  /** The whole JSON object, for frames (the greeting) whose fields are not under `data`. */
  fields: Record<string, unknown>;
}

function parseFrame(text: string): ParsedFrame | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;

  const fields = parsed as Record<string, unknown>;
  const timestamp = typeof fields.timestamp === 'number' ? fields.timestamp : Date.now();

  return { timestamp, data: fields.data ?? {}, fields };
}
