import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseEventFilter, type EventFilter } from '../../core/event-filter.js';
import { BusUnavailableError } from '../../bus/remote-bus.js';
import { PulseError } from '../../errors.js';
import { STREAM_HEADERS } from '../../sse.js';
import { currentUser, requireStreamUser, requireUser } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { describedAs, USER_AUTH } from '../route-docs.js';

// Longer ids than this are not ours; refuse them before they reach a log or a query.
const MAX_LAST_EVENT_ID_LENGTH = 64;

// Spread the retries of clients turned away from a full server over a few seconds.
const SERVER_FULL_RETRY_SECONDS = 5;

const streamDoc = {
  ...describedAs('The event stream (text/event-stream)', USER_AUTH),
  description:
    'Server-Sent Events. Resume with the Last-Event-ID header or lastEventId; filter with ' +
    'events=a,b,prefix:*; authenticate with a Bearer JWT, token=<jwt> or ticket=<ticket>.',
  querystring: {
    type: 'object',
    properties: {
      token: { type: 'string' },
      ticket: { type: 'string' },
      lastEventId: { type: 'string' },
      events: { type: 'string' },
    },
  },
};

interface StreamQuery {
  events?: string;
  lastEventId?: string;
}

/** The event stream, and the tickets that open it without a JWT in the URL. */
export async function streamRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { events, lifecycle, tickets } = context;

  app.get<{ Querystring: StreamQuery }>(
    '/api/events/stream',
    // A HEAD request would register a stream that nobody can read.
    { onRequest: requireStreamUser(context), exposeHeadRoute: false, schema: streamDoc },
    async (request, reply) => {
      if (lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');
      if (context.bus && !context.bus.ready()) throw new BusUnavailableError();
      const user = currentUser(request);
      checkStreamLimits(context, user.id);
      if (!reply.raw.socket && !(await socketAssigned(request.raw, reply.raw))) return;
      const filter = eventFilter(request.query.events);
      const lastEventId = lastEventIdOf(request);

      // From here on the response is ours, not Fastify's: it stays open and is never buffered
      // or compressed. Headers set by hooks (CORS) are carried over by hand.
      reply.hijack();
      releaseFastifyListeners(reply.raw);
      request.raw.socket.setNoDelay(true);
      const hookHeaders = reply.getHeaders() as OutgoingHttpHeaders;
      // The head leaves with the first frame (`connected`), in the same write.
      reply.raw.writeHead(200, { ...hookHeaders, ...STREAM_HEADERS });

      try {
        const stream = await events.openStream(reply.raw, {
          userId: user.id,
          tokenExpiresAt: user.tokenExpiresAt,
          lastEventId,
          filter,
        });
        if (stream.closed) return;
        const resumed = lastEventId !== undefined;
        request.log.info({ userId: user.id, streamId: stream.id, resumed }, 'stream opened');

        // The account may have been deleted while this stream was being set up, after the
        // delete ended the user's other streams: look once more, now that it is registered.
        if (!(await context.store.findById(user.id))) stream.close('user_deleted');
      } catch (error) {
        request.log.error({ userId: user.id, err: error }, 'stream failed to open');
        reply.raw.destroy();
      }
    },
  );

  app.post(
    '/api/events/ticket',
    {
      onRequest: requireUser(context),
      schema: describedAs('A single-use stream ticket', USER_AUTH),
    },
    async (request) => {
      if (lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');
      const user = currentUser(request);
      const ticket = await tickets.issue({ userId: user.id, tokenExpiresAt: user.tokenExpiresAt });
      if (ticket === 'user-limit') {
        throw new PulseError('RATE_LIMITED', 'Too many outstanding stream tickets', {
          'Retry-After': String(tickets.lifetimeSeconds),
        });
      }
      if (ticket === 'full') {
        throw new PulseError('SERVER_FULL', 'Too many stream tickets are outstanding', {
          'Retry-After': String(SERVER_FULL_RETRY_SECONDS),
        });
      }

      return { success: true, ticket, expiresIn: tickets.lifetimeSeconds };
    },
  );
}

function checkStreamLimits(context: AppContext, userId: string): void {
  const { maxStreamsPerUser, maxConnections } = context.config;
  const { hub } = context;

  if (maxConnections > 0 && hub.totalConnections >= maxConnections) {
    throw new PulseError('SERVER_FULL', undefined, {
      'Retry-After': String(SERVER_FULL_RETRY_SECONDS),
    });
  }
  if (maxStreamsPerUser > 0 && hub.countFor(userId) >= maxStreamsPerUser) {
    throw new PulseError(
      'TOO_MANY_STREAMS',
      `A user may hold at most ${maxStreamsPerUser} streams at once`,
    );
  }
}

function eventFilter(text: unknown): EventFilter {
  if (text !== undefined && typeof text !== 'string') {
    throw new PulseError('VALIDATION_FAILED', 'events may be given once');
  }
  const filter = parseEventFilter(text);
  if (typeof filter === 'string') throw new PulseError('VALIDATION_FAILED', filter);

  return filter;
}

// Browsers' EventSource sends `Last-Event-ID` on its own reconnects; a page that opens a new
// EventSource passes `?lastEventId=` instead. The header wins.
function lastEventIdOf(request: FastifyRequest<{ Querystring: StreamQuery }>): string | undefined {
  const header = request.headers['last-event-id'];
  const value = typeof header === 'string' && header !== '' ? header : request.query.lastEventId;
  if (value === undefined || value === '') return undefined;

  if (typeof value !== 'string' || value.length > MAX_LAST_EVENT_ID_LENGTH) {
    throw new PulseError('VALIDATION_FAILED', 'lastEventId is not a valid event id');
  }

  return value;
}

// Fastify listens for the end of every response (for its onResponse hooks) with a closure that
// holds its Request, Reply and per-request logger. A stream's end is handled by its own close
// path, so letting go of that closure frees about 1 KiB of heap per open stream. Found by its
// name: should a Fastify release rename it, nothing breaks, streams just keep that kilobyte.
function releaseFastifyListeners(response: ServerResponse): void {
  for (const event of ['finish', 'error'] as const) {
    for (const listener of response.listeners(event)) {
      if (listener.name === 'onResFinished') response.off(event, listener as () => void);
    }
  }
}

// A request pipelined behind another on the same connection gets its response's socket only
// once the answers before it are sent. Resolves false if the connection closes first.
function socketAssigned(request: IncomingMessage, response: ServerResponse): Promise<boolean> {
  const connection = request.socket;
  if (connection.destroyed) return Promise.resolve(false);

  return new Promise((resolve) => {
    const settle = (assigned: boolean) => {
      response.off('socket', onSocket);
      connection.off('close', onClose);
      resolve(assigned);
    };
    const onSocket = () => settle(true);
    const onClose = () => settle(false);
    response.once('socket', onSocket);
    connection.once('close', onClose);
  });
}
