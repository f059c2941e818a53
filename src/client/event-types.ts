/** The event types Pulse knows, what their `data` holds, and the client's connection states. */

/** `data` of `sync:required`: the resume position was lost, so the app must reload its state. */
export interface SyncRequiredData {
  reason: 'too_old' | 'unknown_id';
  lastEventId: string;
  message: string;
}

/** `data` of `analytics:batch_update`: one slice of a larger set, in order. */
export interface AnalyticsBatchData {
  analytics: unknown[];
  count: number;
  /** 1-based. */
  batchIndex: number;
  totalBatches: number;
  [field: string]: unknown;
}

/** `data` of `auth:expiring`, sent ahead of the token's `exp`. */
export interface AuthExpiringData {
  expiresAt: number;
  secondsLeft: number;
}

/** `data` of `auth:expired`, sent at `exp` just before the server closes the stream. */
export interface AuthExpiredData {
  expiresAt: number;
  message: string;
}

/** What a service emitted: any JSON object. */
export type EventData = Record<string, unknown>;

/** The `data` of each event type Pulse knows; any other type carries `EventData`. */
export interface PulseEventMap {
  'metrics:updated': EventData;
  'metrics:deleted': EventData;
  'goals:updated': EventData;
  'googlefit:synced': EventData;
  'analytics:update': EventData;
  'analytics:batch_update': AnalyticsBatchData;
  'test:event': { message?: string; requestedBy?: string; [field: string]: unknown };
  'sync:required': SyncRequiredData;
  'auth:expiring': AuthExpiringData;
  'auth:expired': AuthExpiredData;
}

/** One event as handed to the app. */
export interface PulseEvent<Data = EventData> {
  type: string;
  /** The server's event id (opaque); absent on control frames without one. */
  id: string | undefined;
  /** When the server built the frame, in milliseconds since the epoch. */
  timestamp: number;
  data: Data;
}

/** A handler for one event type. */
export type PulseEventHandler<Data = EventData> = (event: PulseEvent<Data>) => void;

/** The `data` a handler of `type` receives. */
export type DataOf<Type extends string> = Type extends keyof PulseEventMap
  ? PulseEventMap[Type]
  : EventData;

/** Where the client's connection stands. */
export const ConnectionState = {
  NOT_INITIALIZED: 'NOT_INITIALIZED',
  CONNECTING: 'CONNECTING',
  CONNECTED: 'CONNECTED',
  DISCONNECTED: 'DISCONNECTED',
  RECONNECTING: 'RECONNECTING',
  ERROR: 'ERROR',
} as const;

/** One of the ConnectionState values. */
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** Frames about the connection itself, handled by the client before the app sees them. */
export const CONTROL_TYPES = ['connected', 'heartbeat', 'auth:expiring', 'auth:expired'] as const;
