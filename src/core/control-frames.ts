import { encodeFrame, type EncodedFrame } from '../sse.js';

/** Why a resume could not be served from history; sent in `sync:required`. */
export type SyncReason = 'too_old' | 'unknown_id';

const SYNC_MESSAGES: Record<SyncReason, string> = {
  too_old: 'Events after your last event id are no longer in history; reload your state',
  unknown_id: 'Your last event id is not one this server issued; reload your state',
};

// Control frames are about the connection, not events a client resumes from: they carry no
// id, except the two that set the client's position (connected and sync:required).
function control(type: string, fields: Record<string, unknown>, id?: string): EncodedFrame {
  return encodeFrame(type, JSON.stringify({ type, timestamp: Date.now(), ...fields }), id);
}

/** Details of the greeting. */
export interface Greeting {
  userId: string;
  connectionId: string;
  resumed: boolean;
  /** Events replayed in the first page of the replay (at most 100). */
  replayed: number;
  /** True when more pages of replay follow the first. */
  moreToReplay?: boolean;
  lastEventId?: string;
  syncRequired?: boolean;
  /**
   * Where this stream's position starts: a client that sees no event before it reconnects
   * resumes from here, so events emitted while it was away are not lost.
   */
  resumeFrom: string;
}

/**
 * The first frame of every stream. It carries an id, so a browser's EventSource that loses the
 * connection before any event still sends a `Last-Event-ID` on its own reconnect: the stream's
 * starting position for a fresh stream, or the client's own last id for a resume (a drop in
 * the middle of the replay must not skip the rest of it).
 */
export function connectedFrame(greeting: Greeting, id: string): EncodedFrame {
  const { userId, ...rest } = greeting;
  const fields = { userId, message: 'Real-time event stream established', ...rest };

  return control('connected', fields, id);
}

/**
 * Tells the client to reload its state. Its id is the newest id issued when the stream opened,
 * so the client's next reconnect resumes from there instead of asking for a sync again.
 */
export function syncRequiredFrame(
  reason: SyncReason,
  lastEventId: string,
  resumeFrom: string,
): EncodedFrame {
  return control(
    'sync:required',
    { data: { reason, lastEventId, message: SYNC_MESSAGES[reason] } },
    resumeFrom,
  );
}

/** Sent ahead of the token's expiry so the client can fetch a fresh one. */
export function authExpiringFrame(expiresAt: number): EncodedFrame {
  const secondsLeft = Math.max(0, Math.round((expiresAt - Date.now()) / 1000));

  return control('auth:expiring', { data: { expiresAt, secondsLeft } });
}

/** Sent as the token expires, just before the stream is closed. */
export function authExpiredFrame(expiresAt: number): EncodedFrame {
  return control('auth:expired', { data: { expiresAt, message: 'Reconnect with a fresh token' } });
}

/** The heartbeat, shared by every stream in one beat. */
export function heartbeatFrame(): EncodedFrame {
  return control('heartbeat', { data: {} });
}
