import { setTimeout as delay } from 'node:timers/promises';

import { loadFitbitFolder, type FitbitData } from './fitbit-data.js';
import { buildTimeline, type TimelineEvent } from './timeline.js';

export { buildTimeline, type TimelineEvent } from './timeline.js';

/**
 * What the replay needs from Pulse. Errors thrown may carry `status` (HTTP status), `code`
 * (`NETWORK_ERROR` and `TIMEOUT` mark transport failures) and `retryAfterMs`; see isTransientError.
 */
export interface ReplayClient {
  ensureUser(email: string, name: string): Promise<{ id: string }>;
  emit(userId: string, eventType: string, data: object): Promise<{ connectionsNotified: number }>;
}

/** Which part of the data set to send: daily summaries, heart-rate samples, or both interleaved. */
export type ReplayMode = 'daily' | 'heartrate' | 'all';

/** Options of runReplay; only `folder` and `client` are required. */
export interface ReplayOptions {
  folder: string;
  client: ReplayClient;
  /** Default `all`. */
  mode?: ReplayMode;
  /** Multiple of real time for heart-rate gaps; 0 or Infinity sends without waiting. Default 1. */
  speed?: number;
  /** Pause after each day's batch of daily events. Default 1000 / speed (0 when unpaced). */
  dayIntervalMs?: number;
  /** Only these participant ids. */
  participants?: string[];
  /** Stop after this many events have been attempted. */
  limit?: number;
  signal?: AbortSignal;
  retry?: RetrySettings;
  onProgress?: (progress: ReplayProgress) => void;
  /** Receives human-readable lines: what was loaded, refusals, failures. */
  print?: (line: string) => void;
  /** Replaces the real timer, for tests; must reject when `signal` aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Bounds on retrying transient failures (429, 503, network errors). */
export interface RetrySettings {
  /** Total tries per request, first one included. Default 3. */
  attempts?: number;
  /** First backoff; doubles per retry. Default 250 ms. */
  baseDelayMs?: number;
  /** Cap on any single wait, Retry-After included. Default 30 s. */
  maxDelayMs?: number;
}

/** Reported after every attempted event. */
export interface ReplayProgress {
  attempted: number;
  total: number;
  eventsSent: number;
  failures: number;
  eventType: string;
  participantId: string;
}

/** The outcome of a replay. */
export interface ReplaySummary {
  eventsSent: number;
  /** Users created or found. */
  users: number;
  /** Events that were not delivered, after retries. */
  failures: number;
  /** Data rows left out while loading. */
  refusedRows: number;
  /** Delivered events by event type. */
  byType: Record<string, number>;
  elapsedMs: number;
  participants: { participantId: string; userId: string; email: string }[];
  /** True when the signal stopped the replay early. */
  aborted: boolean;
  /** The first few failure messages, to tell the operator why. */
  firstErrors: string[];
}

const MAX_REPORTED_ERRORS = 10;

/** The deterministic email of a participant's user, so later runs reuse the same users. */
export function participantEmail(participantId: string): string {
  return `fitbit-${participantId}@participants.pulse.local`;
}

/** The display name of a participant's user. */
export function participantName(participantId: string): string {
  return `Fitbit participant ${participantId}`;
}

/** Loads `options.folder` and replays it; see replayData for the pacing rules. */
export async function runReplay(options: ReplayOptions): Promise<ReplaySummary> {
  const data = await loadFitbitFolder(options.folder);
  const print = options.print ?? (() => {});
  print(
    `loaded ${data.daily.length} daily records and ${data.heartRate.length} heart-rate samples` +
      ` from ${data.filesRead.join(', ')}`,
  );
  for (const row of data.refused.slice(0, MAX_REPORTED_ERRORS)) {
    print(`refused ${row.file} line ${row.line}: ${row.reason}`);
  }
  if (data.refused.length > MAX_REPORTED_ERRORS) {
    print(`refused ${data.refused.length - MAX_REPORTED_ERRORS} more rows`);
  }

  return replayData(data, options);
}

/**
 * Sends the data set's events one at a time in data set time order, so each user receives its
 * events strictly in time order. Pacing: between two heart-rate samples the replay waits their
 * time gap / speed; after each day's batch of daily events it waits `dayIntervalMs`. A failed
 * event is counted and the replay goes on.
 */
export async function replayData(
  data: FitbitData,
  options: Omit<ReplayOptions, 'folder'>,
): Promise<ReplaySummary> {
  const started = performance.now();
  const settings = resolveSettings(options);
  const timeline = buildTimeline(data, settings.mode, options.participants);
  warnUnknownParticipants(data, options.participants, settings.print);

  const run = new ReplayRun(options, settings, Math.min(timeline.length, settings.limit));
  run.summary.refusedRows = data.refused.length;
  await run.play(timeline);
  run.summary.elapsedMs = Math.round(performance.now() - started);

  return run.summary;
}

// The state of one replay: the users made so far and the running counts.
class ReplayRun {
  // A participant whose user could not be made fails its later events without asking again,
  // which would multiply the backoff waits.
  private readonly users = new Map<string, { userId: string } | { error: unknown }>();
  readonly summary: ReplaySummary = {
    eventsSent: 0,
    users: 0,
    failures: 0,
    refusedRows: 0,
    byType: {},
    elapsedMs: 0,
    participants: [],
    aborted: false,
    firstErrors: [],
  };
  private readonly signal: AbortSignal | undefined;

