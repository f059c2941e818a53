import type { FastifyInstance } from 'fastify';
import { PulseError } from '../../errors.js';
import { addDays, daysBetween, END_OF_TIME } from '../../health/calendar.js';
import { metricsDeleted, metricsUpdated } from '../../health/health-events.js';
import { METRIC_NAMES, METRIC_RULES, type MetricPatch } from '../../health/metric-fields.js';
import { currentUser, requireUser } from '../authenticate.js';
import type { AppContext } from '../context.js';
import {
  checkCalendarDate,
  checkDate,
  DATE_MESSAGE,
  DATE_SCHEMA,
  refuseUnknownFields,
  valueMessages,
  valuesBodySchema,
} from '../health-rules.js';
import { USER_AUTH } from '../route-docs.js';

/** The longest range one read may ask for, and the most days a read without `from` returns. */
export const MAX_READ_DAYS = 366;
const DEFAULT_LATEST_DAYS = 31;

const dateParams = { type: 'object', required: ['date'], properties: { date: DATE_SCHEMA } };

const putSchema = {
  summary: "Create or update the caller's metrics of one day",
  description: 'Fields left out keep their value; null clears one; unknown fields are refused.',
  security: USER_AUTH,
  params: dateParams,
  body: valuesBodySchema(METRIC_RULES),
};

const readSchema = {
  summary: "Read the caller's days: a date range, or the latest days",
  security: USER_AUTH,
  querystring: {
    type: 'object',
    properties: {
      from: DATE_SCHEMA,
      to: DATE_SCHEMA,
      // A query string is text, and Pulse's schemas do not coerce types.
      limit: { type: 'string', pattern: '^\\d{1,3}$' },
    },
  },
};

const deleteSchema = {
  summary: "Delete the caller's metrics of one day",
  security: USER_AUTH,
  params: dateParams,
};

const fieldMessages = {
  ...valueMessages(METRIC_RULES),
  'params.date': `date ${DATE_MESSAGE}`,
  'querystring.from': `from ${DATE_MESSAGE}`,
  'querystring.to': `to ${DATE_MESSAGE}`,
  'querystring.limit': `limit must be a whole number from 1 to ${MAX_READ_DAYS}`,
};

interface ReadQuery {
  from?: string;
  to?: string;
  limit?: string;
}

/**
 * The signed-in user's daily metrics. Each change commits with its event in the outbox and is
 * emitted before the answer (see OutboxRelay): `metrics:updated` with the whole day, or
 * `metrics:deleted`.
 */
export async function metricsRoutes(app: FastifyInstance, context: AppContext): Promise<void> {
  const { metrics } = context.health;
  const { outboxRelay } = context;
  const signedIn = requireUser(context);

  app.put<{ Params: { date: string }; Body: MetricPatch }>(
    '/api/metrics/:date',
    {
      onRequest: signedIn,
      preValidation: refuseUnknownFields(METRIC_NAMES),
      schema: putSchema,
      config: { fieldMessages },
    },
    async (request, reply) => {
      const userId = currentUser(request).id;
      const date = checkDate('date', request.params.date);

      const result = await metrics.writeDays(userId, {
        patches: [{ date, values: request.body }],
        events: (changes) => changes.map((change) => metricsUpdated(change, 'api')),
      });
      const [eventId] = await outboxRelay.deliver(userId, result.queued);

      const change = result.changes[0]!;
      return reply.status(change.created ? 201 : 200).send({
        success: true,
        day: { date, ...change.values },
        created: change.created,
        changed: change.changed,
        goalsReached: change.newlyReached,
        eventId: eventId ?? null,
      });
    },
  );

  app.get<{ Querystring: ReadQuery }>(
    '/api/metrics',
    { onRequest: signedIn, schema: readSchema, config: { fieldMessages } },
    async (request) => {
      const userId = currentUser(request).id;
      const { from, to } = request.query;
      const limit = readLimit(request.query.limit);

      // Without `to`, the latest days are not bounded by today: imported data may be old.
      if (from === undefined) {
        const end = to === undefined ? END_OF_TIME : checkCalendarDate('to', to);
        const days = await metrics.readLatestDays(userId, end, limit ?? DEFAULT_LATEST_DAYS);
        return { success: true, days };
      }
      const days = await metrics.readDays(userId, dateRange(from, to));

      return { success: true, days: limit === undefined ? days : days.slice(0, limit) };
    },
  );

  app.delete<{ Params: { date: string } }>(
    '/api/metrics/:date',
    { onRequest: signedIn, schema: deleteSchema, config: { fieldMessages } },
    async (request) => {
      const userId = currentUser(request).id;
      const date = checkCalendarDate('date', request.params.date);

      const result = await metrics.deleteDay(userId, date, metricsDeleted(date));
      const [eventId] = await outboxRelay.deliver(userId, result.queued);

      return { success: true, deleted: result.deleted, eventId: eventId ?? null };
    },
  );
}

function readLimit(text: string | undefined): number | undefined {
  const limit = text === undefined ? undefined : Number(text);
  if (limit !== undefined && (limit < 1 || limit > MAX_READ_DAYS)) {
    throw new PulseError('VALIDATION_FAILED', fieldMessages['querystring.limit']);
  }

  return limit;
}

// `from` alone reads the longest range allowed from that date on.
function dateRange(from: string, to: string | undefined): { from: string; to: string } {
  const start = checkCalendarDate('from', from);
  const end = to === undefined ? addDays(start, MAX_READ_DAYS - 1) : checkCalendarDate('to', to);
  if (end < start) throw new PulseError('VALIDATION_FAILED', 'to must not be before from');
  if (daysBetween(start, end) >= MAX_READ_DAYS) {
    throw new PulseError('VALIDATION_FAILED', `a range may span at most ${MAX_READ_DAYS} days`);
  }

  return { from: start, to: end };
}
