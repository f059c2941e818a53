import type { FastifyInstance } from 'fastify';
import { BusUnavailableError } from '../../bus/remote-bus.js';
import { PulseError } from '../../errors.js';
import { requireService } from '../authenticate.js';
import type { AppContext } from '../context.js';
import { SERVICE_AUTH } from '../route-docs.js';
import { checkEmitItem, checkEmitRate, streamsReached } from '../emit-rules.js';

/** Most events one batch may carry. */
export const MAX_BATCH_EVENTS = 500;

// A batch may be larger than one event, but not without bound.
const BATCH_BYTES_PER_EVENT_LIMIT = 4;

const batchSchema = {
  summary: 'Send up to 500 events for any users; each item succeeds or fails on its own',
  security: SERVICE_AUTH,
  body: {
    type: 'object',
    required: ['events'],
    properties: {
      events: { type: 'array', minItems: 1, maxItems: MAX_BATCH_EVENTS, items: {} },
    },
  },
};

/** The outcome of one item, in the order the items came. */
type ItemResult =
  | { index: number; status: 'delivered'; eventId: string; connectionsNotified: number }
  | { index: number; status: 'duplicate'; eventId: string }
  | { index: number; status: 'rejected'; code: string; message: string };

/**
 * `POST /api/events/emit/batch`: an analytics job that updates thousands of users makes a few
 * requests, not thousands. Each item is validated, rate-limited and emitted on its own.
 */
export async function batchRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { events, lifecycle, config } = context;
  const fieldMessages = {
    'body.events': `events must be a list of 1 to ${MAX_BATCH_EVENTS} events`,
  };

  app.post<{ Body: { events: unknown[] } }>(
    '/api/events/emit/batch',
    {
      onRequest: requireService(context),
      bodyLimit: config.maxEventBytes * BATCH_BYTES_PER_EVENT_LIMIT,
      schema: batchSchema,
      config: { fieldMessages },
    },
    async (request) => {
      if (lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');

      // Emits for one user queue behind each other inside EventService, so running the
      // items together keeps each user's events in the order they were listed.
      const results = await Promise.all(
        request.body.events.map((item, index) => emitOne(context, item, index)),
      );
      const failed = results.filter((result) => result.status === 'rejected').length;
      request.log.debug({ items: results.length, failed }, 'batch emitted');

      return { success: true, results };
    },
  );

  async function emitOne(ctx: AppContext, raw: unknown, index: number): Promise<ItemResult> {
    try {
      const item = checkEmitItem(raw, config.maxEventBytes);
      await checkEmitRate(ctx, item.userId);
      const { userId, eventType, data, eventId } = item;

      const result = await events.emit({ userId, type: eventType, data, idempotencyKey: eventId });
      if (result.duplicate) return { index, status: 'duplicate', eventId: result.eventId };

      const connectionsNotified = await streamsReached(ctx, userId, result);
      return { index, status: 'delivered', eventId: result.eventId, connectionsNotified };
    } catch (error) {
      // Redis away: this item was not taken and may be retried; the items before it stand.
      if (error instanceof BusUnavailableError) {
        return { index, status: 'rejected', code: 'BUS_UNAVAILABLE', message: error.message };
      }
      if (!(error instanceof PulseError)) throw error;
      return { index, status: 'rejected', code: error.code, message: error.message };
    }
  }
}
