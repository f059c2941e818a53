/**
 * Pulse's client SDK, for browsers and Node: one function, createPulseClient, and its types.
 * It has no dependencies; in Node, pass the `eventsource` package's EventSource.
 */
import type { PulseClient, PulseClientOptions } from './client-api.js';
import { SharedClient } from './shared-client.js';
import { StreamClient } from './stream-client.js';

export type {
  EventSourceConstructor,
  EventSourceLike,
  MessageEventLike,
  PulseClient,
  PulseClientOptions,
} from './client-api.js';
export {
  ConnectionState,
  type AnalyticsBatchData,
  type AuthExpiredData,
  type AuthExpiringData,
  type DataOf,
  type EventData,
  type PulseEvent,
  type PulseEventHandler,
  type PulseEventMap,
  type SyncRequiredData,
} from './event-types.js';
export { StreamRequestError } from './stream-ticket.js';

/**
 * Creates a client and, unless `autoConnect` is false, starts connecting. With
 * `shareAcrossTabs`, the tabs of one origin share a single stream held by an elected leader.
 */
export function createPulseClient(options: PulseClientOptions): PulseClient {
  // Without BroadcastChannel tabs cannot talk, so each keeps its own stream.
  const canShare = options.shareAcrossTabs === true && typeof BroadcastChannel === 'function';
  const client = canShare ? new SharedClient(options) : new StreamClient(options);
  // Connecting starts after this call returns, so `onStateChange` never runs before the app
  // holds the client, and handlers added right after this call miss nothing.
  if (options.autoConnect !== false) queueMicrotask(() => client.connect());

  return client;
}