  constructor(
    private readonly options: Omit<ReplayOptions, 'folder'>,
    private readonly settings: ResolvedSettings,
    private readonly total: number,
  ) {
    this.signal = options.signal;
  }

  async play(timeline: TimelineEvent[]): Promise<void> {
    let previous: TimelineEvent | undefined;
    for (const event of timeline.slice(0, this.total)) {
      await this.settings
        .wait(pauseBefore(previous, event, this.settings), this.signal)
        .catch((error: unknown) => {
          if (this.signal?.aborted !== true) {
            throw error;
          }
        });
      if (this.signal?.aborted === true) {
        break;
      }

      await this.deliver(event);
      previous = event;
      this.report(event);
    }

    const attempted = this.summary.eventsSent + this.summary.failures;
    this.summary.aborted = this.signal?.aborted === true && attempted < this.total;
    for (const [participantId, entry] of [...this.users].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if ('userId' in entry) {
        const email = participantEmail(participantId);
        this.summary.participants.push({ participantId, userId: entry.userId, email });
      }
    }
    this.summary.users = this.summary.participants.length;
  }

  private async userIdFor(participantId: string): Promise<string> {
    let entry = this.users.get(participantId);
    if (entry === undefined) {
      const email = participantEmail(participantId);
      const name = participantName(participantId);
      entry = await this.settings
        .retrying(() => this.options.client.ensureUser(email, name))
        .then(
          (user) => ({ userId: user.id }),
          (error: unknown) => ({ error }),
        );
      this.users.set(participantId, entry);
    }
    if ('error' in entry) {
      throw new Error(`no user for participant: ${describe(entry.error)}`);
    }

    return entry.userId;
  }

  private async deliver(event: TimelineEvent): Promise<void> {
    const { client } = this.options;
    try {
      const userId = await this.userIdFor(event.participantId);
      await this.settings.retrying(() => client.emit(userId, event.eventType, event.data));
      this.summary.eventsSent += 1;
      this.summary.byType[event.eventType] = (this.summary.byType[event.eventType] ?? 0) + 1;
    } catch (error) {
      // An abort during a retry wait is the operator stopping the replay, not a failed event.
      if (this.signal?.aborted === true) {
        return;
      }
      this.summary.failures += 1;
      const message = `${event.eventType} for participant ${event.participantId} failed`;
      if (this.summary.firstErrors.length < MAX_REPORTED_ERRORS) {
        this.summary.firstErrors.push(`${message}: ${describe(error)}`);
        this.settings.print(`${message}: ${describe(error)}`);
      }
    }
  }

