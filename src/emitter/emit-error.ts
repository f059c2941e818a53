/**
 * Why an emit failed. `code` is Pulse's error code (`VALIDATION_FAILED`, `RATE_LIMITED`, …),
 * `HTTP_<status>` for an answer without one, or `TIMEOUT`, `NETWORK_ERROR` or `BAD_RESPONSE`
 * when no usable answer came. Switch on `code`, never on the message.
 */
export class PulseEmitError extends Error {
  override readonly name = 'PulseEmitError';
  readonly code: string;
  /** The HTTP status; undefined when no answer arrived. */
  readonly status: number | undefined;
  /** Whether sending the same request again may succeed (the emitter already tried). */
  readonly retryable: boolean;
  /** From the Retry-After header, when the server sent one. */
  readonly retryAfterMs: number | undefined;
  /** How many requests were made before giving up. */
  attempts = 1;

  constructor(message: string, details: EmitErrorDetails) {
    super(message, { cause: details.cause });
    this.code = details.code;
    this.status = details.status;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
  }
}

/** What a PulseEmitError carries besides its message. */
export interface EmitErrorDetails {
  code: string;
  status?: number;
  retryable: boolean;
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * Whether an answer is worth repeating. 429 and 5xx are passing conditions of the server (a
 * rate limit, a restart, a full house); other 4xx mean the request itself is wrong or not
 * allowed, and sending it again would be refused again.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/** Item codes of the batch route that a later attempt may get through. */
export const RETRYABLE_ITEM_CODES = new Set([
  'RATE_LIMITED',
  'SHUTTING_DOWN',
  'SERVER_FULL',
  'BUS_UNAVAILABLE',
]);
