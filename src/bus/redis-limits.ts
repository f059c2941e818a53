import type { Redis } from 'ioredis';
import type { RateCounter, RateDecision } from '../core/rate-limiter.js';
import type { TicketHolder, TicketIssuer, TicketRefusal } from '../core/tickets.js';
import { randomBytes } from 'node:crypto';
import { redisKeys } from './redis-keys.js';
import { BusUnavailableError } from './remote-bus.js';

/**
 * The emit rate limits, shared by every instance: one counter per key and one-second window
 * in Redis, expiring on its own. A limit of 0 is off and costs no round trip.
 */
export class RedisRateCounter implements RateCounter {
  readonly #redis: Redis;
  readonly #scope: string;
  readonly #limit: number;

  constructor(redis: Redis, scope: string, limit: number) {
    this.#redis = redis;
    this.#scope = scope;
    this.#limit = limit;
  }

  async hit(key: string, now = Date.now()): Promise<RateDecision> {
    if (this.#limit === 0) return { allowed: true, retryAfterSeconds: 0 };

    const window = Math.floor(now / 1000);
    const counter = redisKeys.rate(`${this.#scope}:${key}`, window);
    const replies = await this.#redis
      .multi()
      .incr(counter)
      .pexpire(counter, 2000)
      .exec()
      .catch((error: unknown) => {
        throw new BusUnavailableError(error);
      });
    const count = Number(replies?.[0]?.[1] ?? 0);

    return count > this.#limit
      ? { allowed: false, retryAfterSeconds: 1 }
      : { allowed: true, retryAfterSeconds: 0 };
  }
}

/** Stream tickets in Redis, so a ticket from one instance opens a stream on any other. */
export class RedisTicketIssuer implements TicketIssuer {
  readonly #redis: Redis;
  readonly #lifetimeMs: number;
  readonly #maxPerUser: number;

  constructor(redis: Redis, lifetimeMs: number, maxPerUser: number) {
    this.#redis = redis;
    this.#lifetimeMs = lifetimeMs;
    this.#maxPerUser = maxPerUser;
  }

  get lifetimeSeconds(): number {
    return Math.round(this.#lifetimeMs / 1000);
  }

  async issue(holder: TicketHolder): Promise<string | TicketRefusal> {
    return busCall(() => this.#issue(holder));
  }

  async redeem(ticket: string): Promise<TicketHolder | undefined> {
    return busCall(() => this.#redeem(ticket));
  }

  async #issue(holder: TicketHolder): Promise<string | TicketRefusal> {
    const held = redisKeys.ticketsHeld(holder.userId);
    const count = await this.#redis.incr(held);
    await this.#redis.pexpire(held, this.#lifetimeMs);
    if (count > this.#maxPerUser) {
      await this.#redis.decr(held);
      return 'user-limit';
    }

    const ticket = randomBytes(24).toString('base64url');
    await this.#redis.set(redisKeys.ticket(ticket), JSON.stringify(holder), 'PX', this.#lifetimeMs);

    return ticket;
  }

  async #redeem(ticket: string): Promise<TicketHolder | undefined> {
    const stored = await this.#redis.getdel(redisKeys.ticket(ticket));
    if (stored === null) return undefined;

    const holder = JSON.parse(stored) as TicketHolder;
    await this.#redis.decr(redisKeys.ticketsHeld(holder.userId));

    return holder;
  }
}

// Redis being away answers 503 BUS_UNAVAILABLE, like an emit, rather than 500.
async function busCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new BusUnavailableError(error);
  }
}
