/**
 * Pulse's emitter SDK for backend services (Node): emit, emitMany and emitAnalytics, each with
 * an idempotency key that is kept across retries, so a retried emit is delivered once.
 */
import { randomUUID } from 'node:crypto';
import { analyticsBatches } from './analytics-batches.js';
import { emitInBatches } from './bulk-emit.js';
import { PulseEmitError } from './emit-error.js';
import type { EmitResult, PulseEmitter, PulseEmitterOptions } from './emitter-types.js';
import { postJson, type PostOptions } from './post-json.js';
import { withRetries, type RetryPolicy } from './with-retries.js';

export { analyticsBatches, MAX_ANALYTICS_ITEMS, type AnalyticsBatch } from './analytics-batches.js';
export { MAX_BATCH_EVENTS } from './bulk-emit.js';
export { PulseEmitError } from './emit-error.js';
export type * from './emitter-types.js';

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_TIMEOUT_MS = 10_000;

/** Creates an emitter that posts to Pulse with the service token. */
export function createPulseEmitter(options: PulseEmitterOptions): PulseEmitter {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(baseUrl)) {
    throw new TypeError(`baseUrl must be an http or https URL, got ${JSON.stringify(baseUrl)}`);
  }
  const post: PostOptions = {
    serviceToken: options.serviceToken,
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
  const policy: RetryPolicy = {
    maxAttempts: Math.max(1, options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS),
  };

  const emit: PulseEmitter['emit'] = async (userId, eventType, data, emitOptions = {}) => {
    const idempotencyKey = emitOptions.eventId ?? randomUUID();
    const body = { userId, eventType, data, eventId: idempotencyKey };
    let attempts = 0;
    const answer = await withRetries(policy, (attempt) => {
      attempts = attempt;
      return postJson(`${baseUrl}/api/events/emit`, body, post);
    });

    return readEmitAnswer(answer, idempotencyKey, attempts);
  };

  return {
    emit,

    emitMany(events) {
      return emitInBatches(`${baseUrl}/api/events/emit/batch`, events, post, policy);
    },

    async emitAnalytics(userId, items, analyticsOptions = {}) {
      const eventType = analyticsOptions.eventType ?? 'analytics:batch_update';
      const key = analyticsOptions.eventId ?? randomUUID();
      const results: EmitResult[] = [];
      // One after the other, so batch 2 never overtakes batch 1.
      for (const batch of analyticsBatches(items)) {
        const eventId = `${key}:${batch.batchIndex}`;
        results.push(await emit(userId, eventType, { ...batch }, { eventId }));
      }

      return results;
    },
  };
}

function readEmitAnswer(
  answer: Record<string, unknown>,
  idempotencyKey: string,
  attempts: number,
): EmitResult {
  const { eventId, connectionsNotified, duplicate } = answer;
  if (typeof eventId !== 'string') {
    throw new PulseEmitError('the emit answer has no eventId', {
      code: 'BAD_RESPONSE',
      retryable: false,
    });
  }

  return {
    eventId,
    idempotencyKey,
    connectionsNotified: typeof connectionsNotified === 'number' ? connectionsNotified : 0,
    duplicate: duplicate === true,
    attempts,
  };
}
