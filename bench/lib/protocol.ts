/**
 * Messages between the coordinator and its worker processes. They travel over the fork IPC
 * channel with `serialization: 'advanced'`, so typed arrays cross without copying into JSON.
 */

/** How a received event is matched with what was emitted. */
export type KeySource = 'id' | 'seq';

/** Where streams connect, and how their events are keyed. */
export interface StreamTarget {
  readonly port: number;
  readonly path: string;
  /** `id`: the SSE `id:` line is the key (Pulse); `seq`: `data.seq` is (naive, ceiling). */
  readonly keyBy: KeySource;
  /** HS256 secret for user tokens; absent when the server checks none (the ceiling). */
  readonly jwtSecret?: string;
}

/** Opens streams: stream i belongs to `userIds[streamUsers[i]]`. */
export interface OpenCommand {
  readonly kind: 'open';
  readonly target: StreamTarget;
  readonly userIds: readonly string[];
  readonly streamUsers: Int32Array;
  /** A 127.0.0.x source address, so that ephemeral ports do not run short. */
  readonly localAddress: string;
  /** Streams being opened at once by this worker. */
  readonly concurrency: number;
  readonly timeoutMs: number;
}

/** How an open went. Times are `performance.timeOrigin + performance.now()`, comparable. */
export interface OpenReport {
  readonly kind: 'opened';
  readonly opened: number;
  readonly failed: number;
  readonly firstError?: string;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** Every event accepted in a phase: event j went to user `userIndexes[j]` with key `keys[j]`. */
export interface ExpectCommand {
  readonly kind: 'expect';
  readonly userIndexes: Int32Array;
  readonly keys: Float64Array;
  /** Give up waiting when nothing has arrived for this long. */
  readonly idleMs: number;
  readonly timeoutMs: number;
}

/** What one worker's streams received, checked against what was emitted to their users. */
export interface CheckReport {
  readonly kind: 'checked';
  readonly expected: number;
  readonly delivered: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly unexpected: number;
  /** Streams the server closed while they were meant to be open. */
  readonly closedEarly: number;
  readonly lastReceivedAt: number;
  /** A uniform sample of emit-to-receive latencies, in milliseconds. */
  readonly latencies: Float64Array;
  readonly latencyMax: number;
}

/** Closes every stream the worker holds. */
export interface CloseCommand {
  readonly kind: 'close';
}

/** Streams closed. */
export interface ClosedReport {
  readonly kind: 'closed';
  readonly closed: number;
}

/** Emits events through `/emit`: emit j goes to `userIds[targets[j]]`. */
export interface EmitCommand {
  readonly kind: 'emit';
  readonly port: number;
  readonly path: string;
  readonly serviceToken: string;
  readonly userIds: readonly string[];
  readonly targets: Int32Array;
  readonly eventType: string;
  readonly keyBy: KeySource;
  /** The `data.seq` of the first emit; later ones count up. */
  readonly seqStart: number;
  /** Requests in flight at once (closed loop), or the connections available (fixed rate). */
  readonly concurrency: number;
  /** When set, emits are sent on a fixed schedule instead of as fast as answers come. */
  readonly ratePerSecond?: number;
  readonly timeoutMs: number;
}

/** The emits the server accepted, with their keys, and how the phase went. */
export interface EmitReport {
  readonly kind: 'emitted';
  readonly accepted: number;
  readonly rejected: number;
  readonly firstError?: string;
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly userIndexes: Int32Array;
  readonly keys: Float64Array;
  /** The sum of `connectionsNotified` over the answers. */
  readonly notified: number;
  /** Fixed rate only: the worst delay of a send behind its schedule, in milliseconds. */
  readonly maxLagMs: number;
}

/** A worker's answer when a command failed. */
export interface ErrorReport {
  readonly kind: 'error';
  readonly message: string;
}

/** Any command a worker understands. */
export type Command = OpenCommand | ExpectCommand | CloseCommand | EmitCommand;

/** Any answer a worker gives. */
export type Report = OpenReport | CheckReport | ClosedReport | EmitReport | ErrorReport;

/** A command with the number its answer carries back. */
export interface Envelope<T> {
  readonly id: number;
  readonly body: T;
}

/** Now, on a clock that every process on this machine shares, in milliseconds. */
export function sharedNow(): number {
  return performance.timeOrigin + performance.now();
}
