import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { BusUnavailableError } from '../bus/remote-bus.js';
import { errorBody, ERRORS, PulseError, type ErrorCode } from '../errors.js';
import { pathOnly } from '../log.js';
import { describeSchemaError } from './schema-errors.js';
import type { RejectionCounter } from './rejections.js';

// Fastify's own error codes, answered with ours so that clients see one vocabulary.
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'INVALID_JSON',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
};

/** Field-specific wording for schema failures, keyed by `<part>.<field>`. */
export type FieldMessages = Record<string, string>;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Plain-language messages for schema failures on this route's fields. */
    fieldMessages?: FieldMessages;
  }
}

/** Installs the error and not-found handlers: every failure answers `{success, message, code}`. */
export function installErrorHandling(app: FastifyInstance, rejections: RejectionCounter): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const fieldMessages = request.routeOptions.config.fieldMessages ?? {};
    const { status, code, message, headers } = failureAnswer(error, fieldMessages);
    rejections.count(code);

    // Refusals (a full server, a shutdown) are expected; only a fault is an error.
    if (code === 'INTERNAL_ERROR') request.log.error({ err: error }, 'request failed');
    void reply.status(status).headers(headers).send(errorBody(code, message));
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const message = `No route for ${request.method} ${pathOnly(request.url)}`;
    rejections.count('NOT_FOUND');
    void reply.status(404).send(errorBody('NOT_FOUND', message));
  });
}

/** How a failed request is answered. */
export interface FailureAnswer {
  status: number;
  code: ErrorCode;
  /** A more specific message than the code's own, when there is one. */
  message?: string;
  headers: Record<string, string>;
}

/**
 * Maps any error a request may end with to its answer: Pulse's own, a schema failure (worded
 * with `fieldMessages`), Fastify's, or a fault. The emit front answers through this too.
 */
export function failureAnswer(error: unknown, fieldMessages: FieldMessages): FailureAnswer {
  // Anything may be thrown, `undefined` included; only an object can say what it was.
  const known = typeof error === 'object' && error !== null;
  if (!known) return { status: ERRORS.INTERNAL_ERROR.status, code: 'INTERNAL_ERROR', headers: {} };

  const { code, message, headers } = classify(error as FastifyError, fieldMessages);

  return { status: ERRORS[code].status, code, message, headers };
}

function classify(
  error: FastifyError,
  fieldMessages: FieldMessages,
): { code: ErrorCode; message?: string; headers: Record<string, string> } {
  if (error instanceof PulseError) {
    // A client turned away by a shutdown should come back soon, to another instance.
    const headers =
      error.code === 'SHUTTING_DOWN' ? { 'Retry-After': '1', ...error.headers } : error.headers;
    return { code: error.code, message: error.message, headers };
  }

  if (error.validation) {
    const part = error.validationContext ?? 'body';
    const message = describeSchemaError(error.validation[0], part, fieldMessages);
    return { code: 'VALIDATION_FAILED', message, headers: {} };
  }

  // Emitters retry a 503 with Retry-After, so an event is never silently dropped.
  if (error instanceof BusUnavailableError) {
    return { code: 'BUS_UNAVAILABLE', headers: { 'Retry-After': '1' } };
  }

  const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
  if (mapped) return { code: mapped, headers: {} };

  return { code: 'INTERNAL_ERROR', headers: {} };
}
