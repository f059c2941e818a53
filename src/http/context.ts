import type { TokenService } from '../auth/jwt.js';
import type { Config } from '../config.js';
import type { EventService } from '../core/event-service.js';
import type { HistoryStore } from '../core/history.js';
import type { ClusterPresence } from '../bus/cluster-presence.js';
import type { RemoteBus } from '../bus/remote-bus.js';
import type { RateCounter } from '../core/rate-limiter.js';
import type { TicketIssuer } from '../core/tickets.js';
import type { Hub } from '../core/hub.js';
import type { PayloadStats } from '../core/payload-stats.js';
import type { Logger } from '../log.js';
import type { OutboxRelay } from '../health/outbox-relay.js';
import type { HealthStores } from '../store/health-store.js';
import type { UserStore } from '../store/user-store.js';
import type { RejectionCounter } from './rejections.js';

/** Configuration once the secrets are known. */
export type ResolvedConfig = Config & { readonly jwtSecret: string; readonly serviceToken: string };

/** Everything the routes use, built once per server. */
export interface AppContext {
  readonly config: ResolvedConfig;
  readonly logger: Logger;
  readonly store: UserStore;
  readonly hub: Hub;
  readonly events: EventService;
  readonly history: HistoryStore;
  readonly tickets: TicketIssuer;
  /** Emits per second for the whole service token, and per target user. */
  readonly emitLimits: { readonly total: RateCounter; readonly perUser: RateCounter };
  /** The Redis backplane and the cluster's view, when REDIS_URL is set. */
  readonly bus?: RemoteBus;
  readonly cluster?: ClusterPresence;
  readonly stats: PayloadStats;
  readonly tokens: TokenService;
  readonly isServiceToken: (presented: string) => boolean;
  /** Requests refused, by code, for metrics. */
  readonly rejections: RejectionCounter;
  /**
   * `shuttingDown` is set when shutdown begins: readiness fails and new streams and emits are
   * refused. `closing` is set once the listener closes: every request but `/healthz` is.
   */
  readonly lifecycle: { shuttingDown: boolean; closing: boolean };
  /** Daily metrics, goals, the event outbox and the analytics ledger. */
  readonly health: HealthStores;
  /** Emits what committed health writes queued in the outbox. */
  readonly outboxRelay: OutboxRelay;
}
