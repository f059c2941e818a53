import type { PulseClient, PulseClientOptions } from './client-api.js';
import {
  ConnectionState,
  type DataOf,
  type PulseEvent,
  type PulseEventHandler,
} from './event-types.js';
import { HandlerRegistry } from './handler-registry.js';
import { RecentIds } from './recent-ids.js';
import { KNOWN_TYPES, StreamClient } from './stream-client.js';
import { electLeader, type Election } from './tab-election.js';

/** What tabs tell each other over the BroadcastChannel. */
type RelayMessage =
  | { kind: 'event'; event: PulseEvent<unknown> }
  | { kind: 'position'; id: string }
  | { kind: 'state'; state: ConnectionState }
  | { kind: 'types'; types: string[] }
  | { kind: 'reconnect' };

type StateListener = (state: ConnectionState, previous: ConnectionState) => void;

/**
 * A client that shares one stream among the tabs of an origin. The elected leader tab runs a
 * StreamClient and relays every event, its resume position and its state to the other tabs;
 * each tab hands events to its own handlers after its own de-duplication. A tab that becomes
 * leader resumes from the last position it heard, so a handover loses and repeats nothing.
 */
export class SharedClient implements PulseClient {
  readonly #options: PulseClientOptions;
  readonly #handlers: HandlerRegistry;
  readonly #recent = new RecentIds();
  readonly #stateListeners = new Set<StateListener>();
  readonly #announcedTypes = new Set<string>();
  readonly #name: string;
  #channel: BroadcastChannel | undefined;
  #election: Election | undefined;
  #leader: StreamClient | undefined;
  #state: ConnectionState = ConnectionState.NOT_INITIALIZED;
  #lastEventId: string | undefined;
  #closed = false;

  constructor(options: PulseClientOptions) {
    this.#options = options;
    this.#handlers = new HandlerRegistry(options.onHandlerError);
    this.#lastEventId = options.lastEventId;
    this.#name = options.channelName ?? `pulse:${options.baseUrl}`;
    if (options.onStateChange) this.#stateListeners.add(options.onStateChange);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  get lastEventId(): string | undefined {
    return this.#lastEventId;
  }

  get isLeader(): boolean {
    return this.#leader !== undefined;
  }

  on<Type extends string>(type: Type, handler: PulseEventHandler<DataOf<Type>>): () => void {
    if (this.#handlers.add(type, handler)) {
      this.#leader?.listen(type);
      this.#post({ kind: 'types', types: [type] });
    }

    return () => this.off(type, handler);
  }

  off<Type extends string>(type: Type, handler: PulseEventHandler<DataOf<Type>>): void {
    this.#handlers.remove(type, handler);
  }

  onStateChange(listener: StateListener): () => void {
    this.#stateListeners.add(listener);

    return () => this.#stateListeners.delete(listener);
  }

  connect(): void {
    if (this.#closed || this.#channel) return;

    this.#channel = new BroadcastChannel(this.#name);
    this.#channel.onmessage = (event: MessageEvent<RelayMessage>) => this.#hear(event.data);
    this.#setState(ConnectionState.CONNECTING);
    // Announcing our types also asks a sitting leader for its state and position.
    this.#post({ kind: 'types', types: this.#handlers.types() });
    this.#election = electLeader(`${this.#name}:leader`, {
      elected: () => this.#lead(),
      deposed: () => this.#follow(),
    });
  }

  reconnect(): void {
    if (this.#leader) this.#leader.reconnect();
    else this.#post({ kind: 'reconnect' });
  }

  close(): void {
    if (this.#closed) return;

    this.#closed = true;
    this.#follow();
    this.#election?.resign();
    this.#channel?.close();
    this.#channel = undefined;
    this.#setState(ConnectionState.DISCONNECTED);
  }

  #lead(): void {
    if (this.#closed || this.#leader) return;

    const types = [...KNOWN_TYPES, ...this.#handlers.types(), ...this.#announcedTypes];
    const leader = new StreamClient(
      { ...this.#options, lastEventId: this.#lastEventId, onStateChange: undefined },
      {
        extraTypes: types,
        delivered: (event) => {
          this.#deliver(event);
          this.#post({ kind: 'event', event });
        },
        positioned: (id) => {
          this.#lastEventId = id;
          this.#post({ kind: 'position', id });
        },
      },
    );
    leader.onStateChange((state) => {
      this.#setState(state);
      this.#post({ kind: 'state', state });
    });
    this.#leader = leader;
    leader.connect();
  }

  #follow(): void {
    this.#leader?.close();
    this.#leader = undefined;
  }

  #hear(message: RelayMessage): void {
    if (this.#closed) return;

    switch (message.kind) {
      case 'event':
        return this.#deliver(message.event);
      case 'position':
        if (!this.#leader) this.#lastEventId = message.id;
        return;
      case 'state':
        if (!this.#leader) this.#setState(message.state);
        return;
      case 'types':
        return this.#welcome(message.types);
      case 'reconnect':
        return this.#leader?.reconnect();
    }
  }

  // A tab announced the types it handles: listen for them, and tell it where the stream is.
  #welcome(types: string[]): void {
    for (const type of types) this.#announcedTypes.add(type);
    const leader = this.#leader;
    if (!leader) return;

    for (const type of types) leader.listen(type);
    this.#post({ kind: 'state', state: leader.state });
    if (leader.lastEventId !== undefined) this.#post({ kind: 'position', id: leader.lastEventId });
  }

  #deliver(event: PulseEvent<unknown>): void {
    if (event.id !== undefined && !this.#recent.add(event.id)) return;

    this.#handlers.dispatch(event);
    if (event.id !== undefined) this.#lastEventId = event.id;
  }

  #post(message: RelayMessage): void {
    this.#channel?.postMessage(message);
  }

  #setState(state: ConnectionState): void {
    const previous = this.#state;
    if (state === previous) return;

    this.#state = state;
    for (const listener of [...this.#stateListeners]) listener(state, previous);
  }
}
