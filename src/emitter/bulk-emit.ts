import { randomUUID } from 'node:crypto';
import { PulseEmitError, RETRYABLE_ITEM_CODES } from './emit-error.js';
import type { BatchEvent, BatchItemResult } from './emitter-types.js';
import type { PostOptions } from './post-json.js';
import { postJson } from './post-json.js';
import { retryDelay } from './retry-delay.js';
import { sleep, withRetries, type RetryPolicy } from './with-retries.js';

/** Most events the batch route takes in one request. */
export const MAX_BATCH_EVENTS = 500;

// Rate limits count in one-second windows; an item refused by one waits for the next.
const RATE_WINDOW_MS = 1000;

type KeyedEvent = BatchEvent & { eventId: string };

/**
 * Sends events over `POST /api/events/emit/batch`, at most 500 a request, in order. A request
 * that fails as a whole is retried; so are the items a rate limit or a restart turned away,
 * with the same keys, so nothing is delivered twice. Other refusals are reported per item.
 */
export async function emitInBatches(
  url: string,
  events: BatchEvent[],
  post: PostOptions,
  policy: RetryPolicy,
): Promise<BatchItemResult[]> {
  const keyed = events.map((event) => ({ ...event, eventId: event.eventId ?? randomUUID() }));
  const results: BatchItemResult[] = [];

  for (let offset = 0; offset < keyed.length; offset += MAX_BATCH_EVENTS) {
    const chunk = keyed.slice(offset, offset + MAX_BATCH_EVENTS);
    const chunkResults = await emitChunk(url, chunk, post, policy);
    results.push(...chunkResults.map((result) => ({ ...result, index: result.index + offset })));
  }

  return results;
}

async function emitChunk(
  url: string,
  chunk: KeyedEvent[],
  post: PostOptions,
  policy: RetryPolicy,
): Promise<BatchItemResult[]> {
  const results: BatchItemResult[] = [];
  let pending = chunk.map((_, index) => index);

  for (let round = 1; pending.length > 0; round += 1) {
    const sent = pending;
    const answer = await withRetries(policy, () =>
      postJson(url, { events: sent.map((index) => chunk[index]) }, post),
    );
    const answered = readResults(answer, sent.length);
    pending = [];
    answered.forEach((result, position) => {
      const index = sent[position]!;
      const idempotencyKey = chunk[index]!.eventId;
      results[index] = { ...result, index, idempotencyKey } as BatchItemResult;
      if (result.status === 'rejected' && RETRYABLE_ITEM_CODES.has(result.code)) {
        pending.push(index);
      }
    });
    if (round >= policy.maxAttempts) break;
    if (pending.length > 0) await sleep(retryDelay(round, RATE_WINDOW_MS, policy.random));
  }

  return results;
}

type AnsweredItem =
  | { status: 'delivered'; eventId: string; connectionsNotified: number }
  | { status: 'duplicate'; eventId: string }
  | { status: 'rejected'; code: string; message: string };

// The route answers every item, in order; anything else is not an answer we can trust.
function readResults(answer: Record<string, unknown>, expected: number): AnsweredItem[] {
  const results = answer.results;
  const valid =
    Array.isArray(results) &&
    results.length === expected &&
    results.every((result, index) => isItem(result) && result.index === index);
  if (!valid) {
    throw new PulseEmitError('the batch answer does not list every event in order', {
      code: 'BAD_RESPONSE',
      retryable: false,
    });
  }

  return results.map(({ index: _index, ...rest }) => rest as AnsweredItem);
}

function isItem(value: unknown): value is { index: number; status: string } {
  if (typeof value !== 'object' || value === null) return false;
  const { index, status } = value as { index?: unknown; status?: unknown };

  return (
    typeof index === 'number' && ['delivered', 'duplicate', 'rejected'].includes(String(status))
  );
}
