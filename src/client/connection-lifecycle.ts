import { reconnectDelay } from './backoff.js';
import { ConnectionState } from './event-types.js';

/** Reconnect attempts in a row that may fail before the client stops in ERROR. */
export const MAX_FAILED_RECONNECTS = 10;

/** How long a connection must stay open before the backoff starts again from 1 second. */
export const HEALTHY_AFTER_MS = 5000;

/** What the lifecycle drives, and how. */
export interface LifecycleOptions {
  /** Starts one connection attempt; its outcome comes back through `opened` or `lost`. */
  connect: () => void;
  onStateChange?: (state: ConnectionState, previous: ConnectionState) => void;
  maxFailedReconnects?: number;
  healthyAfterMs?: number;
  /** Source of jitter, in [0, 1). */
  random?: () => number;
}

/**
 * The connection state machine, apart from any network: NOT_INITIALIZED → CONNECTING →
 * CONNECTED → DISCONNECTED → RECONNECTING, and ERROR after `maxFailedReconnects` attempts in a
 * row fail. ERROR is final until `reconnectNow()`: a client that keeps failing says so through
 * its state instead of retrying quietly forever.
 */
export class ConnectionLifecycle {
  readonly #options: LifecycleOptions;
  #state: ConnectionState = ConnectionState.NOT_INITIALIZED;
  #failedReconnects = 0;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #healthyTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #nextDelayMs: number | undefined;

  constructor(options: LifecycleOptions) {
    this.#options = options;
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Reconnect attempts made since the last healthy connection. */
  get failedReconnects(): number {
    return this.#failedReconnects;
  }

  /** The delay before the pending reconnect attempt, while one is scheduled. */
  get nextDelayMs(): number | undefined {
    return this.#nextDelayMs;
  }

  /** Makes the first attempt. */
  start(): void {
    if (this.#stopped || this.#state !== ConnectionState.NOT_INITIALIZED) return;

    this.#set(ConnectionState.CONNECTING);
    this.#options.connect();
  }

  /** The server greeted the connection. */
  opened(): void {
    if (this.#stopped) return;

    this.#clearTimers();
    this.#set(ConnectionState.CONNECTED);
    this.#healthyTimer = setTimeout(() => {
      this.#healthyTimer = undefined;
      this.#failedReconnects = 0;
    }, this.#options.healthyAfterMs ?? HEALTHY_AFTER_MS);
  }

  /**
   * The connection, or the attempt to make one, ended. Schedules the next attempt after the
   * backoff delay, or at once with `immediate` (a token refresh); both count as attempts, so a
   * server that refuses every reconnect still leads to ERROR.
   */
  lost(options: { immediate?: boolean } = {}): void {
    if (this.#stopped || this.#state === ConnectionState.ERROR) return;
    if (this.#state === ConnectionState.NOT_INITIALIZED) return;

    this.#clearTimers();
    if (this.#state === ConnectionState.CONNECTED) this.#set(ConnectionState.DISCONNECTED);
    const limit = this.#options.maxFailedReconnects ?? MAX_FAILED_RECONNECTS;
    if (this.#failedReconnects >= limit) {
      this.#set(ConnectionState.ERROR);
      return;
    }

    this.#failedReconnects += 1;
    const delay = options.immediate
      ? 0
      : reconnectDelay(this.#failedReconnects, this.#options.random);
    this.#set(ConnectionState.RECONNECTING);
    this.#nextDelayMs = delay;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#nextDelayMs = undefined;
      this.#options.connect();
    }, delay);
  }

  /** A manual reconnect: forgets past failures and tries at once, even from ERROR. */
  reconnectNow(): void {
    if (this.#stopped) return;

    this.#clearTimers();
    this.#failedReconnects = 0;
    this.#set(ConnectionState.CONNECTING);
    this.#options.connect();
  }

  /** Ends the lifecycle for good; no attempt follows. */
  stop(): void {
    if (this.#stopped) return;

    this.#clearTimers();
    this.#set(ConnectionState.DISCONNECTED);
    this.#stopped = true;
  }

  #clearTimers(): void {
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#healthyTimer);
    this.#retryTimer = undefined;
    this.#healthyTimer = undefined;
    this.#nextDelayMs = undefined;
  }

  #set(state: ConnectionState): void {
    const previous = this.#state;
    if (state === previous) return;

    this.#state = state;
    this.#options.onStateChange?.(state, previous);
  }
}
