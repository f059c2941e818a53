import type { OutgoingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { PulseError } from '../../errors.js';
import { STREAM_HEADERS } from '../../sse.js';
import { currentUser, requireService, requireUser } from '../authenticate.js';
import type { AppContext } from '../context.js';

/** Most items an analytics batch may carry in `data.analytics`. */
export const MAX_ANALYTICS_ITEMS = 50;

/** Event types that Pulse itself sends on every stream; emitters may not forge them. */
export const RESERVED_EVENT_TYPES = ['connected', 'heartbeat'];

const emitSchema = {
  body: {
    type: 'object',
    required: ['userId', 'eventType', 'data'],
    properties: {
      userId: { type: 'string', pattern: '^[0-9a-fA-F]{24}$' },
      eventType: {
        type: 'string',
        minLength: 1,
        maxLength: 64,
        pattern: '^[A-Za-z0-9:_.-]+$',
        not: { enum: RESERVED_EVENT_TYPES },
      },
      data: { type: 'object' },
    },
  },
};

const fieldMessages = {
  'body.userId': 'userId must be 24 hexadecimal characters',
  'body.eventType':
    'eventType must be 1 to 64 characters of A-Z a-z 0-9 : _ . - and not connected or heartbeat',
  'body.data': 'data must be a JSON object',
};

interface EmitBody {
  userId: string;
  eventType: string;
  data: Record<string, unknown>;
}

/** The stream for browsers and the emit route for backend services. */
export async function eventRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { events, hub, lifecycle } = context;

  app.get('/api/events/stream', { preHandler: requireUser(context) }, async (request, reply) => {
    if (lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');
    const user = currentUser(request);

    // From here on the response is ours, not Fastify's: it stays open and is never buffered
    // or compressed. Headers set by hooks (CORS) are carried over by hand.
    reply.hijack();
    request.raw.socket.setNoDelay(true);
    const hookHeaders = reply.getHeaders() as OutgoingHttpHeaders;
    reply.raw.writeHead(200, { ...hookHeaders, ...STREAM_HEADERS });
    reply.raw.flushHeaders();

    const stream = events.openStream(reply.raw, user.id);
    request.log.info({ userId: user.id, streamId: stream.id }, 'stream opened');
    reply.raw.once('close', () => {
      request.log.info({ userId: user.id, streamId: stream.id }, 'stream closed');
    });
  });

  app.post<{ Body: EmitBody }>(
    '/api/events/emit',
    {
      preHandler: requireService(context),
      bodyLimit: context.config.maxEventBytes,
      schema: emitSchema,
      config: { fieldMessages },
    },
    async (request) => {
      if (lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');
      const { eventType, data } = request.body;
      const userId = request.body.userId.toLowerCase();
      const batchSize = analyticsBatchSize(data);

      const { eventId, connectionsNotified } = events.emit(userId, eventType, data);
      request.log.debug({ userId, eventType, eventId, connectionsNotified }, 'event emitted');

      return {
        success: true,
        message: 'Event emitted successfully',
        userId,
        eventType,
        eventId,
        connectionsNotified,
        hasActiveConnections: hub.countFor(userId) > 0,
        ...(batchSize === undefined ? {} : { batchSize }),
      };
    },
  );
}

function analyticsBatchSize(data: Record<string, unknown>): number | undefined {
  const items = data.analytics;
  if (!Array.isArray(items)) return undefined;

  if (items.length > MAX_ANALYTICS_ITEMS) {
    throw new PulseError(
      'VALIDATION_FAILED',
      `data.analytics may hold at most ${MAX_ANALYTICS_ITEMS} items, got ${items.length}`,
    );
  }

  return items.length;
}
