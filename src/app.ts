import type { Server } from 'node:http';
import { runAnalytics } from './analytics/analytics-job.js';
import { scheduleAnalytics, type AnalyticsSchedule } from './analytics/analytics-schedule.js';
import { createServiceTokenCheck } from './auth/service-token.js';
import { createTokenService } from './auth/jwt.js';
import { openBackplane } from './bus/backplane.js';
import { drainStreams } from './core/drain.js';
import { EventIdGenerator } from './core/event-ids.js';
import { EventService } from './core/event-service.js';
import type { HistoryStore } from './core/history.js';
import { Hub } from './core/hub.js';
import { MemoryHistory } from './core/memory-history.js';
import { PayloadStats } from './core/payload-stats.js';
import { createPulseEmitter } from './emitter/index.js';
import { OutboxRelay } from './health/outbox-relay.js';
import type { AppContext, ResolvedConfig } from './http/context.js';
import { createMetricsRegistry, registerPulseMetrics, serveMetrics } from './http/metrics.js';
import { RejectionCounter } from './http/rejections.js';
import { buildServer } from './http/server.js';
import { EmitFront } from './http/emit-front.js';
import { StreamFront } from './http/stream-front.js';
import type { Logger } from './log.js';
import { openHealthStores } from './store/open-health-stores.js';
import { openHistoryStore } from './store/open-history-store.js';
import { openUserStore } from './store/open-user-store.js';
import type { UserStore } from './store/user-store.js';

const TICKET_LIFETIME_MS = 60_000;
const MAX_OUTSTANDING_TICKETS = 100_000;
const MAX_TICKETS_PER_USER = 20;

// The outbox sweep retries events that no request emitted (see OutboxRelay) this often, and
// leaves younger ones to the request that queued them.
const OUTBOX_SWEEP_MS = 1000;
const OUTBOX_SETTLE_MS = 1000;

// Streams close over at most this long on shutdown, leaving the rest of the timeout for
// in-flight requests and the database.
const MAX_DRAIN_WINDOW_MS = 5000;

/** A running Pulse: its HTTP server and the parts behind it. */
export interface Pulse {
  readonly context: AppContext;
  /** The address it listens on, such as http://127.0.0.1:5000. */
  readonly url: string;
  /** Opens plain stream requests without node:http (see stream-front.ts). */
  readonly streamFront: StreamFront;
  /** Answers plain emits without Fastify (see emit-front.ts). */
  readonly emitFront: EmitFront;
  /**
   * Shuts down gracefully: fails readiness, refuses new streams and emits, drains the open
   * streams with randomised retry hints, answers in-flight requests, releases the databases.
   */
  close(): Promise<void>;
}

/** What starting Pulse needs; the stores are opened from DATABASE_URL when not given. */
export interface StartOptions {
  config: ResolvedConfig;
  logger: Logger;
  store?: UserStore;
}

