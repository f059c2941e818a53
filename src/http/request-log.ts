import type { FastifyInstance } from 'fastify';
import { pathOnly, type Logger } from '../log.js';

/**
 * The one place that decides what a request logs. Successful requests log at debug (an emit
 * per request at info would drown the log); client-caused rejections at info; server faults
 * at error. URLs are logged without their query string, so `?token=` never reaches a log.
 */
export function installRequestLogging(app: FastifyInstance): void {
  app.addHook('onResponse', async (request, reply) => {
    // The hot path (an emit answered 200) must not pay for a line nobody will see.
    if (reply.statusCode < 400 && !(request.log as Logger).isLevelEnabled('debug')) return;

    const entry = {
      method: request.method,
      url: pathOnly(request.url),
      statusCode: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 10) / 10,
    };

    if (reply.statusCode >= 500) request.log.error(entry, 'request answered');
    else if (reply.statusCode >= 400) request.log.info(entry, 'request rejected');
    else request.log.debug(entry, 'request answered');
  });
}
