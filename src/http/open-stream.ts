import { BusUnavailableError } from '../bus/remote-bus.js';
import type { StreamConnection } from '../core/client-stream.js';
import { parseEventFilter, type EventFilter } from '../core/event-filter.js';
import { PulseError } from '../errors.js';
import type { Logger } from '../log.js';
import type { RequestUser } from './authenticate.js';
import type { AppContext } from './context.js';

// Longer ids than this are not ours; refuse them before they reach a log or a query.
const MAX_LAST_EVENT_ID_LENGTH = 64;

/** Spreads the retries of clients turned away from a full server over a few seconds. */
export const SERVER_FULL_RETRY_SECONDS = 5;

/** What a stream request asks for, once its user is known. */
export interface StreamRequest {
  readonly user: RequestUser;
  readonly lastEventId: string | undefined;
  readonly filter: EventFilter;
}

/**
 * Throws the refusal a new stream of `userId` would get now (shutting down, bus down, server
 * or user at its limit), if any. Both ways into a stream ask this before taking the socket.
 */
export function refuseStreamIfNeeded(context: AppContext, userId: string): void {
  const { config, hub } = context;

  if (context.lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');
  if (context.bus && !context.bus.ready()) throw new BusUnavailableError();
  if (config.maxConnections > 0 && hub.totalConnections >= config.maxConnections) {
    throw new PulseError('SERVER_FULL', undefined, {
      'Retry-After': String(SERVER_FULL_RETRY_SECONDS),
    });
  }
  if (config.maxStreamsPerUser > 0 && hub.countFor(userId) >= config.maxStreamsPerUser) {
    throw new PulseError(
      'TOO_MANY_STREAMS',
      `A user may hold at most ${config.maxStreamsPerUser} streams at once`,
    );
  }
}

/** The `?events=` filter; throws VALIDATION_FAILED when it is not one well-formed list. */
export function streamFilter(text: unknown): EventFilter {
  if (text !== undefined && typeof text !== 'string') {
    throw new PulseError('VALIDATION_FAILED', 'events may be given once');
  }
  const filter = parseEventFilter(text);
  if (typeof filter === 'string') throw new PulseError('VALIDATION_FAILED', filter);

  return filter;
}

/**
 * Where a resume starts. Browsers' EventSource sends `Last-Event-ID` on its own reconnects; a
 * page that opens a new EventSource passes `?lastEventId=` instead. The header wins.
 */
export function resumePoint(header: unknown, query: unknown): string | undefined {
  const value = typeof header === 'string' && header !== '' ? header : query;
  if (value === undefined || value === '') return undefined;

  if (typeof value !== 'string' || value.length > MAX_LAST_EVENT_ID_LENGTH) {
    throw new PulseError('VALIDATION_FAILED', 'lastEventId is not a valid event id');
  }

  return value;
}

/**
 * Turns an admitted request's connection into a stream: the head leaves with the first frame
 * (`connected`), in the same write. Errors are logged and end the connection; nothing throws.
 */
export async function startStream(
  context: AppContext,
  connection: StreamConnection,
  request: StreamRequest,
  log: Logger,
): Promise<void> {
  const { user, lastEventId, filter } = request;
  connection.socket.setNoDelay(true);

  try {
    const stream = await context.events.openStream(connection, {
      userId: user.id,
      tokenExpiresAt: user.tokenExpiresAt,
      lastEventId,
      filter,
    });
    if (stream.closed) return;
    const resumed = lastEventId !== undefined;
    log.info({ userId: user.id, streamId: stream.id, resumed }, 'stream opened');

    // The account may have been deleted while this stream was being set up, after the delete
    // ended the user's other streams. Every deletion, here or on another instance, ends its
    // streams through the hub, which remembers it: no second database lookup is needed.
    if (context.hub.wasDeletedLately(user.id)) stream.close('user_deleted');
  } catch (error) {
    log.error({ userId: user.id, err: error }, 'stream failed to open');
    connection.socket.destroy();
  }
}
