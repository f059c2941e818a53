import { Redis } from 'ioredis';
import type { HistoryLimits } from '../core/history.js';
import type { Logger } from '../log.js';
import { RedisHistory } from './redis-history.js';
import { redisKeys } from './redis-keys.js';
import { EMIT_SCRIPT, START_SCRIPT } from './redis-scripts.js';
import {
  BusUnavailableError,
  type BusEvent,
  type PublishOutcome,
  type PublishRequest,
  type RemoteBus,
} from './remote-bus.js';

/** Settings of the Redis bus. */
export interface RedisBusOptions {
  readonly url: string;
  readonly history: HistoryLimits;
  readonly logger: Logger;
  /** Entries kept in the global stream: enough for any instance to catch up after a blip. */
  readonly streamLength?: number;
}

// How long one XREAD waits for news before asking again (lets close() finish promptly).
const READ_BLOCK_MS = 2000;
const READ_BATCH = 1000;
const RETRY_DELAY_MS = 250;
const COMMAND_TIMEOUT_MS = READ_BLOCK_MS + 3000;
const DEFAULT_STREAM_LENGTH = 100_000;
// A deletion notice that Redis did not take is sent again this often, for this long.
const NOTICE_RETRY_MS = 1000;
const NOTICE_GIVE_UP_MS = 10 * 60_000;
// Notices waiting to be sent again; past this, the oldest is given up (and logged).
const MAX_UNSENT_NOTICES = 10_000;
// User ids named in the log line of the notices left at shutdown.
const MAX_USERS_LOGGED = 100;

type StartCommand = (keys: string[], now: number) => Promise<string>;

type EmitCommand = (keys: string[], ...args: (string | number)[]) => Promise<[string, number]>;

/** Options every Pulse connection to Redis shares: fail fast while disconnected, never queue. */
export function redisConnection(url: string): Redis {
  return new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    // A command whose reply was lost with the connection may have run: sending it again could
    // emit an event twice. It fails instead, and the emitter retries with its idempotency key.
    autoResendUnfulfilledCommands: false,
    retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
    // Longer than the reader's blocking read; a reply this late is taken as lost.
    commandTimeout: COMMAND_TIMEOUT_MS,
  });
}

/**
 * The Redis backplane. Emits run one atomic script (redis-scripts.ts); every instance reads
 * one global stream from where it left off, so it sees each event exactly once and in id
 * order, and after Redis comes back it catches up from the same place. Redis being away is
 * logged once when it goes and once when it returns, not once per event.
 */
export class RedisBus implements RemoteBus {
  readonly history: RedisHistory;
  readonly commands: Redis;
  readonly #reader: Redis;
  readonly #options: RedisBusOptions;
  #listener: (event: BusEvent) => void = () => undefined;
  #userDeletedListener: (userId: string) => void = () => undefined;
  /** Deletion notices not yet taken by Redis: user id → when the first attempt was made. */
  readonly #unsentNotices = new Map<string, number>();
  #sendingNotices = false;
  #noticesStopped = false;
  #noticeRetry: NodeJS.Timeout | undefined;
  #cursor = '$';
  #position = 0;
  #closed = false;
  #started = false;
  readonly #down = new Set<string>();
  #reading: Promise<void> | undefined;

