import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { PulseError } from '../../errors.js';
import { currentUser, requireStreamUser, requireUser } from '../authenticate.js';
import type { Logger } from '../../log.js';
import type { AppContext } from '../context.js';
import {
  refuseStreamIfNeeded,
  resumePoint,
  SERVER_FULL_RETRY_SECONDS,
  startStream,
  streamFilter,
} from '../open-stream.js';
import { describedAs, USER_AUTH } from '../route-docs.js';
import { asksToClose, streamHead } from '../stream-head.js';

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
  const { lifecycle, tickets } = context;

  app.get<{ Querystring: StreamQuery }>(
    '/api/events/stream',
    // A HEAD request would register a stream that nobody can read.
    { onRequest: requireStreamUser(context), exposeHeadRoute: false, schema: streamDoc },
    async (request, reply) => {
      const user = currentUser(request);
      refuseStreamIfNeeded(context, user.id);
      if (!reply.raw.socket && !(await socketAssigned(request.raw, reply.raw))) return;
      const filter = streamFilter(request.query.events);
      const lastEventId = resumePoint(request.headers['last-event-id'], request.query.lastEventId);

      // Headers set by hooks (CORS) are carried over by hand. Built before the hijack, so a
      // header that cannot be written is still answered (500) by Fastify.
      const chunked = request.raw.httpVersion !== '1.0';
      const close = asksToClose(request.headers.connection);
      const head = streamHead(reply.getHeaders() as OutgoingHttpHeaders, { chunked, close });

      // From here on the connection is the stream's, not Fastify's or Node's: it stays open,
      // is never buffered or compressed, and closes when the stream ends.
      reply.hijack();
      releaseFastifyListeners(reply.raw);
      const connection = { socket: request.raw.socket, head, chunked };
      const log = request.log as Logger;
      await startStream(context, connection, { user, lastEventId, filter }, log);
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
