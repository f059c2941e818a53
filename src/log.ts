import { pino, type Logger, type LoggerOptions } from 'pino';

/** The logger type used across Pulse. */
export type { Logger } from 'pino';

/** Anything that looks like an incoming request, as far as logging cares. */
interface RequestLike {
  method?: string;
  url?: string;
  id?: string | number;
  socket?: { remoteAddress?: string };
}

/**
 * Drops the query string: `?token=` (and `?ticket=`) must never reach a log line, and nothing
 * else in a query string is worth the risk.
 */
export function pathOnly(url: string | undefined): string | undefined {
  if (url === undefined) return undefined;
  const queryStart = url.indexOf('?');

  return queryStart === -1 ? url : url.slice(0, queryStart);
}

// Allow-list serializers: a request logs its method, path and peer, never its headers.
const serializers = {
  req(request: RequestLike) {
    return {
      method: request.method,
      url: pathOnly(request.url),
      remoteAddress: request.socket?.remoteAddress,
    };
  },
  res(reply: { statusCode?: number }) {
    return { statusCode: reply.statusCode };
  },
};

// A second layer behind the serializers, for objects logged by hand.
const redactedPaths = [
  'token',
  'password',
  'jwtSecret',
  'serviceToken',
  'authorization',
  '*.token',
  '*.password',
  '*.authorization',
  'req.headers',
  'headers.authorization',
  // Fastify logs the raw bytes of a malformed request, headers and query string included.
  'rawPacket',
  'err.rawPacket',
];

// If stdout stops being read, lines past this are dropped rather than held in memory.
const MAX_UNWRITTEN_LOG_BYTES = 16 * 1024 * 1024;

/** Creates the root logger: pino JSON on stdout (or the given destination). */
export function createLogger(
  level: string,
  destination?: NodeJS.WritableStream | { write(chunk: string): void },
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'pulse' },
    serializers,
    redact: { paths: redactedPaths, censor: '[redacted]' },
  };

  if (destination) return pino(options, destination as NodeJS.WritableStream);

  // Asynchronous: lines logged while a write is in flight leave together in the next one, so
  // a burst of streams opening costs a few writes, not one syscall a line. pino flushes what
  // is left when the process exits.
  return pino(
    options,
    pino.destination({ dest: 1, sync: false, maxLength: MAX_UNWRITTEN_LOG_BYTES }),
  );
}
