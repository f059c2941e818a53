import type { ReplayClient } from './replay.js';

/** Options of createHttpReplayClient. */
export interface HttpReplayClientOptions {
  /** Pulse's origin, optionally with a path prefix, e.g. `http://127.0.0.1:3000`. */
  baseUrl: string;
  serviceToken: string;
  /** Replaces the global fetch, for tests. */
  fetch?: typeof fetch;
  /** Limit on one request, response body included. Default 10 s. */
  timeoutMs?: number;
}

/**
 * A failed request to Pulse. `status` is absent when no response arrived; `code` is Pulse's error
 * code, `HTTP_<status>` without one, or `NETWORK_ERROR` / `TIMEOUT` / `BAD_RESPONSE`.
 */
export class ReplayRequestError extends Error {
  override readonly name = 'ReplayRequestError';
  readonly code: string;
  readonly status: number | undefined;
  /** From the Retry-After header, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, details: RequestErrorDetails) {
    super(message, { cause: details.cause });
    this.code = details.code;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** What a ReplayRequestError carries besides its message. */
export interface RequestErrorDetails {
  code: string;
  status?: number;
  retryAfterMs?: number;
  cause?: unknown;
}

/** A ReplayClient that calls Pulse's service routes over HTTP with the service token. */
export function createHttpReplayClient(options: HttpReplayClientOptions): ReplayClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(baseUrl)) {
    throw new Error(`replay url must be an http or https URL, got ${JSON.stringify(baseUrl)}`);
  }
  const post = (route: string, body: object): Promise<Record<string, unknown>> =>
    postJson(baseUrl + route, body, options);

  return {
    async ensureUser(email, name) {
      const body = await post('/api/service/users', { email, name });
      const user = body.user as { id?: unknown } | undefined;
      if (typeof user?.id !== 'string') {
        throw new ReplayRequestError('user response has no user id', { code: 'BAD_RESPONSE' });
      }

      return { id: user.id };
    },

    async emit(userId, eventType, data) {
      const body = await post('/api/events/emit', { userId, eventType, data });
      const notified = body.connectionsNotified;

      return { connectionsNotified: typeof notified === 'number' ? notified : 0 };
    },
  };
}

async function postJson(
  url: string,
  body: object,
  options: HttpReplayClientOptions,
): Promise<Record<string, unknown>> {
  const fetchImpl = options.fetch ?? fetch;
  let response: Response;
  let text: string;
  try {
    response = await fetchImpl(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.serviceToken}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    text = await response.text();
  } catch (error) {
    throw transportError(url, error);
  }

  const parsed = parseJsonObject(text);
  if (!response.ok) {
    const code = typeof parsed?.code === 'string' ? parsed.code : `HTTP_${response.status}`;
    const detail = typeof parsed?.message === 'string' ? `: ${parsed.message}` : '';
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    const message = `POST ${new URL(url).pathname} answered ${response.status}${detail}`;
    throw new ReplayRequestError(message, { code, status: response.status, retryAfterMs });
  }
  if (parsed === undefined) {
    throw new ReplayRequestError('response is not a JSON object', { code: 'BAD_RESPONSE' });
  }

  return parsed;
}

// The message names the route only; the token travels in a header and never reaches it.
function transportError(url: string, error: unknown): ReplayRequestError {
  const route = new URL(url).pathname;
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new ReplayRequestError(`POST ${route} timed out`, { code: 'TIMEOUT', cause: error });
  }

  // fetch reports "fetch failed" and keeps the useful part (ECONNREFUSED, ...) in its cause.
  const causeCode = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  const reason = error instanceof Error ? error.message : String(error);
  const suffix = typeof causeCode === 'string' ? ` (${causeCode})` : '';
  const message = `POST ${route} failed: ${reason}${suffix}`;

  return new ReplayRequestError(message, { code: 'NETWORK_ERROR', cause: error });
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Reads Retry-After as milliseconds: delay-seconds or an HTTP date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (header === null || header.trim() === '') {
    return undefined;
  }
  if (/^\d+$/.test(header.trim())) {
    return Number(header.trim()) * 1000;
  }
  const date = Date.parse(header);

  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
