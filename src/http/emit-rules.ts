import { Ajv } from 'ajv';
import type { EmitResult } from '../core/event-service.js';
import { PulseError } from '../errors.js';
import type { AppContext } from './context.js';
import { MAX_DATA_DEPTH, nestsDeeperThan } from './json-depth.js';
import { describeSchemaError } from './schema-errors.js';

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

/** Where backend services post one event. */
export const EMIT_PATH = '/api/events/emit';

/** An emitter's idempotency key: printable ASCII without spaces. */
export const IDEMPOTENCY_KEY_SCHEMA = {
  type: 'string',
  minLength: 1,
  maxLength: 128,
  pattern: '^[\\x21-\\x7e]+$',
};

/** One event as an emitter posts it, to `/emit` or as an item of `/emit/batch`. */
export const EMIT_ITEM_SCHEMA = {
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
    eventId: IDEMPOTENCY_KEY_SCHEMA,
  },
};

const KEY_RULE = '1 to 128 printable ASCII characters without spaces';

/** Plain-language messages for schema failures, keyed by `<part>.<field>`. */
export const EMIT_FIELD_MESSAGES: Record<string, string> = {
  'body.userId': 'userId must be 24 hexadecimal characters',
  'body.eventType':
    'eventType must be 1 to 64 characters of A-Z a-z 0-9 : _ . - and not a reserved type ' +
    `(${RESERVED_EVENT_TYPES.join(', ')})`,
  'body.data': 'data must be a JSON object',
  'body.eventId': `eventId must be ${KEY_RULE}`,
  'headers.idempotency-key': `Idempotency-Key must be ${KEY_RULE}`,
};

/** One event, checked. */
export interface EmitItem {
  userId: string;
  eventType: string;
  data: Record<string, unknown>;
  eventId?: string;
}

/**
 * Checks what a schema cannot say: how deep `data` nests and how long an analytics batch is.
 * Returns the analytics batch size, when `data.analytics` is an array.
 */
export function checkEventData(data: Record<string, unknown>): number | undefined {
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

/** Counts an emit against the service-wide and per-user limits; throws RATE_LIMITED past them. */
export async function checkEmitRate(context: AppContext, userId: string): Promise<void> {
  const { total, perUser } = context.emitLimits;

  // The user's own limit first: one flooded user must not use up the service-wide budget.
  // There is one service token, so the service-wide limit has one key.
  const decision = await perUser.hit(userId);
  const overall = decision.allowed ? await total.hit('service') : decision;
  if (overall.allowed) return;

  throw new PulseError('RATE_LIMITED', undefined, {
    'Retry-After': String(overall.retryAfterSeconds),
  });
}

const itemValidator = new Ajv({ allErrors: false }).compile<EmitItem>(EMIT_ITEM_SCHEMA);

/**
 * Checks a parsed event against the schema of `/emit`'s body, and words a failure as the route
 * does. Throws VALIDATION_FAILED.
 */
export function checkEmitBody(value: unknown): EmitItem {
  if (itemValidator(value)) return value;

  const message = describeSchemaError(itemValidator.errors?.[0], 'body', EMIT_FIELD_MESSAGES);
  throw new PulseError('VALIDATION_FAILED', message);
}

/**
 * Checks one item of a batch on its own, with the same rules and messages as `/emit`, so that
 * one bad item is reported without sinking the others.
 */
export function checkEmitItem(value: unknown, maxEventBytes: number): EmitItem {
  const item = checkEmitBody(value);
  checkEventData(item.data);
  if (JSON.stringify(item).length > maxEventBytes) {
    throw new PulseError('PAYLOAD_TOO_LARGE', `An event may be at most ${maxEventBytes} bytes`);
  }

  return { ...item, userId: item.userId.toLowerCase() };
}

/**
 * How many streams an emit reached. One instance knows what it wrote; on Redis the event is
 * delivered when the bus brings it back, so the answer is the streams the cluster holds for
 * the user. A duplicate reached none.
 */
export async function streamsReached(
  context: AppContext,
  userId: string,
  result: EmitResult,
): Promise<number> {
  if (!context.cluster || result.duplicate) return result.connectionsNotified;

  return context.cluster.countFor(userId);
}
