import type { HistoryLimits } from '../core/history.js';
import type { Hub } from '../core/hub.js';
import { RateLimiter, type RateCounter } from '../core/rate-limiter.js';
import { TicketBook, type TicketIssuer } from '../core/tickets.js';
import type { Logger } from '../log.js';
import { ClusterPresence } from './cluster-presence.js';
import { RedisBus } from './redis-bus.js';
import { RedisRateCounter, RedisTicketIssuer } from './redis-limits.js';

/** What must be shared between instances, or kept in process when there is one. */
export interface Backplane {
  bus?: RedisBus;
  cluster?: ClusterPresence;
  tickets: TicketIssuer;
  emitLimits: { total: RateCounter; perUser: RateCounter };
  /** Starts announcing this instance (after it listens). */
  start(): void;
  close(): Promise<void>;
}

/** Settings the backplane needs. */
export interface BackplaneSettings {
  redisUrl: string | undefined;
  history: HistoryLimits;
  emitRateLimit: number;
  emitRateLimitPerUser: number;
  clusterHeartbeatMs: number;
  ticketLifetimeMs: number;
  maxOutstandingTickets: number;
  maxTicketsPerUser: number;
}

/**
 * Without REDIS_URL everything stays in process, exactly as for a single instance. With it,
 * events, history, idempotency keys, rate limits and tickets are shared through Redis.
 */
export async function openBackplane(
  settings: BackplaneSettings,
  hub: Hub,
  logger: Logger,
): Promise<Backplane> {
  if (!settings.redisUrl) {
    return {
      tickets: new TicketBook(
        settings.ticketLifetimeMs,
        settings.maxOutstandingTickets,
        settings.maxTicketsPerUser,
      ),
      emitLimits: {
        total: new RateLimiter(settings.emitRateLimit),
        perUser: new RateLimiter(settings.emitRateLimitPerUser),
      },
      start: () => undefined,
      close: async () => undefined,
    };
  }

  const bus = new RedisBus({ url: settings.redisUrl, history: settings.history, logger });
  bus.onUserDeleted((userId) => hub.closeUser(userId, 'user_deleted'));
  await bus.start();
  const redis = bus.commands;
  const cluster = new ClusterPresence(redis, hub, settings.clusterHeartbeatMs);

  return {
    bus,
    cluster,
    tickets: new RedisTicketIssuer(redis, settings.ticketLifetimeMs, settings.maxTicketsPerUser),
    emitLimits: {
      total: new RedisRateCounter(redis, 'service', settings.emitRateLimit),
      perUser: new RedisRateCounter(redis, 'user', settings.emitRateLimitPerUser),
    },
    start: () => cluster.start(),
    close: async () => {
      bus.stopNotices();
      await cluster.stop();
      await bus.close();
    },
  };
}
