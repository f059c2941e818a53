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

// Lines gather until this much is waiting, then leave in one write.
const LOG_BATCH_BYTES = 4 * 1024;

// How often lines that have not filled a batch are written anyway, so a quiet server's lines
// appear within about this long.
const LOG_FLUSH_INTERVAL_MS = 250;

/**
 * Writes the lines waiting for their batch now, synchronously: before a fatal error goes to
 * stderr, so that a reader of both streams sees what happened in the order it happened.
 */
export function writeWaitingLines(logger: Logger): void {
  try {
    callDestination(logger, 'flushSync');
  } catch {
    // A write already in flight, or a stdout gone: the lines leave with it or not at all.
  }
}

/**
 * Gives up on the lines not written yet, so that the process can exit without them. On exit
 * pino writes what is left synchronously, and on a stdout pipe that nobody reads that write
 * never returns. A write already under way in the thread pool cannot be taken back: on a
 * blocking pipe (a FIFO) it still holds the exit until the reader goes.
 */
export function dropUnwrittenLines(logger: Logger): void {
  callDestination(logger, 'destroy');
}

// The stdout destination (sonic-boom) has both methods; a destination given by a test may not.
function callDestination(logger: Logger, method: 'flushSync' | 'destroy'): void {
  const destination = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  const call = (destination as Record<string, unknown> | undefined)?.[method];
  if (typeof call === 'function') call.call(destination);
}

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

  // Asynchronous and batched. Each write is a thread-pool job and a syscall, and a server
  // opening thousands of streams a second logs a line for each: written one by one, that line
  // was a third of the CPU an opening took; in batches of 4 KiB, about a tenth.
  // A quiet server's lines wait about LOG_FLUSH_INTERVAL_MS; serve.ts flushes what is left
  // before the process exits.
  const stdout = pino.destination({
    dest: 1,
    sync: false,
    minLength: LOG_BATCH_BYTES,
    periodicFlush: LOG_FLUSH_INTERVAL_MS,
    maxLength: MAX_UNWRITTEN_LOG_BYTES,
  });

  return pino(options, stdout);
}
