import { isRetryableStatus, PulseEmitError } from './emit-error.js';
import { parseRetryAfter } from './retry-delay.js';

/** How one request is sent. */
export interface PostOptions {
  serviceToken: string;
  fetch: typeof fetch;
  /** Limit on the whole request, answer body included. */
  timeoutMs: number;
  headers?: Record<string, string>;
}

/** Posts JSON with the service token and returns the answer's JSON object, or throws. */
export async function postJson(
  url: string,
  body: unknown,
  options: PostOptions,
): Promise<Record<string, unknown>> {
  const route = new URL(url).pathname;
  let response: Response;
  let text: string;
  try {
    response = await options.fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${options.serviceToken}`,
        'content-type': 'application/json',
        ...options.headers,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
    text = await response.text();
  } catch (error) {
    throw transportError(route, error);
  }

  const parsed = parseObject(text);
  if (!response.ok) throw answerError(route, response, parsed);
  if (!parsed) {
    throw new PulseEmitError(`POST ${route} answered with no JSON object`, {
      code: 'BAD_RESPONSE',
      status: response.status,
      retryable: false,
    });
  }

  return parsed;
}

function answerError(
  route: string,
  response: Response,
  parsed: Record<string, unknown> | undefined,
): PulseEmitError {
  const code = typeof parsed?.code === 'string' ? parsed.code : `HTTP_${response.status}`;
  const detail = typeof parsed?.message === 'string' ? `: ${parsed.message}` : '';

  return new PulseEmitError(`POST ${route} answered ${response.status}${detail}`, {
    code,
    status: response.status,
    retryable: isRetryableStatus(response.status),
    retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
  });
}

// The message names the route only: the service token travels in a header and never in it.
function transportError(route: string, error: unknown): PulseEmitError {
  if (error instanceof DOMException && error.name === 'TimeoutError') {
    return new PulseEmitError(`POST ${route} timed out`, {
      code: 'TIMEOUT',
      retryable: true,
      cause: error,
    });
  }

  // fetch says "fetch failed" and keeps the useful part (ECONNREFUSED, …) in its cause.
  const causeCode = (error as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  const suffix = typeof causeCode === 'string' ? ` (${causeCode})` : '';
  const reason = error instanceof Error ? error.message : String(error);

  return new PulseEmitError(`POST ${route} failed: ${reason}${suffix}`, {
    code: 'NETWORK_ERROR',
    retryable: true,
    cause: error,
  });
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    const isObject = typeof value === 'object' && value !== null && !Array.isArray(value);
    return isObject ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
