/**
 * The one registry of error codes Pulse answers with. Clients switch on `code`, never on the
 * message; the README's error table is checked against this list by a test.
 */
export const ERRORS = {
  BAD_REQUEST: { status: 400, message: 'The HTTP request is malformed' },
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid' },
  INVALID_JSON: { status: 400, message: 'The request body is not valid JSON' },
  TOKEN_MISSING: { status: 401, message: 'No access token was provided' },
  TOKEN_INVALID: { status: 401, message: 'The access token is not valid' },
  TOKEN_EXPIRED: { status: 401, message: 'The access token has expired' },
  USER_NOT_FOUND: { status: 401, message: 'The user of this token no longer exists' },
  BAD_CREDENTIALS: { status: 401, message: 'Email or password is wrong' },
  TICKET_INVALID: { status: 401, message: 'The stream ticket is unknown, used or expired' },
  SERVICE_TOKEN_INVALID: { status: 403, message: 'A valid service token is required' },
  NOT_FOUND: { status: 404, message: 'No such route' },
  EMAIL_TAKEN: { status: 409, message: 'An account with this email already exists' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'The request body must be JSON' },
  TOO_MANY_STREAMS: { status: 429, message: 'This user has too many open streams' },
  RATE_LIMITED: { status: 429, message: 'Too many requests; retry after the given time' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large' },
  SERVER_FULL: { status: 503, message: 'The server holds as many streams as it can' },
  SHUTTING_DOWN: { status: 503, message: 'The server is shutting down' },
  BUS_UNAVAILABLE: { status: 503, message: 'The event bus is unreachable; retry shortly' },
  NOT_READY: { status: 503, message: 'The server is not ready' },
  INTERNAL_ERROR: { status: 500, message: 'Something went wrong on our side' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable error code from the registry. */
export type ErrorCode = keyof typeof ERRORS;

/** An error that knows the HTTP status and stable code it is answered with. */
export class PulseError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, message?: string, headers: Record<string, string> = {}) {
    super(message ?? ERRORS[code].message);
    this.name = 'PulseError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.headers = headers;
  }
}

/** The JSON body of every error answer. */
export interface ErrorBody {
  success: false;
  message: string;
  code: ErrorCode;
}

/** Builds the error body for a code, with an optional more specific message. */
export function errorBody(code: ErrorCode, message?: string): ErrorBody {
  return { success: false, message: message ?? ERRORS[code].message, code };
}
