import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { carriesStream } from '../core/client-stream.js';
import { errorBody, PulseError, type ErrorCode } from '../errors.js';
import { pathOnly } from '../log.js';

/**
 * Answers requests that Fastify refuses before routing (a URL that does not decode, a path
 * parameter over the length limit) in Pulse's error shape.
 */
export function answerFrameworkError(
  error: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const code: ErrorCode = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'NOT_FOUND' : 'BAD_REQUEST';
  const message =
    code === 'NOT_FOUND' ? `No route for ${request.method} ${pathOnly(request.url)}` : undefined;

  void reply.status(new PulseError(code).status).send(errorBody(code, message));
}

/**
 * Answers a request that Node's HTTP parser rejected (malformed, or headers over the limit).
 * No request object exists, so the answer is written to the socket by hand. Nothing of the
 * raw request is logged: it would hold the Authorization header and any `?token=`.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  // Garbage sent behind a stream request: an answer now would land in the middle of the
  // stream's body, so the connection, and with it the stream, is closed instead.
  if (!socket.writable || carriesStream(socket)) {
    socket.destroy();
    return;
  }

  const code: ErrorCode =
    error.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'BAD_REQUEST';
  const { status } = new PulseError(code);
  const body = JSON.stringify(errorBody(code));
  const reason = code === 'HEADERS_TOO_LARGE' ? 'Request Header Fields Too Large' : 'Bad Request';

  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