  constructor(options: RedisBusOptions) {
    this.#options = options;
    this.commands = redisConnection(options.url);
    this.#reader = redisConnection(options.url);
    this.commands.defineCommand('pulseEmit', { numberOfKeys: 6, lua: EMIT_SCRIPT });
    this.commands.defineCommand('pulseStart', { numberOfKeys: 2, lua: START_SCRIPT });
    this.history = new RedisHistory(this.commands, options.history);

    const connections = { commands: this.commands, reader: this.#reader };
    for (const [name, connection] of Object.entries(connections)) {
      connection.on('error', (error: Error) => this.#markDown(name, error));
      connection.on('ready', () => this.#markUp(name));
    }
  }

  /**
   * Connects and starts reading. Resolves once connected; when Redis cannot be reached it
   * says so once and resolves anyway, and keeps trying in the background (readiness fails
   * until then).
   */
  async start(): Promise<void> {
    const connected = await Promise.all([this.commands.connect(), this.#reader.connect()]).then(
      () => true,
      (error: unknown) => {
        this.#markDown('commands', error as Error);
        return false;
      },
    );
    if (connected) await this.#startCursor();
    this.#reading = this.#readLoop();
  }

  onEvent(listener: (event: BusEvent) => void): void {
    this.#listener = listener;
  }

  onUserDeleted(listener: (userId: string) => void): void {
    this.#userDeletedListener = listener;
  }

  // The notice travels in the global stream with the events, not on a pub/sub channel: an
  // instance that was cut off from Redis still reads it when it catches up. A notice sent
  // twice does no harm, so one whose answer was lost is simply sent again.
  announceUserDeleted(userId: string): void {
    if (!this.#unsentNotices.has(userId)) this.#unsentNotices.set(userId, Date.now());
    for (const [oldest] of this.#unsentNotices) {
      if (this.#unsentNotices.size <= MAX_UNSENT_NOTICES) break;
      this.#giveUpNotice(oldest);
    }

    void this.#sendNotices();
  }

  position(): number {
    return this.#position;
  }

  ready(): boolean {
    return this.#started && this.commands.status === 'ready' && this.#reader.status === 'ready';
  }

  async publish(request: PublishRequest): Promise<PublishOutcome> {
    if (!this.ready()) throw new BusUnavailableError();
    const { userId, type, json, createdAt, idempotencyKey = '' } = request;
    const { size, ttlMs } = this.#options.history;
    const emit = (this.commands as unknown as { pulseEmit: EmitCommand }).pulseEmit;
    const keys = [
      redisKeys.lastId,
      redisKeys.history(userId),
      redisKeys.floor(userId),
      redisKeys.events,
      redisKeys.idempotency(userId, idempotencyKey),
      redisKeys.epoch,
    ];

    try {
      const [eventId, duplicate] = await emit.call(
        this.commands,
        keys,
        Date.now() * 1000,
        userId,
        type,
        json,
        createdAt,
        idempotencyKey,
        size,
        ttlMs,
        this.#options.streamLength ?? DEFAULT_STREAM_LENGTH,
      );
      return { eventId, duplicate: duplicate === 1 };
    } catch (error) {
      throw this.#commandFailed(error);
    }
  }

  async ping(): Promise<void> {
    if (!this.ready()) throw new BusUnavailableError();
    await this.commands.ping();
  }

  /**
   * Stops sending deletion notices, and logs those not known to have reached Redis: their
   * users' streams on other instances may outlive the accounts. The first step of a
   * shutdown, before anything that may wait on an unanswering Redis.
   */
  stopNotices(): void {
    this.#noticesStopped = true;
    clearTimeout(this.#noticeRetry);
    if (this.#unsentNotices.size === 0) return;

    const userIds = [...this.#unsentNotices.keys()].slice(0, MAX_USERS_LOGGED);
    const count = this.#unsentNotices.size;
    this.#unsentNotices.clear();
    this.#options.logger.error({ count, userIds }, 'deletion notices perhaps not sent');
  }

  async close(): Promise<void> {
    this.stopNotices();
    this.#closed = true;
    this.#reader.disconnect();
    await this.#reading;
    await this.commands.quit().catch(() => this.commands.disconnect());
  }

  // Starts after the newest entry, so this instance hands on what is emitted from now on.
  // Its position is the newest id issued: every later event has a larger one.
  async #startCursor(): Promise<void> {
    const start = (this.commands as unknown as { pulseStart: StartCommand }).pulseStart;
    const issued = await start.call(
      this.commands,
      [redisKeys.epoch, redisKeys.lastId],
      Date.now() * 1000,
    );
    const [newest] = await this.commands.xrevrange(redisKeys.events, '+', '-', 'COUNT', 1);

    this.#cursor = newest ? newest[0] : '0-0';
    this.#position = newest ? Number(fieldOf(newest[1], 'i') ?? issued) : Number(issued);
    this.#started = true;
  }

  async #readLoop(): Promise<void> {
    while (!this.#closed) {
      try {
        if (this.#cursor === '$') await this.#startCursor();
        const reply = await this.#reader.xread(
          'COUNT',
          READ_BATCH,
          'BLOCK',
          READ_BLOCK_MS,
          'STREAMS',
          redisKeys.events,
          this.#cursor === '$' ? '$' : this.#cursor,
        );
        for (const [, entries] of reply ?? []) this.#hand(entries);
      } catch (error) {
        if (this.#closed) return;
        // A read can fail while the connection is fine; only a lost connection is news.
        if (this.#reader.status !== 'ready') this.#markDown('reader', error as Error);
        await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
      }
    }
  }

  #hand(entries: [string, string[]][]): void {
    for (const [entryId, fields] of entries) {
      this.#cursor = entryId;
      const deletedUserId = fieldOf(fields, 'd');
      if (deletedUserId !== undefined) {
        this.#userDeletedListener(deletedUserId);
        continue;
      }

      const id = fieldOf(fields, 'i');
      const userId = fieldOf(fields, 'u');
      if (id === undefined || userId === undefined) continue;

      this.#position = Number(id);
      this.#listener({
        id,
        userId,
        type: fieldOf(fields, 't') ?? '',
        json: fieldOf(fields, 'j') ?? '{}',
      });
    }
  }

  // One at a time, oldest first; on a failure the rest wait for the next attempt.
  async #sendNotices(): Promise<void> {
    if (this.#sendingNotices || this.#noticesStopped) return;
    this.#sendingNotices = true;
    const streamLength = String(this.#options.streamLength ?? DEFAULT_STREAM_LENGTH);

    try {
      for (const [userId, since] of this.#unsentNotices) {
        try {
          if (!this.ready()) throw new BusUnavailableError();
          await this.commands.xadd(redisKeys.events, 'MAXLEN', '~', streamLength, '*', 'd', userId);
          this.#unsentNotices.delete(userId);
        } catch (error) {
          this.#commandFailed(error);
          if (Date.now() - since >= NOTICE_GIVE_UP_MS) this.#giveUpNotice(userId);
          break;
        }
      }
    } finally {
      this.#sendingNotices = false;
    }

    if (this.#unsentNotices.size > 0 && !this.#noticesStopped && !this.#noticeRetry) {
      this.#noticeRetry = setTimeout(() => {
        this.#noticeRetry = undefined;
        void this.#sendNotices();
      }, NOTICE_RETRY_MS);
      this.#noticeRetry.unref();
    }
  }

  // The other instances keep this user's streams until their tokens expire.
  #giveUpNotice(userId: string): void {
    this.#unsentNotices.delete(userId);
    this.#options.logger.error({ userId }, 'deletion notice given up');
  }

  // Replies come back in order: one that never came would be taken by the next command. The
  // connection starts afresh instead (it reconnects by itself).
  #commandFailed(error: unknown): BusUnavailableError {
    if (/timed out/i.test((error as Error).message)) this.commands.disconnect(true);

    return new BusUnavailableError(error);
  }

  // Logged when the first connection goes and when the last one is back: once each way.
  #markDown(connection: string, error: Error): void {
    if (this.#closed || this.#down.has(connection)) return;

    if (this.#down.size === 0) {
      this.#options.logger.error({ err: { message: error.message } }, 'redis unreachable');
    }
    this.#down.add(connection);
  }

  #markUp(connection: string): void {
    if (!this.#down.delete(connection) || this.#down.size > 0) return;

    this.#options.logger.info('redis reachable again');
  }
}

function fieldOf(fields: string[], name: string): string | undefined {
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] === name) return fields[index + 1];
  }

  return undefined;
}
