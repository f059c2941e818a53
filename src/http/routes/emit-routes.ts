import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PulseError } from '../../errors.js';
import { requireService } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { MAX_DATA_DEPTH, nestsDeeperThan } from '../json-depth.js';

/** Most items an analytics batch may carry in `data.analytics`. */
export const MAX_ANALYTICS_ITEMS = 50;

/** Event types that Pulse itself sends on streams; emitters may not forge them. */
export const RESERVED_EVENT_TYPES = [
  'connected',
  'heartbeat',
  'sync:required',
  'auth:expiring',
  'auth:expired',
];

const IDEMPOTENCY_KEY = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[\\x21-\\x7e]+$',
};

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
      eventId: IDEMPOTENCY_KEY,
    },
  },
  headers: {
    type: 'object',
    properties: { 'idempotency-key': IDEMPOTENCY_KEY },
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
        hasActiveConnections: { type: 'boolean' },
        duplicate: { type: 'boolean' },
        batchSize: { type: 'integer' },
      },
    },
  },
};

const fieldMessages = {
  'body.userId': 'userId must be 24 hexadecimal characters',
  'body.eventType':
    'eventType must be 1 to 64 characters of A-Z a-z 0-9 : _ . - and not a reserved type ' +
    `(${RESERVED_EVENT_TYPES.join(', ')})`,
  'body.data': 'data must be a JSON object',
  'body.eventId': 'eventId must be 1 to 128 printable ASCII characters without spaces',
  'headers.idempotency-key':
    'Idempotency-Key must be 1 to 128 printable ASCII characters without spaces',
};

interface EmitBody {
  userId: string;
  eventType: string;
  data: Record<string, unknown>;
  eventId?: string;
}

/** The emit route for backend services. */
export async function emitRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { events, hub, lifecycle } = context;

  app.post<{ Body: EmitBody }>(
    '/api/events/emit',
    {
      onRequest: requireService(context),
      bodyLimit: context.config.maxEventBytes,
      schema: emitSchema,
      config: { fieldMessages },
    },
    async (request) => {
      if (lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');
      const { eventType, data } = request.body;
      const userId = request.body.userId.toLowerCase();
      const batchSize = checkData(data);
      const idempotencyKey = idempotencyKeyOf(request);
      checkEmitRate(context, userId);

      const result = await events.emit({ userId, type: eventType, data, idempotencyKey });
      request.log.debug({ userId, eventType, ...result }, 'event emitted');

      return {
        success: true,
        message: result.duplicate ? 'Duplicate event ignored' : 'Event emitted successfully',
        userId,
        eventType,
        eventId: result.eventId,
        connectionsNotified: result.connectionsNotified,
        hasActiveConnections: hub.countFor(userId) > 0,
        duplicate: result.duplicate,
        ...(batchSize === undefined ? {} : { batchSize }),
      };
    },
  );
}

// Checks what the schema cannot say; returns the analytics batch size, if it is one.
function checkData(data: Record<string, unknown>): number | undefined {
  if (nestsDeeperThan(data, MAX_DATA_DEPTH)) {
    throw new PulseError('VALIDATION_FAILED', `data may nest at most ${MAX_DATA_DEPTH} levels`);
  }

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

function idempotencyKeyOf(request: FastifyRequest<{ Body: EmitBody }>): string | undefined {
  const header = request.headers['idempotency-key'];
  const fromHeader = typeof header === 'string' ? header : undefined;
  const fromBody = request.body.eventId;

  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw new PulseError('VALIDATION_FAILED', 'eventId and Idempotency-Key disagree');
  }

  return fromBody ?? fromHeader;
}

// There is one service token, so the service-wide limit has one key.
function checkEmitRate(context: AppContext, userId: string): void {
  const { total, perUser } = context.emitLimits;

  for (const decision of [total.hit('service'), perUser.hit(userId)]) {
    if (decision.allowed) continue;
    throw new PulseError('RATE_LIMITED', undefined, {
      'Retry-After': String(decision.retryAfterSeconds),
    });
  }
}
