/** A connection counts as dead once nothing arrived for this many heartbeat intervals. */
export const MISSED_HEARTBEATS = 2.5;

/** The server's default `HEARTBEAT_MS`. */
export const DEFAULT_HEARTBEAT_MS = 15_000;

// A measured gap longer than this is a stall, not the server's interval.
const LONGEST_LEARNED_INTERVAL_MS = 5 * 60_000;

/**
 * Declares a connection dead when the server falls silent. A dead TCP connection (a laptop
 * lid closed, a proxy dropping idle sockets) raises no error in EventSource, so silence is the
 * only sign. The interval starts as `heartbeatMs` and grows to the gap measured between two
 * heartbeats when the server beats more slowly than that, so no server setting is needed.
 */
export class HeartbeatWatchdog {
  readonly #heartbeatMs: number;
  readonly #onSilence: () => void;
  #learnedMs = 0;
  #lastHeartbeatAt: number | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(heartbeatMs: number, onSilence: () => void) {
    this.#heartbeatMs = heartbeatMs;
    this.#onSilence = onSilence;
  }

  /** The interval assumed now: the configured one, or the server's when it is longer. */
  get intervalMs(): number {
    return Math.max(this.#heartbeatMs, this.#learnedMs);
  }

  /** Starts watching a new connection. */
  start(): void {
    this.#lastHeartbeatAt = undefined;
    this.#arm();
  }

  /** Something arrived: the connection is alive. `heartbeat` says whether it was a heartbeat. */
  alive(heartbeat: boolean): void {
    if (this.#timer === undefined) return;

    if (heartbeat) this.#learn(Date.now());
    this.#arm();
  }

  /** Stops watching. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #learn(now: number): void {
    const previous = this.#lastHeartbeatAt;
    this.#lastHeartbeatAt = now;
    if (previous === undefined) return;

    const gap = now - previous;
    if (gap <= LONGEST_LEARNED_INTERVAL_MS) this.#learnedMs = gap;
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#onSilence();
    }, this.intervalMs * MISSED_HEARTBEATS);
  }
}
