import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Hub } from '../core/hub.js';
import { redisKeys } from './redis-keys.js';
import { BusUnavailableError } from './remote-bus.js';

/** One instance's share of the cluster's streams. */
export interface InstanceView {
  instanceId: string;
  connections: number;
  users: number;
}

/** The streams of every live instance, added up. */
export interface ClusterView {
  totalUsers: number;
  totalConnections: number;
  users: { userId: string; connections: number }[];
  instances: InstanceView[];
}

/**
 * Tells the cluster which users this instance holds streams for, and reads what the others
 * hold. Every heartbeat rewrites this instance's hash of user → streams (so drift heals) and
 * stamps it in a sorted set of instances; an instance that stops stamping (it died) drops out
 * after three heartbeats, and its hash expires with it.
 */
export class ClusterPresence {
  readonly instanceId = randomBytes(6).toString('hex');
  readonly #redis: Redis;
  readonly #hub: Hub;
  readonly #heartbeatMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(redis: Redis, hub: Hub, heartbeatMs: number) {
    this.#redis = redis;
    this.#hub = hub;
    this.#heartbeatMs = heartbeatMs;
  }

  /** Starts announcing this instance. */
  start(): void {
    void this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Announces this instance's streams now. Failures wait for the next heartbeat. */
  async beat(): Promise<void> {
    const key = redisKeys.presence(this.instanceId);
    const counts = this.#hub
      .connectionsByUser()
      .flatMap(({ userId, connections }) => [userId, String(connections)]);
    const transaction = this.#redis.multi().del(key);
    if (counts.length > 0) transaction.hset(key, ...counts);

    await transaction
      .pexpire(key, this.#heartbeatMs * 3)
      .zadd(redisKeys.instances, Date.now(), this.instanceId)
      .zremrangebyscore(redisKeys.instances, '-inf', Date.now() - this.#heartbeatMs * 3)
      .exec()
      .catch(() => undefined);
  }

  /** Open streams of one user on every live instance (this one counted live, not stamped). */
  async countFor(userId: string): Promise<number> {
    return unlessRedisIsDown(() => this.#countFor(userId));
  }

  /** Every live instance's streams, and their sum by user. */
  async view(): Promise<ClusterView> {
    return unlessRedisIsDown(() => this.#view());
  }

  async #countFor(userId: string): Promise<number> {
    const others = await this.#otherInstances();
    const pipeline = this.#redis.pipeline();
    for (const instance of others) pipeline.hget(redisKeys.presence(instance), userId);
    const replies = (await pipeline.exec()) ?? [];

    const elsewhere = replies.reduce((total, [, value]) => total + Number(value ?? 0), 0);
    return this.#hub.countFor(userId) + elsewhere;
  }

  async #view(): Promise<ClusterView> {
    const others = await this.#otherInstances();
    const pipeline = this.#redis.pipeline();
    for (const instance of others) pipeline.hgetall(redisKeys.presence(instance));
    const replies = (await pipeline.exec()) ?? [];
    const own = Object.fromEntries(
      this.#hub.connectionsByUser().map(({ userId, connections }) => [userId, String(connections)]),
    );
    const instances = [this.instanceId, ...others];
    const counted = [own, ...replies.map(([, value]) => value as Record<string, string>)];

    const byUser = new Map<string, number>();
    const views = instances.map((instanceId, index) => {
      const counts = counted[index] ?? {};
      let connections = 0;
      for (const [userId, value] of Object.entries(counts)) {
        byUser.set(userId, (byUser.get(userId) ?? 0) + Number(value));
        connections += Number(value);
      }
      return { instanceId, connections, users: Object.keys(counts).length };
    });
    const users = [...byUser].map(([userId, connections]) => ({ userId, connections }));

    return {
      totalUsers: users.length,
      totalConnections: views.reduce((total, view) => total + view.connections, 0),
      users,
      instances: views,
    };
  }

  /** Leaves the cluster at once (a clean shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#redis
      .multi()
      .zrem(redisKeys.instances, this.instanceId)
      .del(redisKeys.presence(this.instanceId))
      .exec()
      .catch(() => undefined);
  }

  async #otherInstances(): Promise<string[]> {
    const since = Date.now() - this.#heartbeatMs * 3;
    const live = await this.#redis.zrangebyscore(redisKeys.instances, since, '+inf');

    return live.filter((instance) => instance !== this.instanceId);
  }
}

// A Redis failure here is the bus being away: answered 503 BUS_UNAVAILABLE, not 500.
async function unlessRedisIsDown<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new BusUnavailableError(error);
  }
}