  private report(event: TimelineEvent): void {
    this.options.onProgress?.({
      attempted: this.summary.eventsSent + this.summary.failures,
      total: this.total,
      eventsSent: this.summary.eventsSent,
      failures: this.summary.failures,
      eventType: event.eventType,
      participantId: event.participantId,
    });
  }
}

interface ResolvedSettings {
  mode: ReplayMode;
  speed: number;
  dayIntervalMs: number;
  limit: number;
  print: (line: string) => void;
  wait: (ms: number, signal?: AbortSignal) => Promise<void>;
  retrying: <T>(action: () => Promise<T>) => Promise<T>;
}

function resolveSettings(options: Omit<ReplayOptions, 'folder'>): ResolvedSettings {
  const mode = options.mode ?? 'all';
  if (!['daily', 'heartrate', 'all'].includes(mode)) {
    throw new Error(`replay mode must be daily, heartrate or all, got ${mode}`);
  }
  const speed = options.speed ?? 1;
  if (Number.isNaN(speed) || speed < 0) {
    throw new Error(`replay speed must be a number >= 0, got ${speed}`);
  }
  const limit = options.limit ?? Infinity;
  if (Number.isNaN(limit) || limit < 0) {
    throw new Error(`replay limit must be a number >= 0, got ${limit}`);
  }

  const paced = speed > 0 && Number.isFinite(speed);
  const dayIntervalMs = options.dayIntervalMs ?? (paced ? 1000 / speed : 0);
  const sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
  const wait = async (ms: number, signal?: AbortSignal): Promise<void> => {
    if (ms > 0) {
      await sleep(ms, signal);
    }
  };
  const retry = { attempts: 3, baseDelayMs: 250, maxDelayMs: 30_000, ...options.retry };
  const retrying = <T>(action: () => Promise<T>): Promise<T> =>
    withRetry(action, retry, wait, options.signal);

  const print = options.print ?? (() => {});

  return { mode, speed, dayIntervalMs, limit, print, wait, retrying };
}

function pauseBefore(
  previous: TimelineEvent | undefined,
  next: TimelineEvent,
  settings: ResolvedSettings,
): number {
  if (previous === undefined) {
    return 0;
  }
  if (previous.day !== undefined) {
    return previous.day === next.day ? 0 : settings.dayIntervalMs;
  }
  // A day's batch follows its last sample at once: the day interval already paces days.
  if (next.day !== undefined || settings.speed === 0 || settings.speed === Infinity) {
    return 0;
  }

  return (next.at - previous.at) / settings.speed;
}

/** True for failures worth retrying: 429, 503, and `NETWORK_ERROR` / `TIMEOUT` codes. */
export function isTransientError(error: unknown): boolean {
  const { status, code } = (error ?? {}) as { status?: unknown; code?: unknown };

  return status === 429 || status === 503 || code === 'NETWORK_ERROR' || code === 'TIMEOUT';
}

async function withRetry<T>(
  action: () => Promise<T>,
  retry: Required<RetrySettings>,
  wait: (ms: number, signal?: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      if (attempt >= retry.attempts || !isTransientError(error) || signal?.aborted === true) {
        throw error;
      }
      const retryAfterMs = (error as { retryAfterMs?: unknown }).retryAfterMs;
      const backoff =
        typeof retryAfterMs === 'number' ? retryAfterMs : retry.baseDelayMs * 2 ** (attempt - 1);
      await wait(Math.min(backoff, retry.maxDelayMs), signal);
    }
  }
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) {
    return String(error);
  }
  const { status, code } = error as { status?: unknown; code?: unknown };
  const tags = [status, code].filter((tag) => tag !== undefined).join(' ');

  return tags === '' ? error.message : `${error.message} (${tags})`;
}

function warnUnknownParticipants(
  data: FitbitData,
  participants: string[] | undefined,
  print: (line: string) => void,
): void {
  const known = new Set([...data.daily, ...data.heartRate].map((row) => row.participantId));
  for (const id of participants ?? []) {
    if (!known.has(id)) {
      print(`participant ${id} is not in the data set`);
    }
  }
}
