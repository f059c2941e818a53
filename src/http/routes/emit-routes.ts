import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PulseError } from '../../errors.js';
import { requireService } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { SERVICE_AUTH } from '../route-docs.js';
import {
  checkEmitRate,
  checkEventData,
  EMIT_FIELD_MESSAGES,
  EMIT_ITEM_SCHEMA,
  IDEMPOTENCY_KEY_SCHEMA,
  streamsReached,
  type EmitItem,
} from '../emit-rules.js';

const emitSchema = {
  summary: 'Send one event to every open stream of a user',
  security: SERVICE_AUTH,
  body: EMIT_ITEM_SCHEMA,
  headers: {
    type: 'object',
    properties: { 'idempotency-key': IDEMPOTENCY_KEY_SCHEMA },
  },
  // A response schema lets Fastify serialize the answer with a compiled function.
  response: {
    200: {
      type: 'object',
      properties: {
        success: { type: 'boolean' },
        message: { type: 'string' },
        userId: { type: 'string' },
        eventType: { type: 'string' },
        eventId: { type: 'string' },
        connectionsNotified: { type: 'integer' },
        connectionsScope: { type: 'string', enum: ['instance', 'cluster'] },
        hasActiveConnections: { type: 'boolean' },
        duplicate: { type: 'boolean' },
        batchSize: { type: 'integer' },
      },
    },
  },
};

/** The emit route for backend services. */
export async function emitRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { events, hub, lifecycle } = context;

  app.post<{ Body: EmitItem }>(
    '/api/events/emit',
    {
      onRequest: requireService(context),
      bodyLimit: context.config.maxEventBytes,
      schema: emitSchema,
      config: { fieldMessages: EMIT_FIELD_MESSAGES },
    },
    async (request) => {
      if (lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');
      const { eventType, data } = request.body;
      const userId = request.body.userId.toLowerCase();
      const batchSize = checkEventData(data);
      const idempotencyKey = idempotencyKeyOf(request);
      await checkEmitRate(context, userId);

      const result = await events.emit({ userId, type: eventType, data, idempotencyKey });
      request.log.debug({ userId, eventType, ...result }, 'event emitted');
      const connectionsNotified = await streamsReached(context, userId, result);

      return {
        success: true,
        message: result.duplicate ? 'Duplicate event ignored' : 'Event emitted successfully',
        userId,
        eventType,
        eventId: result.eventId,
        connectionsNotified,
        connectionsScope: context.cluster ? 'cluster' : 'instance',
        hasActiveConnections: context.cluster ? connectionsNotified > 0 : hub.countFor(userId) > 0,
        duplicate: result.duplicate,
        ...(batchSize === undefined ? {} : { batchSize }),
      };
    },
  );
}

function idempotencyKeyOf(request: FastifyRequest<{ Body: EmitItem }>): string | undefined {
  const header = request.headers['idempotency-key'];
  const fromHeader = typeof header === 'string' ? header : undefined;
  const fromBody = request.body.eventId;

  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw new PulseError('VALIDATION_FAILED', 'eventId and Idempotency-Key disagree');
  }

  return fromBody ?? fromHeader;
}
