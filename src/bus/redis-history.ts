import type { Redis } from 'ioredis';
import type {
  HistoryEvent,
  HistoryLimits,
  HistoryRead,
  HistoryStore,
  HistoryUsage,
} from '../core/history.js';
import { redisKeys } from './redis-keys.js';
import { entryIdOf, eventIdOf } from './redis-scripts.js';

/**
 * The per-user history in Redis streams, as resumes read it. Appends happen inside the emit
 * script (redis-scripts.ts), atomically with the id and the fan-out.
 *
 * The floor below which a resume may have a gap is the user's own floor (what the script
 * trimmed), the epoch (when this Redis began holding history: a Redis that lost its data
 * starts a new one), and the age limit for entries not yet trimmed. When a user's history key
 * has expired altogether, all that is known is that nothing younger than the age limit was
 * kept, so the floor is the age limit itself.
 */
export class RedisHistory implements HistoryStore {
  readonly #redis: Redis;
  readonly #limits: HistoryLimits;

  constructor(redis: Redis, limits: HistoryLimits) {
    this.#redis = redis;
    this.#limits = limits;
  }

  async append(_event: HistoryEvent): Promise<void> {
    throw new Error('With Redis, history is written by the emit script');
  }

  async read(
    userId: string,
    afterId: number,
    now = Date.now(),
    limit = 1000,
  ): Promise<HistoryRead> {
    const key = redisKeys.history(userId);
    const replies = await this.#redis
      .multi()
      .xrange(key, `(${entryIdOf(afterId)}`, '+', 'COUNT', limit)
      .get(redisKeys.floor(userId))
      .exists(key)
      .get(redisKeys.epoch)
      .exec();
    if (!replies || replies.some(([error]) => error)) throw new Error('history read failed');

    const entries = replies[0]![1] as [string, string[]][];
    const ageLimit = (now - this.#limits.ttlMs) * 1000;
    let floor = Math.max(Number(replies[1]![1] ?? 0), Number(replies[3]![1] ?? 0));
    if (replies[2]![1] === 0) floor = Math.max(floor, ageLimit);

    const events: HistoryEvent[] = [];
    for (const [entryId, fields] of entries) {
      const event = toEvent(userId, entryId, fields);
      // Older than the age limit but not trimmed yet: as good as gone.
      if (event.createdAt * 1000 < ageLimit) floor = Math.max(floor, Number(event.id));
      else events.push(event);
    }

    return { floor, events };
  }

  async findByIdempotencyKey(userId: string, key: string): Promise<string | undefined> {
    return (await this.#redis.get(redisKeys.idempotency(userId, key))) ?? undefined;
  }

  async newestId(): Promise<number | undefined> {
    const last = await this.#redis.get(redisKeys.lastId);

    return last === null ? undefined : Number(last);
  }

  // Counting every user's stream would mean scanning the keyspace; Redis's own memory figure
  // is what bounds it, and the global stream's length shows the traffic kept.
  async usage(): Promise<HistoryUsage> {
    const [memory, events] = await Promise.all([
      this.#redis.info('memory'),
      this.#redis.xlen(redisKeys.events),
    ]);
    const bytes = Number(/used_memory:(\d+)/.exec(memory)?.[1] ?? 0);

    return { events, users: -1, bytes };
  }

  async close(): Promise<void> {
    // The connection belongs to the bus.
  }
}

function toEvent(userId: string, entryId: string, fields: string[]): HistoryEvent {
  const values = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2) {
    values.set(fields[index]!, fields[index + 1]!);
  }
  const key = values.get('k');

  return {
    id: String(eventIdOf(entryId)),
    userId,
    type: values.get('t') ?? '',
    json: values.get('j') ?? '{}',
    createdAt: Number(values.get('c') ?? 0),
    ...(key ? { idempotencyKey: key } : {}),
  };
}
