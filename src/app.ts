import { createServiceTokenCheck } from './auth/service-token.js';
import { createTokenService } from './auth/jwt.js';
import { EventService } from './core/event-service.js';
import { Hub } from './core/hub.js';
import { PayloadStats } from './core/payload-stats.js';
import type { AppContext, ResolvedConfig } from './http/context.js';
import { buildServer } from './http/server.js';
import type { Logger } from './log.js';
import { openUserStore } from './store/open-user-store.js';
import type { UserStore } from './store/user-store.js';

/** A running Pulse: its HTTP server and the parts behind it. */
export interface Pulse {
  readonly context: AppContext;
  /** The address it listens on, such as http://127.0.0.1:5000. */
  readonly url: string;
  /** Stops accepting work, ends every stream and releases the database. */
  close(): Promise<void>;
}

/** What starting Pulse needs; `store` is opened from DATABASE_URL when not given. */
export interface StartOptions {
  config: ResolvedConfig;
  logger: Logger;
  store?: UserStore;
}

/** Opens the database, builds the server and listens on HOST:PORT (PORT 0 picks a free one). */
export async function startPulse(options: StartOptions): Promise<Pulse> {
  const { config, logger } = options;
  const onPoolError = (error: Error) => logger.error({ err: error }, 'database connection lost');
  const store =
    options.store ?? (await openUserStore(config.databaseUrl, { postgres: { onPoolError } }));

  const stats = new PayloadStats(config.largePayloadBytes);
  const hub = new Hub({ heartbeatMs: config.heartbeatMs, stats, logger });
  const context: AppContext = {
    config,
    logger,
    store,
    hub,
    stats,
    events: new EventService(hub, { maxBufferedBytes: config.maxBufferedBytes }),
    tokens: createTokenService(config.jwtSecret),
    isServiceToken: createServiceTokenCheck(config.serviceToken),
    lifecycle: { shuttingDown: false },
  };

  const app = await buildServer(context);
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    await store.close();
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      context.lifecycle.shuttingDown = true;
      for (const stream of hub.allStreams()) stream.close('shutdown');
      hub.stop();
      await app.close();
      await store.close();
    })();
    return closing;
  };

  return { context, url, close };
}
