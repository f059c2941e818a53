import { electWithBroadcast, type BroadcastElectionTimings } from './broadcast-election.js';

/** A tab's place in an election. */
export interface Election {
  /** Leaves the election: a leader gives up its place, a waiting tab stops waiting. */
  resign(): void;
}

/** What an election tells the tab. */
export interface ElectionCallbacks {
  /** This tab is the leader now. */
  elected(): void;
  /** This tab is no longer the leader (only the BroadcastChannel fallback ever does this). */
  deposed(): void;
}

/** The parts of the Web Locks API (navigator.locks) an election needs. */
interface LockManagerLike {
  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<void>,
  ): Promise<unknown>;
}

/**
 * Joins the election of the tabs sharing `name`. With the Web Locks API, the leader is the tab
 * holding an exclusive lock of that name; the browser grants it to the next waiting tab when
 * the holder releases it or its page goes away ("Web Locks API": locks are released when their
 * agent terminates), so a closed or crashed tab hands over without any message. Without Web
 * Locks, tabs elect over a BroadcastChannel instead.
 */
export function electLeader(
  name: string,
  callbacks: ElectionCallbacks,
  timings?: BroadcastElectionTimings,
): Election {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  if (!locks) return electWithBroadcast(name, callbacks, timings);

  return electWithLock(locks, name, callbacks);
}

function electWithLock(
  locks: LockManagerLike,
  name: string,
  callbacks: ElectionCallbacks,
): Election {
  const waiting = new AbortController();
  let release: (() => void) | undefined;
  let resigned = false;

  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  locks
    .request(name, { signal: waiting.signal }, async () => {
      if (resigned) return;
      callbacks.elected();
      // The lock is held for as long as this promise is pending.
      await held;
    })
    // An aborted request rejects with an AbortError; that is how a waiting tab leaves.
    .catch(() => undefined);

  return {
    resign() {
      resigned = true;
      waiting.abort();
      release?.();
    },
  };
}
