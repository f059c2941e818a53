import type { ClientStream } from './client-stream.js';
import { authExpiredFrame, authExpiringFrame } from './control-frames.js';
import type { Deadlines } from './deadlines.js';
import type { Hub } from './hub.js';

/** When a stream's token runs out, and how long before that to warn. */
export interface TokenExpiry {
  /** Milliseconds since the epoch. */
  expiresAt: number;
  noticeMs: number;
}

/**
 * Warns a stream with `auth:expiring` ahead of its token's `exp`, so the client can fetch a
 * fresh token and reconnect without a gap, then sends `auth:expired` and closes it at `exp`.
 * Both deadlines are cancelled if the stream ends first.
 */
export function scheduleTokenExpiry(
  stream: ClientStream,
  hub: Hub,
  deadlines: Deadlines,
  expiry: TokenExpiry,
): void {
  const { expiresAt, noticeMs } = expiry;

  const notice = deadlines.schedule(Math.max(Date.now(), expiresAt - noticeMs), () => {
    hub.sendTo(stream, authExpiringFrame(expiresAt));
  });
  const expired = deadlines.schedule(expiresAt, () => {
    hub.sendTo(stream, authExpiredFrame(expiresAt));
    stream.close('token_expired');
  });

  stream.cleanups.push(() => {
    deadlines.cancel(notice);
    deadlines.cancel(expired);
  });
}
