import type { FastifyInstance } from 'fastify';
import { pathOnly, type Logger } from '../log.js';

/**
 * The one place that decides what a request logs. Successful requests log at debug (an emit
 * per request at info would drown the log); client-caused rejections at info; work the server
 * turns away on purpose (503: shutting down, full, not ready, bus down) at warn; server faults
 * at error. URLs are logged without their query string, so `?token=` never reaches a log.
 */
export function installRequestLogging(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    logAnswer(
      request.log as Logger,
      request.method,
      request.url,
      reply.statusCode,
      reply.elapsedTime,
    );
  });
}

/** Logs one answered request as `installRequestLogging` does; the emit front calls it too. */
export function logAnswer(
  log: Logger,
  method: string,
  url: string,
  statusCode: number,
  elapsedMs: number,
): void {
  // The hot path (an emit answered 200) must not pay for a line nobody will see.
  if (statusCode < 400 && !log.isLevelEnabled('debug')) return;

  const entry = {
    method,
    url: pathOnly(url),
    statusCode,
    durationMs: Math.round(elapsedMs * 10) / 10,
  };

  // A shutdown under load refuses hundreds of requests: each is expected, none is a fault.
  if (statusCode === 503) log.warn(entry, 'request refused');
  else if (statusCode >= 500) log.error(entry, 'request answered');
  else if (statusCode >= 400) log.info(entry, 'request rejected');
  else log.debug(entry, 'request answered');
}
