import { PulseError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AppContext } from './context.js';
import { checkEmitRate, checkEventData, streamsReached, type EmitItem } from './emit-rules.js';

/** What `POST /api/events/emit` answers when it accepts an event. */
export interface EmitAnswer {
  success: true;
  message: string;
  userId: string;
  eventType: string;
  eventId: string;
  connectionsNotified: number;
  connectionsScope: 'instance' | 'cluster';
  hasActiveConnections: boolean;
  duplicate: boolean;
  batchSize?: number;
}

/**
 * Emits one event whose body has passed the schema, with the checks a schema cannot make:
 * shutdown, nesting, analytics batch size, idempotency, rate limits. Both ways into `/emit`
 * (the Fastify route and the emit front) call this, so they answer alike. Throws PulseError.
 */
export async function emitEvent(
  context: AppContext,
  item: EmitItem,
  keyHeader: string | string[] | undefined,
  log: Logger,
): Promise<EmitAnswer> {
  if (context.lifecycle.shuttingDown) throw new PulseError('SHUTTING_DOWN');

  const { eventType, data } = item;
  const userId = item.userId.toLowerCase();
  const batchSize = checkEventData(data);
  const idempotencyKey = idempotencyKeyOf(item, keyHeader);
  await checkEmitRate(context, userId);

  const result = await context.events.emit({ userId, type: eventType, data, idempotencyKey });
  // Spreading the result costs an object per emit; only pay for it when the line is written.
  if (log.isLevelEnabled('debug')) log.debug({ userId, eventType, ...result }, 'event emitted');
  const connectionsNotified = await streamsReached(context, userId, result);
  const { cluster, hub } = context;

  return {
    success: true,
    message: result.duplicate ? 'Duplicate event ignored' : 'Event emitted successfully',
    userId,
    eventType,
    eventId: result.eventId,
    connectionsNotified,
    connectionsScope: cluster ? 'cluster' : 'instance',
    hasActiveConnections: cluster ? connectionsNotified > 0 : hub.countFor(userId) > 0,
    duplicate: result.duplicate,
    ...(batchSize === undefined ? {} : { batchSize }),
  };
}

function idempotencyKeyOf(
  item: EmitItem,
  keyHeader: string | string[] | undefined,
): string | undefined {
  const fromHeader = typeof keyHeader === 'string' ? keyHeader : undefined;
  const fromBody = item.eventId;

  if (fromHeader !== undefined && fromBody !== undefined && fromHeader !== fromBody) {
    throw new PulseError('VALIDATION_FAILED', 'eventId and Idempotency-Key disagree');
  }

  return fromBody ?? fromHeader;
}
