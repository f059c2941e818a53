import { createHash, randomUUID } from 'node:crypto';
import { createPulseEmitter } from '../emitter/index.js';
import { PulseEmitError } from '../emitter/emit-error.js';
import { postJson } from '../emitter/post-json.js';
import type { ReplayClient } from './replay.js';

/** Options of createHttpReplayClient. */
export interface HttpReplayClientOptions {
  /** Pulse's origin, optionally with a path prefix, e.g. `http://127.0.0.1:5000`. */
  baseUrl: string;
  serviceToken: string;
  /** Replaces the global fetch, for tests. */
  fetch?: typeof fetch;
  /** Limit on one request, response body included. Default 10 s. */
  timeoutMs?: number;
}

// The emitter retries on its own; the replay's own retry comes on top, with the same key.
const EMITTER_ATTEMPTS = 3;

/**
 * A ReplayClient that speaks to Pulse as a backend service: users through
 * `POST /api/service/users`, events through the emitter SDK. Each event's idempotency key is
 * derived from this run and the event itself, so a retry (the SDK's or the replay's) is
 * delivered once, while a later run of the replay delivers its events afresh.
 */
export function createHttpReplayClient(options: HttpReplayClientOptions): ReplayClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(baseUrl)) {
    throw new Error(`replay url must be an http or https URL, got ${JSON.stringify(baseUrl)}`);
  }
  const transport = {
    serviceToken: options.serviceToken,
    fetch: options.fetch ?? globalThis.fetch,
    timeoutMs: options.timeoutMs ?? 10_000,
  };
  const emitter = createPulseEmitter({ baseUrl, ...transport, maxAttempts: EMITTER_ATTEMPTS });
  const run = randomUUID();

  return {
    async ensureUser(email, name) {
      const body = await postJson(`${baseUrl}/api/service/users`, { email, name }, transport);
      const user = body.user as { id?: unknown } | undefined;
      if (typeof user?.id !== 'string') {
        throw new PulseEmitError('user response has no user id', {
          code: 'BAD_RESPONSE',
          retryable: false,
        });
      }

      return { id: user.id };
    },

    async emit(userId, eventType, data) {
      const digest = createHash('sha256')
        .update(`${userId}\n${eventType}\n${JSON.stringify(data)}`)
        .digest('base64url')
        .slice(0, 32);
      const result = await emitter.emit(userId, eventType, data as Record<string, unknown>, {
        eventId: `replay:${run}:${digest}`,
      });

      return { connectionsNotified: result.connectionsNotified };
    },
  };
}
