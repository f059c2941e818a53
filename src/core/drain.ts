import { encodeRetry } from '../sse.js';
import type { ClientStream } from './client-stream.js';

// How often the drain closes its next slice of streams.
const DRAIN_TICK_MS = 25;

/** Shortest reconnection delay suggested to a client on shutdown. */
export const MIN_RETRY_HINT_MS = 500;

/**
 * Ends streams for a shutdown without a thundering herd: each stream gets a random `retry:`
 * hint (the reconnection delay EventSource honours, HTML "Server-sent events", "retry" field),
 * and the streams are closed in random order, spread evenly over `windowMs`. Thousands of
 * clients thus come back over several seconds, not in one. One timer drives the whole drain.
 */
export function drainStreams(streams: ClientStream[], windowMs: number): Promise<void> {
  const order = shuffle(streams.filter((stream) => !stream.closed));
  for (const stream of order) {
    stream.write(encodeRetry(MIN_RETRY_HINT_MS + Math.random() * windowMs));
  }
  if (order.length === 0) return Promise.resolve();

  const startedAt = Date.now();
  let closed = 0;

  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const share = Math.min(1, (Date.now() - startedAt) / Math.max(windowMs, 1));
      const due = Math.ceil(order.length * share);
      while (closed < due) order[closed++]!.close('shutdown');

      if (closed >= order.length) {
        clearInterval(timer);
        resolve();
      }
    }, DRAIN_TICK_MS);
  });
}

function shuffle<T>(items: T[]): T[] {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other]!, items[index]!];
  }

  return items;
}
