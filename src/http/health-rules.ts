import type { FastifyRequest } from 'fastify';
import { PulseError } from '../errors.js';
import { addDays, isCalendarDate, todayUtc } from '../health/calendar.js';
import { valueSchema, type ValueRule } from '../health/metric-fields.js';

/**
 * Schemas and checks shared by the metrics, goals and import routes. Fastify's Ajv removes
 * properties a schema does not list instead of refusing them, so unknown fields are refused
 * by a hook that runs before the schema sees the body.
 */

/** The JSON schema of a date in a path or query string. */
export const DATE_SCHEMA = { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' };

/** What a date parameter's refusal says. */
export const DATE_MESSAGE = 'must be a calendar date written YYYY-MM-DD';

/** A body schema of optional values under their rules (null clears one). */
export function valuesBodySchema(rules: Readonly<Record<string, ValueRule>>) {
  const properties = Object.fromEntries(
    Object.entries(rules).map(([name, rule]) => [name, valueSchema(rule)]),
  );

  return { type: 'object', properties, additionalProperties: false };
}

/** Plain-language refusals for each value, keyed as the error handler looks them up. */
export function valueMessages(rules: Readonly<Record<string, ValueRule>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(rules).map(([name, rule]) => {
      const kind = rule.integer ? 'a whole number' : 'a number';
      const range = `from ${rule.minimum} to ${rule.maximum} ${rule.unit}`;
      return [`body.${name}`, `${name} must be ${kind} ${range}, or null to clear it`];
    }),
  );
}

/**
 * Builds a pre-validation hook that refuses a body holding a field outside `allowed` (naming
 * it) or none of them.
 */
export function refuseUnknownFields(allowed: readonly string[]) {
  return async (request: FastifyRequest): Promise<void> => {
    const body = request.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return;

    const keys = Object.keys(body);
    const unknown = keys.find((key) => !allowed.includes(key));
    if (unknown !== undefined) {
      const message = `${unknown} is not a known field; known fields: ${allowed.join(', ')}`;
      throw new PulseError('VALIDATION_FAILED', message);
    }
    if (keys.length === 0) {
      throw new PulseError('VALIDATION_FAILED', `give at least one of ${allowed.join(', ')}`);
    }
  };
}

/** Checks that a date a client gave is a real calendar date (so not 2016-02-30). */
export function checkCalendarDate(field: string, date: string): string {
  if (!isCalendarDate(date)) throw new PulseError('VALIDATION_FAILED', `${field} ${DATE_MESSAGE}`);

  return date;
}

/**
 * Checks the date of a day to write: a real calendar date, and not past tomorrow in UTC (a
 * user ahead of UTC may already live in it). Reads may name any date.
 */
export function checkDate(field: string, date: string, now = Date.now()): string {
  checkCalendarDate(field, date);
  if (date > addDays(todayUtc(now), 1)) {
    throw new PulseError('VALIDATION_FAILED', `${field} must not be in the future`);
  }

  return date;
}