/** Opens the databases, builds the server and listens on HOST:PORT (0 picks a free port). */
export async function startPulse(options: StartOptions): Promise<Pulse> {
  const { config, logger } = options;
  const onPoolError = (error: Error) => logger.error({ err: error }, 'database connection lost');
  const store =
    options.store ?? (await openUserStore(config.databaseUrl, { postgres: { onPoolError } }));
  const history = await openHistory(config, onPoolError);
  // After the user store: the health tables follow its users.
  const health = await openHealthStores(config.databaseUrl, { postgres: { onPoolError } });
  const ids = new EventIdGenerator(await firstIdAfter(history));

  const metrics = config.metricsEnabled || config.metricsPort > 0 ? createMetricsRegistry() : null;
  const stats = new PayloadStats(config.largePayloadBytes);
  const hub = new Hub({ heartbeatMs: config.heartbeatMs, stats, logger });
  const backplane = await openBackplane(
    {
      redisUrl: config.redisUrl,
      history: { size: config.historySize, ttlMs: config.historyTtlMs },
      emitRateLimit: config.emitRateLimit,
      emitRateLimitPerUser: config.emitRateLimitPerUser,
      clusterHeartbeatMs: config.clusterHeartbeatMs,
      ticketLifetimeMs: TICKET_LIFETIME_MS,
      maxOutstandingTickets: MAX_OUTSTANDING_TICKETS,
      maxTicketsPerUser: MAX_TICKETS_PER_USER,
    },
    hub,
    logger,
  );
  const context: AppContext = {
    config,
    logger,
    store,
    hub,
    stats,
    history,
    events: new EventService(hub, history, ids, {
      maxBufferedBytes: config.maxBufferedBytes,
      tokenExpiryNoticeMs: config.tokenExpiryNoticeMs,
      observeEmitLatency: metrics ? (seconds) => metrics.emitLatency.observe(seconds) : undefined,
      bus: backplane.bus,
    }),
    tickets: backplane.tickets,
    emitLimits: backplane.emitLimits,
    bus: backplane.bus,
    cluster: backplane.cluster,
    tokens: createTokenService(config.jwtSecret),
    isServiceToken: createServiceTokenCheck(config.serviceToken),
    rejections: new RejectionCounter(),
    lifecycle: { shuttingDown: false, closing: false },
    health,
    outboxRelay: new OutboxRelay(health.outbox, (input) => context.events.emit(input), {
      sweepMs: OUTBOX_SWEEP_MS,
      settleMs: OUTBOX_SETTLE_MS,
      logger,
    }),
  };
  if (metrics) registerPulseMetrics(metrics.registry, context);

  const app = await buildServer(context, config.metricsEnabled ? metrics?.registry : undefined);
  // The emit front goes in first: the stream front's guard against requests sent behind a
  // stream then wraps it as well.
  const emitFront = new EmitFront(app.server, context);
  const streamFront = new StreamFront(app.server, context);
  try {
    // Fastify's own "Server listening at …" line would not be a constant message.
    const listenTextResolver = () => 'server listening';
    await app.listen({ host: config.host, port: config.port, listenTextResolver });
  } catch (error) {
    await Promise.all([store.close(), history.close(), health.close(), backplane.close()]);
    throw error;
  }
  backplane.start();
  let metricsServer: Server | undefined;
  try {
    if (metrics && config.metricsPort > 0) {
      metricsServer = await serveMetrics(metrics.registry, config.host, config.metricsPort);
    }
  } catch (error) {
    await app.close();
    await Promise.all([store.close(), history.close(), health.close(), backplane.close()]);
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  context.outboxRelay.start();
  const analytics = startAnalytics(context, url);

  let closing: Promise<void> | undefined;
  const closeServers = async () => {
    metricsServer?.close();
    metricsServer?.closeAllConnections();
    context.lifecycle.closing = true;
    await app.close();
    await backplane.close();
  };
  const close = () => {
    // Analytics stops first: its emits would meet the 503s of a server shutting down.
    closing ??= (analytics?.stop() ?? Promise.resolve()).then(() =>
      shutDown(context, closeServers, () => {
        app.server.closeAllConnections();
        streamFront.destroyAll();
      }),
    );
    return closing;
  };

  return { context, url, streamFront, emitFront, close };
}

async function openHistory(
  config: ResolvedConfig,
  onPoolError: (error: Error) => void,
): Promise<HistoryStore> {
  const limits = { size: config.historySize, ttlMs: config.historyTtlMs };
  if (config.historyStore === 'database') {
    return openHistoryStore(config.databaseUrl, limits, { postgres: { onPoolError } });
  }

  return new MemoryHistory({ ...limits, maxBytes: config.historyMaxBytes }, Date.now() * 1000);
}

// ANALYTICS_INTERVAL_MS runs the job in the service, sending through the emitter SDK to this
// same instance, as `pulse analytics` would from outside.
function startAnalytics(context: AppContext, url: string): AnalyticsSchedule | undefined {
  const { config, health, logger } = context;
  if (config.analyticsIntervalMs === 0) return undefined;

  const emitter = createPulseEmitter({ baseUrl: url, serviceToken: config.serviceToken });
  return scheduleAnalytics(
    config.analyticsIntervalMs,
    (signal) => runAnalytics({ metrics: health.metrics, ledger: health.ledger, emitter, signal }),
    logger,
  );
}

// Ids continue after the newest one a persisted history holds, even if the clock went back.
async function firstIdAfter(history: HistoryStore): Promise<number> {
  const newest = (await history.newestId()) ?? 0;

  return Math.max(newest, Date.now() * 1000);
}

async function shutDown(
  context: AppContext,
  closeServer: () => Promise<void>,
  dropConnections: () => void,
): Promise<void> {
  const { config, hub, events, logger } = context;
  const deadline = Date.now() + config.shutdownTimeoutMs;

  // Readiness fails and new streams and emits get 503 while the listener stays open, so a
  // load balancer sees the instance leave before its connections do.
  context.lifecycle.shuttingDown = true;
  const window = Math.min(MAX_DRAIN_WINDOW_MS, config.shutdownTimeoutMs / 2);
  const streams = hub.allStreams();
  logger.info({ streams: streams.length, windowMs: window }, 'draining streams');
  await drainStreams(streams, window);
  events.stop();

  // Then stop listening and answer what is in flight; whatever is still open near the
  // deadline is cut, so the process exits in time.
  const cutoff = setTimeout(dropConnections, Math.max(0, deadline - Date.now() - 250));
  try {
    await closeServer();
  } finally {
    clearTimeout(cutoff);
  }
  await context.outboxRelay.stop();
  await Promise.all([context.store.close(), context.history.close(), context.health.close()]);
}
